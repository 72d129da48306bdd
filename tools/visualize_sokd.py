"""Draw what SoKD sees on a few images: DAM's regions, the features, DAFA's augmentation.

    python tools/visualize_sokd.py CONFIG CHECKPOINT [--images N] [--split val]
        [--out-dir DIR] [--levels 0 1 2] [--seed 0] [--device cpu] [--cfg-options k=v ...]

Writes, per image ``i`` and FPN level ``l``, to ``--out-dir`` (default
``<checkpoint folder>/vis/<checkpoint name>``):

- ``regions_img<i>_lvl<l>.png``: the image with DAM's student, teacher and mutual heatmaps
  and the decoded regions (and the ground truth);
- ``features_img<i>_lvl<l>.png``: the student and the augmented teacher feature maps with
  the regions and the region mask;
- ``dafa_img<i>_lvl<l>.png``: a teacher feature map before and after a DAFA draw (one
  draw per batch of up to 4 images, from the checkpoint's policy, seeded by ``--seed``).

CHECKPOINT is a ``tools/train.py`` checkpoint of CONFIG (it holds the teacher too). A model
without a DAM or a DAFA policy (e.g. a plain CWD config) gets the pictures it can make.
"""
import argparse
import os.path as osp
import sys

import sokd_mmdet  # noqa: F401  (compatibility layer and registration)

# isort: split
from mmengine.config import DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import CheckpointLoader, Runner

from sokd_mmdet.analysis import inspect_batch, level_mappings
from sokd_mmdet.apis import ConfigError, check_config, load_config
from sokd_mmdet.visualization import draw_inspection

SPLITS = ('train', 'val', 'test')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Draw SoKD regions, features and DAFA augmentations')
    parser.add_argument('config', help='distillation config file')
    parser.add_argument('checkpoint', help='checkpoint of that config (tools/train.py)')
    parser.add_argument('--images', type=int, default=4, help='number of images to draw')
    parser.add_argument(
        '--split', choices=SPLITS, default='val', help='dataloader the images come from')
    parser.add_argument(
        '--out-dir',
        help='where the PNGs go (default: '
        '<checkpoint folder>/vis/<checkpoint name>)')
    parser.add_argument(
        '--levels',
        type=int,
        nargs='+',
        default=[0, 1, 2],
        help='FPN levels (distillation points) to draw')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the DAFA draws (batch j draws with seed + j)')
    parser.add_argument(
        '--device', default=None, help='cpu, cuda, cuda:1, ... (default: cuda if available)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    return parser.parse_args(argv)


def prepare(args):
    """Config, checkpoint state and dataloader config; ConfigError for user mistakes."""
    if args.images < 1:
        raise ConfigError(f'--images must be >= 1, got {args.images}')
    if not osp.isfile(args.checkpoint):
        raise ConfigError(f'checkpoint {args.checkpoint} does not exist')
    cfg = load_config(args.config, args.cfg_options)
    model_cfg = cfg.get('model', {})
    if 'teacher' not in model_cfg or 'distiller' not in model_cfg:
        raise ConfigError(f'{args.config} is not a distillation config (its model has no '
                          'teacher and distiller): use a SoKD config, e.g. '
                          'configs/quickstart/sokd_cwd_retinanet_r34_r18_shapes.py')
    ckpt = CheckpointLoader.load_checkpoint(args.checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt)
    if any(key.startswith('teacher.') for key in state):
        # the checkpoint holds the teacher: do not read (or require) the teacher checkpoint
        cfg.model.teacher_ckpt = None
    check_config(cfg, splits=(args.split, ))
    loader = cfg.get(f'{args.split}_dataloader')
    if not loader:
        raise ConfigError(f'{args.config} has no {args.split}_dataloader: pick another '
                          f'--split ({", ".join(SPLITS)})')
    return cfg, state


def build_model(cfg, state, device: str):
    import torch
    from mmrazor.registry import MODELS
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model = MODELS.build(cfg.model)
    missing, unexpected = model.load_state_dict(state, strict=False)
    student = [k for k, _ in model.named_parameters() if k.startswith('architecture.')]
    if student and all(k in missing for k in student):
        raise ConfigError('the checkpoint holds no weights of the student of this config: '
                          'is it a checkpoint of this config (tools/train.py output)?')
    if missing or unexpected:
        print(
            f'warning: checkpoint and model differ: {len(missing)} missing keys (e.g. '
            f'{missing[:3]}), {len(unexpected)} unexpected (e.g. {unexpected[:3]})',
            file=sys.stderr)
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model.to(device)
    model.eval()  # SingleTeacherDistill.train() returns None: do not chain
    return model


def batches(cfg, split: str, num_images: int):
    loader = dict(cfg[f'{split}_dataloader'])
    loader.update(
        batch_size=min(num_images, 4),
        num_workers=0,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False))
    loader.pop('batch_sampler', None)  # aspect-ratio grouping would reorder the images
    return Runner.build_dataloader(loader, seed=0)


def main(argv=None):
    """Draw the pictures; returns {picture name: PNG path}."""
    args = parse_args(argv)
    try:
        cfg, state = prepare(args)
        model = build_model(cfg, state, args.device)
        available = level_mappings(model.distiller)
        missing = [level for level in args.levels if level not in available]
        if missing:
            raise ConfigError(f'--levels {missing}: the model distils levels '
                              f'{sorted(available)} only')
    except ConfigError as err:
        sys.exit(f'error: {err}')
    distiller = model.distiller
    if getattr(distiller, 'dam', None) is None:
        print(
            'note: the model has no DAM (model.distiller.dam): no regions_*.png, and the '
            'features_*.png show no regions',
            file=sys.stderr)
    if getattr(distiller, 'dafa', None) is None:
        print(
            'note: the model has no DAFA policy (model.distiller.dafa): no dafa_*.png, '
            'the teacher features are shown as they are',
            file=sys.stderr)
    out_dir = args.out_dir or osp.join(
        osp.dirname(osp.abspath(args.checkpoint)), 'vis',
        osp.splitext(osp.basename(args.checkpoint))[0])

    written, done = dict(), 0
    for j, batch in enumerate(batches(cfg, args.split, args.images)):
        n = min(args.images - done, len(batch['inputs']))
        batch = {key: value[:n] for key, value in batch.items()}
        result = inspect_batch(model, batch, args.levels, seed=args.seed + j)
        for name in draw_inspection(result, out_dir, first_index=done):
            written[name] = osp.join(out_dir, f'{name}.png')
        done += n
        if done >= args.images:
            break
    print(f'wrote {len(written)} pictures of {done} {args.split} images to {out_dir}')
    return written


if __name__ == '__main__':
    main()
