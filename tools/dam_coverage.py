"""What DAM's mask keeps of each distilled level, and how students match the teacher there.

    python tools/dam_coverage.py CONFIG CHECKPOINT [--student-from NAME=CKPT ...]
        [--split train] [--images 32] [--levels 0 1 2] [--seed 0] [--device cpu]
        [--cfg-options k=v ...]

CONFIG is a SoKD config with a DAM and CHECKPOINT a ``tools/train.py`` checkpoint of it.
On ``--images`` images of ``--split`` (the training split by default) it prints, per
distilled level:

- ``area``: the share of the map the DAM mask keeps (mean over images);
- ``gt recall``: the share of ground-truth boxes whose centre cell the mask covers;
- ``T mass out``: for a loss with a softmax over positions (one with a ``tau``, e.g. CWD),
  the share of the teacher's distribution that the masked loss ``L(M S, M T)`` puts on the
  zeroed positions outside the mask;
- for the checkpoint's student and every ``--student-from`` student (e.g. a CWD run's
  ``NAME=work_dirs/cwd/iter_1000.pth``, read into the same model), the level's base loss
  against the clean teacher feature on the whole map (``full``), inside the mask
  (``masked``, what SoKD trains on) and outside it (``outside``).

The mask is always the checkpoint's own (its DAM on its student and teacher), so every
student is measured on the same areas.
"""
import argparse
import os.path as osp
import sys

import sokd_mmdet  # noqa: F401  (compatibility layer and registration)

# isort: split
import torch
from mmengine.config import DictAction
from mmengine.runner import CheckpointLoader
from mmengine.runner.utils import set_random_seed

from sokd_mmdet.analysis import base_losses, inspect_batch, level_mappings
from sokd_mmdet.analysis.dam_coverage import gt_centre_recall, region_losses, spatial_mass_outside
from sokd_mmdet.apis import ConfigError

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # also when loaded from elsewhere
from visualize_sokd import SPLITS, batches, build_model, prepare  # noqa: E402

# the student-side weights a --student-from checkpoint brings: the student and connectors
STUDENT_KEYS = ('architecture.', 'distiller.connectors.')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Measure DAM's mask and the students in it")
    parser.add_argument('config', help='SoKD config file with a DAM')
    parser.add_argument('checkpoint', help='checkpoint of that config (tools/train.py)')
    parser.add_argument(
        '--student-from',
        nargs='+',
        default=[],
        metavar='NAME=CKPT',
        help="other runs' students to measure on the same masks")
    parser.add_argument('--split', choices=SPLITS, default='train')
    parser.add_argument('--images', type=int, default=32)
    parser.add_argument(
        '--levels', type=int, nargs='+', default=None, help='distilled levels (default: all)')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help="seed of the split's random "
        'transforms (the same images every run)')
    parser.add_argument('--device', default=None)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def other_students(specs, state):
    """``{name: state}``: ``state`` with each ``NAME=CKPT``'s student-side weights."""
    students = {}
    for spec in specs:
        name, sep, path = spec.partition('=')
        if not sep or not name or not path:
            raise ConfigError(f'--student-from {spec!r}: expected NAME=CHECKPOINT')
        if name == 'checkpoint' or name in students:
            raise ConfigError(f'--student-from: the name {name!r} is taken')
        if not osp.isfile(path):
            raise ConfigError(f'--student-from {name}: checkpoint {path} does not exist')
        other = CheckpointLoader.load_checkpoint(path, map_location='cpu')
        other = other.get('state_dict', other)
        student = {k: v for k, v in other.items() if k.startswith(STUDENT_KEYS)}
        if not any(k.startswith('architecture.') for k in student):
            raise ConfigError(f'--student-from {name}: {path} holds no distilled student '
                              "('architecture.*' weights): use a tools/train.py checkpoint "
                              'of a distillation config')
        students[name] = {**state, **student}
    return students


