"""FiniteLossHook and the finite-loss check it shares with SoKD's step."""
import math
from types import SimpleNamespace

import pytest
import torch

from sokd_mmdet.engine import FiniteLossHook
from sokd_mmdet.models.steps.finite_losses import check_finite_losses, non_finite_terms


def test_non_finite_terms_finds_nan_and_inf_in_loss_keys_only():
    losses = {
        'loss': torch.tensor(1.0),
        'student.loss_cls': [torch.tensor(0.5), torch.tensor(float('nan'))],
        'distill.loss_cwd': torch.tensor([1.0, float('inf')]),
        'student.acc': torch.tensor(float('nan')),  # not a loss: never stops a run
        'loss_py': -math.inf,
    }
    bad = non_finite_terms(losses)
    assert list(bad) == ['student.loss_cls', 'distill.loss_cwd', 'loss_py']
    assert math.isnan(bad['student.loss_cls']) and bad['distill.loss_cwd'] == math.inf
    check_finite_losses({'loss': torch.tensor(2.0), 'acc': float('nan')}, 0)  # no error


def test_hook_stops_the_run_naming_term_and_iteration():
    hook = FiniteLossHook()
    assert hook.priority == 'VERY_HIGH'  # before CheckpointHook and LoggerHook
    runner = SimpleNamespace(iter=41)
    hook.after_train_iter(runner, 0, outputs={'loss': torch.tensor(1.0)})
    with pytest.raises(
            FloatingPointError,
            match=r'at iteration 42: non-finite loss term\(s\) '
            r'distill.loss_fpn0 = nan; no checkpoint is written'):
        hook.after_train_iter(
            runner,
            0,
            outputs={
                'loss': torch.tensor(1.0),
                'distill.loss_fpn0': torch.tensor(math.nan)
            })
