"""Generate the built-in Shapes data set (offline, deterministic).

Detection (COCO format, for ``ShapesDataset``)::

    python tools/make_shapes_dataset.py --out data/shapes [--num-train 400 --num-val 100 \
        --img-size 256 --seed 0]

Classification (MMPretrain ``CustomDataset`` folders)::

    python tools/make_shapes_dataset.py --classification --out data/shapes_cls \
        [--num-train 600 --num-val 200 --img-size 32]

Existing files are reused when ``meta.json`` shows they were made with the same settings.
"""
import argparse
import os
import os.path as osp
import time

from sokd_mmdet.datasets import (SHAPE_CLASSES, generate_classification_dataset,
                                 generate_detection_dataset, split_statistics)

# defaults per mode: (out, num_train, num_val, img_size)
DEFAULTS = dict(
    detection=('data/shapes', 400, 100, [256]), classification=('data/shapes_cls', 600, 200, [32]))


def parse_args(argv=None):
    """Parse the command line; defaults depend on ``--classification``."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        '--out', help='output directory (default data/shapes or '
        'data/shapes_cls)')
    parser.add_argument(
        '--classification',
        action='store_true',
        help='write the one-object-per-image classification variant')
    parser.add_argument('--num-train', type=int, help='training images (default 400 / 600)')
    parser.add_argument('--num-val', type=int, help='validation images (default 100 / 200)')
    parser.add_argument(
        '--img-size',
        type=int,
        nargs='+',
        metavar='N',
        help='image size: N for NxN, or HEIGHT WIDTH for detection '
        '(default 256 / 32)')
    parser.add_argument('--seed', type=int, default=0, help='non-negative seed (default 0)')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bars')
    args = parser.parse_args(argv)

    mode = 'classification' if args.classification else 'detection'
    out, num_train, num_val, img_size = DEFAULTS[mode]
    args.out = args.out or out
    args.num_train = num_train if args.num_train is None else args.num_train
    args.num_val = num_val if args.num_val is None else args.num_val
    args.img_size = args.img_size or img_size
    if len(args.img_size) > 2 or (args.classification and len(args.img_size) != 1):
        parser.error('--img-size takes N, or HEIGHT WIDTH for detection')
    if osp.exists(args.out) and not osp.isdir(args.out):
        parser.error(f'--out {args.out} exists and is a file; choose a directory')
    return args


def main(argv=None):
    """Generate the data set and print where it went and what it holds."""
    args = parse_args(argv)
    start = time.time()
    progress = not args.no_progress
    meta_file = osp.join(args.out, 'meta.json')
    meta_before = os.stat(meta_file).st_mtime_ns if osp.isfile(meta_file) else None
    if args.classification:
        paths = generate_classification_dataset(args.out, args.num_train, args.num_val,
                                                args.img_size[0], args.seed, progress)
    else:
        height, width = args.img_size * 2 if len(args.img_size) == 1 else args.img_size
        paths = generate_detection_dataset(args.out, args.num_train, args.num_val, (height, width),
                                           args.seed, progress)
    reused = meta_before == os.stat(paths['meta_file']).st_mtime_ns
    print(f'\nShapes {"classification" if args.classification else "detection"} data set '
          f'in {osp.abspath(paths["root"])} (seed {args.seed}, ' +
          ('existing files reused)' if reused else f'generated in {time.time() - start:.1f} s)'))
    for split in ('train', 'val'):
        if args.classification:
            folder = paths[f'{split}_img_dir']
            per_class = {name: len(os.listdir(osp.join(folder, name))) for name in SHAPE_CLASSES}
            print(f'  {split}: {sum(per_class.values())} images in {folder}/<class>/; ' +
                  ', '.join(f'{name} {n}' for name, n in per_class.items()))
        else:
            stats = split_statistics(paths[f'{split}_ann_file'])
            print(f'  {split}: {stats["images"]} images in {paths[f"{split}_img_dir"]}, '
                  f'{stats["instances"]} instances (small {stats["small"]}, medium '
                  f'{stats["medium"]}, large {stats["large"]}) in '
                  f'{paths[f"{split}_ann_file"]}')


if __name__ == '__main__':
    main()