def measure(models, cfg, split, num_images, levels):
    """Per level: mask area, GT recall, teacher mass outside, each student's region losses."""
    main = models['checkpoint']
    losses = base_losses(main.distiller, levels)
    sums = {
        lv:
        dict(
            area=[],
            recall=[],
            mass_out=[],
            **{name: {
                k: []
                for k in ('full', 'masked', 'outside')
            }
               for name in models})
        for lv in levels
    }
    done = 0
    for batch in batches(cfg, split, num_images):
        n = min(num_images - done, len(batch['inputs']))
        batch = {key: value[:n] for key, value in batch.items()}
        per_model = {
            name: inspect_batch(m, batch, levels, seed=0)['images']
            for name, m in models.items()
        }
        for i, item in enumerate(per_model['checkpoint']):
            for lv in levels:
                rec, acc = item['levels'][lv], sums[lv]
                mask = torch.from_numpy(rec['mask'])[None, None].float()
                feat_t = torch.from_numpy(rec['feat_t'])[None]
                acc['area'].append(float(mask.mean()))
                if item['gt_boxes'] is not None:
                    r = gt_centre_recall(mask[0, 0], torch.from_numpy(item['gt_boxes']),
                                         rec['stride'])
                    if r is not None:
                        acc['recall'].append(r)
                tau = getattr(losses[lv], 'tau', None)
                if tau is not None:
                    acc['mass_out'].append(float(spatial_mass_outside(feat_t, mask, tau)))
                for name, images in per_model.items():
                    feat_s = torch.from_numpy(images[i]['levels'][lv]['feat_s'])[None]
                    with torch.no_grad():
                        terms = region_losses(losses[lv], feat_s, feat_t, mask)
                    for k, v in terms.items():
                        acc[name][k].append(float(v))
        done += n
        if done >= num_images:
            break

    def mean(values):
        return sum(values) / len(values) if values else None

    return {
        lv: {
            k: ({
                kk: mean(vv)
                for kk, vv in v.items()
            } if isinstance(v, dict) else mean(v))
            for k, v in acc.items()
        }
        for lv, acc in sums.items()
    }, done


def _f(value, digits=3):
    return '-' if value is None else f'{value:.{digits}f}'


def main(argv=None):
    """Print the table; returns {level: {'area', 'recall', 'mass_out', <student>: {...}}}."""
    args = parse_args(argv)
    try:
        if args.images < 1:
            raise ConfigError(f'--images must be >= 1, got {args.images}')
        cfg, state = prepare(args)
        others = other_students(args.student_from, state)
        models = {'checkpoint': build_model(cfg, state, args.device)}
        if getattr(models['checkpoint'].distiller, 'dam', None) is None:
            raise ConfigError(f'{args.config} has no DAM (model.distiller.dam): no mask to '
                              'measure')
        available = sorted(level_mappings(models['checkpoint'].distiller))
        levels = available if args.levels is None else args.levels
        missing = [lv for lv in levels if lv not in available]
        if missing:
            raise ConfigError(f'--levels {missing}: the model distils levels {available}')
        for name, other in others.items():
            models[name] = build_model(cfg, other, args.device)
    except ConfigError as err:
        sys.exit(f'error: {err}')
    set_random_seed(args.seed)  # the split's random flips: the same images every run
    table, done = measure(models, cfg, args.split, args.images, levels)
    print(f'{done} {args.split} images; losses against the clean teacher feature')
    print(f'{"level":>5} {"area":>6} {"gt recall":>9} {"T mass out":>10}  '
          f'{"student":<16} {"full":>8} {"masked":>8} {"outside":>8}')
    for lv in levels:
        row = table[lv]
        for j, name in enumerate(models):
            head = (f'{lv:>5} {_f(row["area"]):>6} {_f(row["recall"]):>9} '
                    f'{_f(row["mass_out"]):>10}') if j == 0 else ' ' * 33
            r = row[name]
            print(f'{head}  {name:<16} {_f(r["full"]):>8} {_f(r["masked"]):>8} '
                  f'{_f(r["outside"]):>8}')
    return table


if __name__ == '__main__':
    main()
