"""TST, ATF and ATF + SoKD through tools/train.py: the optimisers, their logs, the teacher's
fate."""
import os.path as osp

import torch

from conftest import as_cli, config_path, tiny_options
from test_end_to_end import _load, train_tool


def test_tst_trains_its_augmenter_and_logs_it(tiny_data, teacher_ckpt, tmp_path):
    opts = tiny_options(tiny_data, str(tmp_path), iters=2, teacher_ckpt=teacher_ckpt)
    opts['custom_hooks.0.interval'] = 1
    runner = train_tool.main([
        config_path('quickstart/tst_cwd_retinanet_r34_r18_shapes.py'), '--cfg-options',
        *as_cli(opts)
    ])
    assert type(runner.model).__name__ == 'TST'
    ckpt = _load(str(tmp_path / 'iter_2.pth'))
    assert set(ckpt['optimizer']) == {'student', 'augmenter'}
    # the learned offsets start at 0 (the prior); two augmenter steps moved them
    state = ckpt['state_dict']
    assert state['augmenter.prob_offsets'].abs().max() > 0
    assert state['augmenter.magnitude_offsets'].abs().max() > 0
    assert osp.isfile(str(tmp_path / 'augmenter_history.json'))
    assert osp.isfile(str(tmp_path / 'augmenter.png'))
    saved = _load(teacher_ckpt)['state_dict']
    assert all(torch.equal(state[f'teacher.{k}'], v) for k, v in saved.items())


def test_atf_fine_tunes_the_teacher(tiny_data, teacher_ckpt, tmp_path):
    opts = tiny_options(tiny_data, str(tmp_path), iters=2, teacher_ckpt=teacher_ckpt)
    runner = train_tool.main([
        config_path('quickstart/atf_retinanet_r34_r18_shapes.py'), '--cfg-options', *as_cli(opts)
    ])
    assert type(runner.model).__name__ == 'ATF'
    ckpt = _load(str(tmp_path / 'iter_2.pth'))
    assert set(ckpt['optimizer']) == {'student', 'teacher'}
    saved = _load(teacher_ckpt)['state_dict']
    state = ckpt['state_dict']
    changed = [
        k for k, v in saved.items() if v.is_floating_point() and 'running_' not in k
        and not torch.equal(state[f'teacher.{k}'], v)
    ]
    assert any(k.startswith('bbox_head.') for k in changed)
    assert any(k.startswith('backbone.') for k in changed)
    # BN statistics of the teacher stay those it was trained with
    stats = [k for k in saved if 'running_' in k]
    assert stats and all(torch.equal(state[f'teacher.{k}'], saved[k]) for k in stats)


def test_atf_sokd_fine_tunes_only_the_teacher_head(tiny_data, teacher_ckpt, tmp_path):
    opts = tiny_options(tiny_data, str(tmp_path), iters=2, teacher_ckpt=teacher_ckpt)
    runner = train_tool.main([
        config_path('quickstart/atf_sokd_cwd_retinanet_r34_r18_shapes.py'), '--cfg-options',
        *as_cli(opts)
    ])
    assert type(runner.model).__name__ == 'ATFSoKD'
    ckpt = _load(str(tmp_path / 'iter_2.pth'))
    assert set(ckpt['optimizer']) == {'student', 'policy', 'teacher'}
    saved = _load(teacher_ckpt)['state_dict']
    state = ckpt['state_dict']
    changed = {k for k, v in saved.items() if not torch.equal(state[f'teacher.{k}'], v)}
    assert {'bbox_head.retina_cls.weight', 'bbox_head.retina_reg.weight'} <= changed
    assert all(k.startswith('bbox_head.') for k in changed)  # backbone, neck, BN stats stay
    assert int(state['train_iter']) == 2
    assert osp.isfile(str(tmp_path / 'policy_history.json'))
