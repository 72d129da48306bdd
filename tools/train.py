"""Train a detector, or distil one, from a config (mirrors MMDetection's tools/train.py).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
                                 [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse
import os
import sys

import sokd_mmdet  # noqa: F401  (compatibility layer first, then the registered modules)

# isort: split
from mmengine.config import DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from sokd_mmdet.apis import (ConfigError, check_config, check_resume, init_cpu_distributed,
                             load_config)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train or distil a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument('--amp', action='store_true', help='mixed-precision training')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or (no value) from the latest in the work dir')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. train_cfg.max_iters=100')
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
        cfg = load_config(args.config, args.cfg_options, args.work_dir, args.amp, args.resume,
                          args.launcher)
        check_config(cfg, splits=('train', 'val'))
        check_resume(cfg)
    except ConfigError as err:
        sys.exit(f'error: {err}')
    init_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()
    return runner


if __name__ == '__main__':
    main()
