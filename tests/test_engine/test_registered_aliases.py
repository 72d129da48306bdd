"""The method-neutral names of the optimiser constructor and the train-step DDP wrapper, and
the SoKD-specific names that earlier configs use."""
import pytest
import torch
from mmengine.optim import OptimWrapperDict
from mmengine.registry import DefaultScope
from mmrazor.registry import MODEL_WRAPPERS, OPTIM_WRAPPER_CONSTRUCTORS
from torch import nn

from sokd_mmdet.engine import DistillDataParallel, DistillOptimWrapperConstructor


@pytest.mark.parametrize('name', ['DistillOptimWrapperConstructor', 'SoKDOptimWrapperConstructor'])
def test_both_constructor_names_build_the_same_optimisers(name):
    assert OPTIM_WRAPPER_CONSTRUCTORS.get(name) is DistillOptimWrapperConstructor
    model = nn.Module()
    model.architecture, model.distiller = nn.Linear(2, 2), nn.Module()
    with DefaultScope.overwrite_default_scope('mmrazor'):  # as configs name it: mmrazor.<name>
        constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
            dict(
                type=name,
                optim_wrapper_cfg=dict(student=dict(optimizer=dict(type='SGD', lr=0.1)))))
        wrappers = constructor(model)
    assert isinstance(wrappers, OptimWrapperDict) and list(wrappers.keys()) == ['student']
    params = wrappers['student'].optimizer.param_groups[0]['params']
    assert {id(p) for p in params} == {id(p) for p in model.architecture.parameters()}


@pytest.mark.parametrize('name', ['DistillDataParallel', 'SoKDDistributedDataParallel'])
def test_both_wrapper_names_wrap_and_delegate(name):
    assert MODEL_WRAPPERS.get(name) is DistillDataParallel
    model = nn.Linear(2, 1)
    with DefaultScope.overwrite_default_scope('mmrazor'):
        wrapper = MODEL_WRAPPERS.build(dict(type=name, module=model))
    x = torch.ones(3, 2)
    torch.testing.assert_close(wrapper(x), model(x))
