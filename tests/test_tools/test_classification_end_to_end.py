"""Classification through the same tools and registry: teacher, KD, SoKD, top-1."""
import os.path as osp

import pytest
import torch

from conftest import as_cli, config_path
from test_end_to_end import _load, test_tool, train_tool

QUICK = 'classification/quickstart/'


@pytest.fixture(scope='module')
def tiny_cls_data(tmp_path_factory):
    """12 training and 6 validation images (2 and 1 per class) of the built-in data."""
    from sokd_mmdet.datasets import generate_classification_dataset
    out = str(tmp_path_factory.mktemp('shapes_cls'))
    generate_classification_dataset(
        out, num_train=12, num_val=6, img_size=32, seed=0, progress=False)
    return out


def _options(data_root, work_dir, iters, teacher_ckpt=None):
    opts = {
        'work_dir': work_dir,
        'log_level': 'WARNING',
        'randomness.seed': 0,
        'train_cfg.max_iters': iters,
        'train_cfg.val_interval': iters,
        'default_hooks.checkpoint.interval': iters,
        'default_hooks.logger.interval': 1
    }
    for split in ('train', 'val', 'test'):
        opts[f'{split}_dataloader.dataset.data_root'] = data_root + '/'
        opts[f'{split}_dataloader.batch_size'] = 4
        opts[f'{split}_dataloader.num_workers'] = 0
        opts[f'{split}_dataloader.persistent_workers'] = False
    if teacher_ckpt:
        opts['model.teacher_ckpt'] = teacher_ckpt
    return opts


@pytest.fixture(scope='module')
def cls_teacher(tiny_cls_data, tmp_path_factory):
    """The quickstart teacher config trained for 2 iterations by tools/train.py."""
    work_dir = str(tmp_path_factory.mktemp('cls_teacher'))
    runner = train_tool.main([
        config_path(QUICK + 'resnet34-w16_cifar_shapes_teacher.py'), '--cfg-options',
        *as_cli(_options(tiny_cls_data, work_dir, iters=2))
    ])
    assert type(runner.model).__name__ == 'ImageClassifier'
    return osp.join(work_dir, 'iter_2.pth')


def _top1_keys_valid(metrics, prefixes):
    for prefix in prefixes:
        assert 0.0 <= metrics[f'{prefix}accuracy/top1'] <= 100.0
        # 6 images: accuracy is a multiple of 1/6
        assert abs(metrics[f'{prefix}accuracy/top1'] * 6 / 100 -
                   round(metrics[f'{prefix}accuracy/top1'] * 6 / 100)) < 1e-4


def test_kd_train_evaluate_student_and_teacher(tiny_cls_data, cls_teacher, tmp_path):
    cfg = config_path(QUICK + 'kd_resnet34_resnet18_cifar_shapes.py')
    opts = _options(tiny_cls_data, str(tmp_path), iters=2, teacher_ckpt=cls_teacher)
    runner = train_tool.main([cfg, '--cfg-options', *as_cli(opts)])
    assert type(runner.model).__name__ == 'SingleTeacherDistill'
    metrics = test_tool.main(
        [cfg, str(tmp_path / 'iter_2.pth'), '--teacher', '--cfg-options', *as_cli(opts)])
    _top1_keys_valid(metrics, ('', 'teacher/'))
    # the teacher evaluated is the checkpoint's, unchanged by distillation
    saved = _load(cls_teacher)['state_dict']
    state = _load(str(tmp_path / 'iter_2.pth'))['state_dict']
    assert all(torch.equal(state[f'teacher.{k}'], v) for k, v in saved.items())


@pytest.mark.parametrize('name', ['sokd_kd', 'sokd_fitnet'])
def test_sokd_train_resume_evaluate(name, tiny_cls_data, cls_teacher, tmp_path):
    cfg = config_path(QUICK + f'{name}_resnet34_resnet18_cifar_shapes.py')
    opts = _options(tiny_cls_data, str(tmp_path), iters=2, teacher_ckpt=cls_teacher)
    runner = train_tool.main([cfg, '--cfg-options', *as_cli(opts)])
    model = runner.model
    assert type(model).__name__ == 'SoKD' and model.distiller.dam.supervision == 'mutual'
    first = _load(str(tmp_path / 'iter_2.pth'))
    opts.update({
        'train_cfg.max_iters': 3,
        'train_cfg.val_interval': 3,
        'default_hooks.checkpoint.interval': 3
    })
    runner = train_tool.main(
        [cfg, '--resume',
         str(tmp_path / 'iter_2.pth'), '--cfg-options', *as_cli(opts)])
    assert runner.iter == 3
    last = _load(str(tmp_path / 'iter_3.pth'))
    state = last['state_dict']
    assert set(last['optimizer']) == {'student', 'policy'}
    assert int(state['train_iter']) == 3
    # three policy steps moved the sub-policy weights away from equal
    assert state['distiller.dafa.weights'].abs().max() > 0
    assert not torch.equal(first['state_dict']['distiller.dafa.weights'],
                           state['distiller.dafa.weights'])
    metrics = test_tool.main(
        [cfg, str(tmp_path / 'iter_3.pth'), '--teacher', '--cfg-options', *as_cli(opts)])
    _top1_keys_valid(metrics, ('', 'teacher/'))
