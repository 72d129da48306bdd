"""The named-optimiser lookup shared by SoKD, TST and ATF."""
import pytest
import torch
from mmengine.optim import OptimWrapper, OptimWrapperDict

from sokd_mmdet.models.steps.optim_entries import optim_entry


def _wrapper():
    return OptimWrapper(torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1))


def test_entry_is_returned_and_missing_ones_name_what_to_add():
    student, teacher = _wrapper(), _wrapper()
    optim = OptimWrapperDict(student=student, teacher=teacher)
    assert optim_entry(optim, 'teacher', 'ATF', 'teacher=...') is teacher
    assert optim_entry(optim, 'student', 'ATF', 'student=...') is student
    with pytest.raises(KeyError) as err:
        optim_entry(optim, 'augmenter', 'TST', "augmenter=dict(optimizer=dict(type='Adam'))",
                    ' (it trains the augmenter)')
    message = err.value.args[0]
    assert 'TST needs an optim_wrapper entry named "augmenter" (it trains the augmenter)' \
        in message
    assert "DistillOptimWrapperConstructor' with augmenter=dict(optimizer=dict(type='Adam'))" \
        in message
    # a single optimiser (no dict) has no named entries at all
    with pytest.raises(KeyError, match='ATF needs an optim_wrapper entry named "student"'):
        optim_entry(student, 'student', 'ATF', 'student=...')
