"""Shared fixtures: a tiny built-in data set, a teacher checkpoint, tiny-run config options.

Everything is generated (no download) and sized so that the whole suite runs on 2 CPU
cores in minutes.
"""
import os
import os.path as osp
import sys

import pytest
import torch

import sokd_mmdet  # noqa: F401  (compatibility layer and registration)

# isort: split

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the benchmark/ package is not installed (development tooling, as MMDetection's
# .dev_scripts/): its tests import it from this checkout, as tools/benchmark.py does
sys.path.insert(0, ROOT)
IMG = 128  # images of the tiny data set; RetinaNet's P7 is still 1x1
os.environ.setdefault('MPLBACKEND', 'Agg')


def config_path(name: str) -> str:
    """Absolute path of a config of the repo, e.g. ``quickstart/cwd_...py``."""
    return osp.join(ROOT, 'configs', name)


def tiny_options(data_root: str, work_dir: str, iters: int = 2, teacher_ckpt: str = None) -> dict:
    """Config overrides for a quickstart config: tiny data, batch 2, ``iters`` iterations.

    The keys are ``--cfg-options`` keys; pass the dict to ``Config.merge_from_dict`` or
    turn it into ``k=v`` strings with :func:`as_cli`.
    """
    opts = {
        'work_dir': work_dir,
        'log_level': 'WARNING',
        'train_cfg.max_iters': iters,
        'train_cfg.val_interval': iters,
        'default_hooks.checkpoint.interval': iters,
        'default_hooks.logger.interval': 1,
        'randomness.seed': 0
    }
    for split in ('train', 'val', 'test'):
        opts[f'{split}_dataloader.dataset.data_root'] = data_root + '/'
        opts[f'{split}_dataloader.batch_size'] = 2
        opts[f'{split}_dataloader.num_workers'] = 0
        opts[f'{split}_dataloader.persistent_workers'] = False
    # Resize is the 3rd step of the train pipeline and the 2nd of the test pipeline
    opts['train_dataloader.dataset.pipeline.2.scale'] = (IMG, IMG)
    opts['val_dataloader.dataset.pipeline.1.scale'] = (IMG, IMG)
    opts['test_dataloader.dataset.pipeline.1.scale'] = (IMG, IMG)
    for split in ('val', 'test'):
        opts[f'{split}_evaluator.ann_file'] = osp.join(data_root, 'annotations',
                                                       'instances_val.json')
    if teacher_ckpt:
        opts['model.teacher_ckpt'] = teacher_ckpt
    # a few iterations from scratch score below mmdet's 0.05 threshold: keep every box so
    # that COCO evaluation has detections to evaluate
    for model in ('architecture', 'teacher'):
        opts[f'model.{model}.test_cfg.score_thr'] = 0.0
        # no pretrained backbone weights in the tests (tests/test_tools/test_pretrain_backbones.py
        # covers that path); the teacher's weights come from teacher_ckpt
        opts[f'model.{model}.backbone.init_cfg'] = None
    return opts


def as_cli(opts: dict) -> list:
    """``--cfg-options`` strings for a dict of overrides."""

    def fmt(v):
        if isinstance(v, tuple):
            return '(' + ','.join(str(x) for x in v) + ')'
        return str(v)

    return [f'{k}={fmt(v)}' for k, v in opts.items()]


@pytest.fixture(scope='session')
def tiny_data(tmp_path_factory):
    """8 training and 4 validation images of the built-in data set at 128x128."""
    from sokd_mmdet.datasets import generate_detection_dataset
    out = str(tmp_path_factory.mktemp('shapes'))
    generate_detection_dataset(
        out, num_train=8, num_val=4, img_size=(IMG, IMG), seed=0, progress=False)
    return out


@pytest.fixture(scope='session')
def teacher_ckpt(tmp_path_factory):
    """A (randomly initialised) quickstart teacher saved as an MMEngine checkpoint."""
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    cfg = Config.fromfile(config_path('quickstart/retinanet_r34_shapes_teacher.py'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    path = str(tmp_path_factory.mktemp('teacher') / 'teacher.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


@pytest.fixture(scope='module')
def one_thread():
    """Tiny tensors: intra-op threads only add synchronisation, which on a shared 2-core
    machine costs ten times the work itself. Use with ``pytestmark =
    pytest.mark.usefixtures('one_thread')``; restored after the module."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def shrink_retinanet(detector: dict, width: int = 8) -> None:
    """Shrink a quickstart RetinaNet config in place: ResNet-18 of base width ``width``
    (stages of 1/2/4/8x), FPN and head of ``2 * width`` channels, one conv per head branch."""
    detector['backbone'].update(depth=18, base_channels=width)
    detector['neck']['in_channels'] = [2 * width, 4 * width, 8 * width]
    detector['neck']['out_channels'] = 2 * width
    detector['bbox_head'].update(in_channels=2 * width, feat_channels=2 * width, stacked_convs=1)
