"""Stopping and resuming a SoKD run gives what the uninterrupted run gives (deterministic)."""
import os.path as osp

import numpy as np
import torch

from conftest import as_cli, config_path, tiny_options
from test_end_to_end import _load, train_tool

CFG = config_path('quickstart/sokd_cwd_retinanet_r34_r18_shapes.py')


def _history(runner, key):
    """The values a run logged for ``key`` (the message hub keeps every iteration's)."""
    return runner.message_hub.get_scalar(key).data[0]


def _run(tiny_data, teacher_ckpt, work_dir, stop=None, resume=None):
    opts = tiny_options(tiny_data, work_dir, iters=4, teacher_ckpt=teacher_ckpt)
    opts.update({
        'randomness.deterministic': True,
        'default_hooks.checkpoint.interval': 2,
        'train_cfg.val_interval': 4
    })
    if stop is not None:  # an interrupted run: same schedule, stopped after `stop` iters
        opts['train_cfg.max_iters'] = stop
    args = [CFG, '--cfg-options', *as_cli(opts)]
    if resume:
        args[1:1] = ['--resume', resume]
    return train_tool.main(args)


def test_resume_reproduces_the_uninterrupted_run(tiny_data, teacher_ckpt, tmp_path):
    full_dir, split_dir = str(tmp_path / 'full'), str(tmp_path / 'split')
    full = _run(tiny_data, teacher_ckpt, full_dir)
    full_metrics = full.message_hub.get_scalar('val/coco/bbox_mAP').current()
    _run(tiny_data, teacher_ckpt, split_dir, stop=2)
    resumed = _run(tiny_data, teacher_ckpt, split_dir, resume=osp.join(split_dir, 'iter_2.pth'))
    assert resumed.iter == 4
    a, b = _load(osp.join(full_dir, 'iter_4.pth')), _load(osp.join(split_dir, 'iter_4.pth'))
    for key, value in a['state_dict'].items():
        torch.testing.assert_close(b['state_dict'][key], value, rtol=1e-5, atol=1e-6, msg=key)
    for name in ('student', 'policy'):
        sa, sb = a['optimizer'][name]['state'], b['optimizer'][name]['state']
        assert sa.keys() == sb.keys()
        for pid in sa:
            for k, v in sa[pid].items():
                torch.testing.assert_close(sb[pid][k], v, rtol=1e-5, atol=1e-6)
    # the iterations after the resume log the same losses and policy rewards
    for key in ('train/loss', 'train/policy/reward', 'train/distill.loss_fpn0_masked'):
        np.testing.assert_allclose(
            _history(resumed, key)[-2:],
            _history(full, key)[-2:],
            rtol=1e-5,
            atol=1e-7,
            err_msg=key)
    assert abs(resumed.message_hub.get_scalar('val/coco/bbox_mAP').current() - full_metrics) < 1e-6
