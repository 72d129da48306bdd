"""Write the student of a distillation checkpoint as a plain MMDetection checkpoint.

    python tools/export_student.py work_dirs/sokd_.../iter_300.pth student.pth

Then ``mmdet.apis.init_detector(STUDENT_CONFIG, 'student.pth')`` loads it, with the
student's own MMDetection config (e.g. configs/quickstart/retinanet_r18_shapes_student.py).
"""
import argparse
import os.path as osp
import sys

import sokd_mmdet  # noqa: F401
from sokd_mmdet.apis import export_student


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoint', help='distillation checkpoint (tools/train.py output)')
    parser.add_argument('out', help='student-only checkpoint to write')
    args = parser.parse_args(argv)
    if not osp.isfile(args.checkpoint):
        sys.exit(f'error: checkpoint {args.checkpoint} does not exist')
    try:
        ckpt = export_student(args.checkpoint, args.out)
    except KeyError as err:
        sys.exit(f'error: {err.args[0]}')
    print(f'wrote {args.out}: {len(ckpt["state_dict"])} student tensors')


if __name__ == '__main__':
    main()
