"""The main job on the built-in data set, end to end, on a CPU in minutes.

1. generate the data set (``data/shapes``; skipped when it is already there),
2. train the teacher, RetinaNet R34 (skipped when its checkpoint exists),
3. distil the student, RetinaNet R18, with SoKD over CWD,
4. evaluate the student and the teacher (COCO mAP with MMDetection's CocoMetric),

and print where the checkpoints, logs and pictures are.

    python tools/quickstart.py [--work-dir work_dirs/quickstart] [--img-size 192]
        [--num-train 300] [--num-val 60] [--teacher-iters 300] [--student-iters 120]
        [--search-interval 2]

The defaults are sized to finish in minutes on 2 CPU cores, not to give a good detector:
both detectors train from scratch (``init_cfg=None``) for a few hundred iterations. The
quickstart configs start from backbones pretrained on the built-in classification data
(``configs/pretrain/``) and train 6000 iterations; ``tools/benchmark.py`` runs that regime.
"""
import argparse
import glob
import os
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TEACHER_CFG = 'configs/quickstart/retinanet_r34_shapes_teacher.py'
SOKD_CFG = 'configs/quickstart/sokd_cwd_retinanet_r34_r18_shapes.py'


def size_options(config: str, size: int) -> list:
    """``--cfg-options`` that set every ``Resize`` of ``config``'s pipelines to ``size``."""
    from mmengine.config import Config

    import sokd_mmdet  # noqa: F401  (compatibility layer, before the config imports mmrazor)
    from sokd_mmdet.apis.image_size import image_size_options
    return image_size_options(Config.fromfile(osp.join(ROOT, config)), size)


def run(step: str, args: list) -> None:
    """Run a tool in a fresh interpreter, streaming its output; stop on failure."""
    print(f'\n=== {step}\n$ python {" ".join(args)}', flush=True)
    t0 = time.time()
    code = subprocess.call([sys.executable] + args, cwd=ROOT)
    if code != 0:
        sys.exit(f'quickstart: "{step}" failed with exit code {code}')
    print(f'=== {step}: done in {time.time() - t0:.0f} s', flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/quickstart')
    parser.add_argument('--data-root', default='data/shapes_quickstart')
    parser.add_argument('--img-size', type=int, default=192)
    parser.add_argument('--num-train', type=int, default=300)
    parser.add_argument('--num-val', type=int, default=60)
    parser.add_argument('--teacher-iters', type=int, default=300)
    parser.add_argument('--student-iters', type=int, default=120)
    parser.add_argument(
        '--search-interval', type=int, default=2, help='SoKD policy step every n-th iteration')
    args = parser.parse_args()
    t0 = time.time()
    s = args.img_size
    # from scratch (every stage trained, BN in training mode): pretraining the backbones
    # alone takes longer than this whole script
    scratch = ['init_cfg=None', 'frozen_stages=-1', 'norm_eval=False']
    data = [
        f'train_dataloader.dataset.data_root={args.data_root}/',
        f'val_dataloader.dataset.data_root={args.data_root}/',
        f'test_dataloader.dataset.data_root={args.data_root}/',
        f'val_evaluator.ann_file={args.data_root}/annotations/instances_val.json',
        f'test_evaluator.ann_file={args.data_root}/annotations/instances_val.json'
    ]

    run('generate the built-in data set', [
        'tools/make_shapes_dataset.py', '--out', args.data_root, '--num-train',
        str(args.num_train), '--num-val',
        str(args.num_val), '--img-size',
        str(s)
    ])
    teacher_dir = osp.join(args.work_dir, 'teacher')
    teacher_ckpt = osp.join(teacher_dir, f'iter_{args.teacher_iters}.pth')
    if osp.isfile(teacher_ckpt):
        print(f'\n=== teacher checkpoint {teacher_ckpt} exists: not training it again')
    else:
        run('train the teacher (RetinaNet R34)', [
            'tools/train.py', TEACHER_CFG, '--work-dir', teacher_dir, '--cfg-options', *data,
            *size_options(TEACHER_CFG, s), *[f'model.backbone.{o}' for o in scratch],
            f'train_cfg.max_iters={args.teacher_iters}',
            f'train_cfg.val_interval={args.teacher_iters}',
            f'default_hooks.checkpoint.interval={args.teacher_iters}'
        ])
    sokd_size = size_options(SOKD_CFG, s)
    student_dir = osp.join(args.work_dir, 'sokd_student')
    n = args.student_iters
    run('distil the student (RetinaNet R18) with SoKD over CWD', [
        'tools/train.py', SOKD_CFG, '--work-dir', student_dir, '--cfg-options', *data, *sokd_size,
        *[f'model.{m}.backbone.{o}' for m in ('architecture', 'teacher')
          for o in scratch], f'model.teacher_ckpt={teacher_ckpt}', f'train_cfg.max_iters={n}',
        f'train_cfg.val_interval={n}', f'default_hooks.checkpoint.interval={n}',
        f'model.search_interval={args.search_interval}'
    ])
    student_ckpt = osp.join(student_dir, f'iter_{n}.pth')
    run('evaluate student and teacher (COCO mAP)', [
        'tools/test.py', SOKD_CFG, student_ckpt, '--teacher', '--work-dir',
        osp.join(args.work_dir, 'test'), '--cfg-options', *data, *sokd_size,
        *[f'model.{m}.backbone.{o}' for m in ('architecture', 'teacher')
          for o in scratch], f'model.teacher_ckpt={teacher_ckpt}'
    ])
    logs = sorted(glob.glob(osp.join(student_dir, '*', '*.log')))
    print(f'\nquickstart finished in {time.time() - t0:.0f} s')
    print(f'  teacher checkpoint : {teacher_ckpt}')
    print(f'  student checkpoint : {student_ckpt}')
    print(f'  training log       : {logs[-1] if logs else student_dir}')
    print(f'  learned policy     : {osp.join(student_dir, "policy.png")} '
          f'(history: {osp.join(student_dir, "policy_history.json")})')
    print(f'  evaluation log     : {osp.join(args.work_dir, "test")}')


if __name__ == '__main__':
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    main()
