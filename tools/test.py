"""Evaluate a checkpoint (COCO mAP with MMDetection's CocoMetric for detection configs).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--teacher] [--cfg-options ...]

For a distillation config the student is evaluated; ``--teacher`` evaluates the teacher as
well (metrics prefixed ``teacher/``).
"""
import argparse
import os
import os.path as osp
import sys

import sokd_mmdet  # noqa: F401

# isort: split
from mmengine.config import DictAction
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from sokd_mmdet.apis import ConfigError, check_config, init_cpu_distributed, load_config
from sokd_mmdet.engine import CheckpointCoverageError, load_with_coverage


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Evaluate a (distilled) detector')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the evaluation log goes')
    parser.add_argument(
        '--teacher',
        action='store_true',
        help='also evaluate the teacher of a distillation config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        if not osp.isfile(args.checkpoint):
            raise ConfigError(f'checkpoint {args.checkpoint} does not exist')
        cfg = load_config(args.config, args.cfg_options, args.work_dir, launcher=args.launcher)
        check_config(cfg, splits=('test', ))
        if args.teacher:
            if 'teacher' not in cfg.model:
                raise ConfigError(f'--teacher: {args.config} is not a distillation config')
            cfg.test_cfg = dict(type='mmrazor.TeacherStudentTestLoop')
    except ConfigError as err:
        sys.exit(f'error: {err}')
    init_cpu_distributed(cfg)
    cfg.load_from = None  # loaded below, with the coverage check
    runner = Runner.from_cfg(cfg)
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    try:
        load_with_coverage(model, args.checkpoint, what='checkpoint')
    except CheckpointCoverageError as err:
        sys.exit(f'error: {err}')
    metrics = runner.test()
    return metrics


if __name__ == '__main__':
    main()
