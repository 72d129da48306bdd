"""Test-only hook: after training, each rank saves its SoKD model state for comparison."""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmrazor.registry import HOOKS


@HOOKS.register_module()
class RankStateDumpHook(Hook):
    """Write ``<work_dir>/rank<r>.pth`` with the model's state_dict on every rank."""

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        state = {
            k: v.detach().cpu()
            for k, v in model.state_dict().items() if not k.startswith('teacher.')
        }
        torch.save(state, osp.join(runner.work_dir, f'rank{get_rank()}.pth'))
