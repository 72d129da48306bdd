"""How far each DAFA op moves the distillation targets, next to the student's own gap.

    python tools/dafa_target_shift.py CONFIG CHECKPOINT [--split train] [--images 16]
        [--magnitude 0.5] [--draws 8] [--levels 0 1 2] [--seed 0] [--device cpu]
        [--cfg-options k=v ...]

For every op of the model's DAFA policy and every distilled level it prints the base
loss (e.g. CWD) of the student against the clean teacher feature, against the op-augmented
one, and between the augmented and the clean teacher feature, averaged over ``--draws``
random draws of the op at ``--magnitude`` on ``--images`` images of ``--split`` (the
training split by default: what the student was taught from). An op whose target move is
as large as the student's whole gap teaches something else than the teacher knows.

CONFIG is a SoKD config and CHECKPOINT a ``tools/train.py`` checkpoint of it (teacher,
student, connectors and policy). The loss is the base loss that SoKD wraps at each level.
"""
import argparse
import os.path as osp
import sys

import sokd_mmdet  # noqa: F401  (compatibility layer and registration)

# isort: split
import torch
from mmengine.config import DictAction
from mmengine.runner.utils import set_random_seed

from sokd_mmdet.analysis import base_losses, inspect_batch, level_mappings, op_target_shift
from sokd_mmdet.apis import ConfigError

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # also when loaded from elsewhere
from visualize_sokd import SPLITS, batches, build_model, prepare  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Measure how far DAFA ops move the targets')
    parser.add_argument('config', help='SoKD config file')
    parser.add_argument('checkpoint', help='checkpoint of that config (tools/train.py)')
    parser.add_argument('--split', choices=SPLITS, default='train')
    parser.add_argument('--images', type=int, default=16)
    parser.add_argument(
        '--magnitude',
        type=float,
        default=0.5,
        help="the ops' magnitude in [0, 1] (DAFA's initial value: 0.5)")
    parser.add_argument('--draws', type=int, default=8, help='random draws per op')
    parser.add_argument(
        '--levels', type=int, nargs='+', default=None, help='distilled levels (default: all)')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help="seed of the pipeline's random transforms and of the draws")
    parser.add_argument('--device', default=None)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def collect_features(model, loader, levels, num_images):
    """Student (after its connector) and teacher features per level, ``num_images`` images."""
    feats, done = {lv: ([], []) for lv in levels}, 0
    for batch in loader:
        n = min(num_images - done, len(batch['inputs']))
        batch = {key: value[:n] for key, value in batch.items()}
        for item in inspect_batch(model, batch, levels)['images']:
            for lv, maps in item['levels'].items():
                feats[lv][0].append(torch.from_numpy(maps['feat_s']))
                feats[lv][1].append(torch.from_numpy(maps['feat_t']))
        done += n
        if done >= num_images:
            break
    return {lv: (torch.stack(s), torch.stack(t)) for lv, (s, t) in feats.items()}


def main(argv=None):
    """Print the table; returns {(level, op): op_target_shift's dict}."""
    args = parse_args(argv)
    try:
        if not 0 <= args.magnitude <= 1:
            raise ConfigError(f'--magnitude must be in [0, 1], got {args.magnitude}')
        cfg, state = prepare(args)
        model = build_model(cfg, state, args.device)
        dafa = getattr(model.distiller, 'dafa', None)
        if dafa is None:
            raise ConfigError(f'{args.config} has no DAFA policy (model.distiller.dafa)')
        available = sorted(level_mappings(model.distiller))
        levels = available if args.levels is None else args.levels
        missing = [lv for lv in levels if lv not in available]
        if missing:
            raise ConfigError(f'--levels {missing}: the model distils levels {available}')
    except ConfigError as err:
        sys.exit(f'error: {err}')
    set_random_seed(args.seed)  # the split's random flips: the same images every run
    feats = collect_features(model, batches(cfg, args.split, args.images), levels, args.images)
    losses = base_losses(model.distiller, levels)
    generator = torch.Generator().manual_seed(args.seed)
    rows = {}
    print(f'{args.images} {args.split} images, magnitude {args.magnitude}, {args.draws} '
          'draws per op; loss(S, T) is the student\'s gap to the clean teacher')
    print(f'{"level":>5} {"op":<15} {"loss(S,T)":>10} {"loss(S,op T)":>13} '
          f'{"loss(op T,T)":>13} {"move/gap":>9}')
    for lv in levels:
        feat_s, feat_t = feats[lv]
        for op in dafa.feature_ops:
            r = rows[(lv, op.name)] = op_target_shift(losses[lv], feat_s, feat_t, op,
                                                      args.magnitude, args.draws, generator)
            print(f'{lv:>5} {op.name:<15} {r["clean"]:>10.4f} {r["augmented"]:>13.4f} '
                  f'{r["target_move"]:>13.4f} {r["target_move"] / r["clean"]:>9.2f}')
    return rows


if __name__ == '__main__':
    main()
