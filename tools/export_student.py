"""Write the student of a distillation checkpoint as a plain MMDetection checkpoint.

    python tools/export_student.py work_dirs/sokd_.../iter_300.pth student.pth [--force]

It never writes over its input, and writes over another existing file only with --force.

Then ``mmdet.apis.init_detector(STUDENT_CONFIG, 'student.pth')`` loads it, with the
student's own MMDetection config (e.g. configs/quickstart/retinanet_r18_shapes_student.py).
"""
import argparse
import os.path as osp
import sys

import sokd_mmdet  # noqa: F401

# isort: split
from sokd_mmdet.apis import export_student


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoint', help='distillation checkpoint (tools/train.py output)')
    parser.add_argument('out', help='student-only checkpoint to write')
    parser.add_argument('--force', action='store_true', help='replace an existing OUT')
    args = parser.parse_args(argv)
    if not osp.isfile(args.checkpoint):
        sys.exit(f'error: checkpoint {args.checkpoint} does not exist')
    if osp.exists(args.out) and osp.samefile(args.out, args.checkpoint):
        sys.exit(f'error: {args.out} is the input checkpoint: writing the student there would '
                 'destroy the training checkpoint; choose another output path')
    if osp.exists(args.out) and not args.force:
        sys.exit(f'error: {args.out} exists; pass --force to replace it')
    try:
        ckpt = export_student(args.checkpoint, args.out)
    except KeyError as err:
        sys.exit(f'error: {err.args[0]}')
    print(f'wrote {args.out}: {len(ckpt["state_dict"])} student tensors')


if __name__ == '__main__':
    main()
