"""The reproducible distillation benchmark on the built-in data set, in one command.

1. generate the built-in data set (train split, and the generator's ``val`` split held out:
   it is evaluated for the table and the curves, never used for selection or tuning);
2. train the teacher once (cached in ``<out>/teacher-<hash>/`` by a hash of its resolved
   config, the data and the iterations);
3. train every method of ``METHODS`` for every seed through ``tools/train.py`` in a fresh
   process, evaluating the held-out split every ``--eval-interval`` iterations; a run whose
   ``metrics.json`` exists (with the same resolved config) is not trained again, and a run
   that was interrupted goes on from its last checkpoint (one every 250 iterations), so an
   interrupted benchmark resumes where it stopped;
4. read the COCO mAP curves and per-iteration times from each run's ``scalars.json``, and
   its wall time and peak RSS from the process's own rusage;
5. write ``<out>/results.json`` and, from it, the page ``--report`` (``docs/benchmark.md``)
   and its plots (``images/`` next to the page).

    python tools/benchmark.py [--out work_dirs/benchmark] [--methods NAME ...]
        [--seeds 0 1 2] [--ablation-seeds 1] [--iters 1000] [--teacher-iters 4000]
        [--eval-interval 200]
        [--num-train 400] [--num-val 100] [--img-size 128] [--report docs/benchmark.md]
        [--drop-checkpoints] [--quick | --large] [--models r34-r18|r101-r50]
        [--report-only]

``--large`` is the larger setting for a GPU machine (ResNet-101 -> ResNet-50, bigger
images, a longer schedule; its own ``<out>-r101-r50`` folder and page); on a GPU the cost
table gains each method's peak GPU memory.

Every schedule is the config's own, stretched to the run length (warm-up and LR steps at
the same fractions). Runs train one after another, so the cost columns compare methods on
the same machine; other load on the machine shows up in them.

Several benchmark processes may share one ``--out`` (e.g. one per GPU with
``CUDA_VISIBLE_DEVICES``): each run is locked by the process that makes it, the others
skip it and reuse its result once it is written, and every process ends with the whole
table. On shared CPU cores each run's time then includes the other processes' load.
"""
import argparse
import ast
import collections
import copy
import glob
import hashlib
import json
import os
import os.path as osp
import platform
import pprint
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from typing import Optional

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)  # the package of this checkout, also when not installed
from sokd_mmdet.benchmark.model_size import (DEFAULT_SIZE, MODEL_SIZES,  # noqa: E402
                                             size_options)
TEACHER_CFG = 'configs/quickstart/retinanet_r34_shapes_teacher.py'
SOKD_CWD = 'configs/quickstart/sokd_cwd_retinanet_r34_r18_shapes.py'
# the long-schedule policy optimiser (configs/_base_/sokd/policy_optim.py) in a short run
RESEARCH_POLICY_LR = 'optim_wrapper = dict(policy={{_base_.sokd_policy_optim}})\n'
# the DAM-alone ablations: without DAFA there is no policy, so the optimiser and scheduler
# keep only the student's entry
NO_POLICY_OPTIM = (
    '# without DAFA there is no policy: the optimiser and scheduler have no entry\n'
    'optim_wrapper = dict(_delete_=True,\n'
    "                     constructor='mmrazor.SoKDOptimWrapperConstructor',\n"
    '                     student={{_base_.optim_wrapper.student}})\n'
    'param_scheduler = dict(_delete_=True,\n'
    '                       student={{_base_.param_scheduler.student}})\n')

# Each method: its config, the base loss it is compared with (accuracy and cost ratios), a
# line for the page, and config overrides in Python syntax (written into a per-run config
# that inherits the method's config with ``_base_``). ``ablation=True`` rows run on the first
# ``--ablation-seeds`` seeds only (one by default): on 2 CPU cores every seed of every row
# costs 20-60 minutes, and the ablations ask which part matters, not whether it is noise.
METHODS = {
    'student': dict(
        config='configs/quickstart/retinanet_r18_shapes_student.py', base=None,
        about='RetinaNet R18 trained alone (no teacher)'),
    'cwd': dict(
        config='configs/quickstart/cwd_retinanet_r34_r18_shapes.py', base=None,
        about='channel-wise distillation (CWD) on FPN levels P3-P5'),
    'fitnet': dict(
        config='configs/quickstart/fitnet_retinanet_r34_r18_shapes.py', base=None,
        about='FitNet-style L2 imitation of FPN levels P3-P5'),
    'sokd_cwd': dict(
        config=SOKD_CWD, base='cwd', about='SoKD over CWD: DAFA + DAM'),
    # the spec's inner objective distils inside DAM's areas only (full_weight=0); this row
    # keeps the base CWD on the whole map as well. On the tuning draw (data seed 1, seed 0)
    # it scored 6.8 AP against 5.7 without it and CWD's 6.8 (docs/dam_coverage.md)
    'sokd_cwd_keep_base': dict(
        config=SOKD_CWD, base='cwd',
        about='SoKD over CWD that keeps the base CWD on the whole map beside the masked '
              'term (full_weight=1)',
        overrides=('model = dict(distiller=dict(distill_losses={\n'
                   "    f'loss_fpn{i}': dict(full_weight=1.0) for i in range(3)}))\n")),
    'sokd_fitnet': dict(
        config='configs/quickstart/sokd_fitnet_retinanet_r34_r18_shapes.py', base='fitnet',
        about='SoKD over FitNet: DAFA + DAM'),
    'sokd_cwd_dafa_only': dict(
        ablation=True,
        config=SOKD_CWD, base='cwd',
        about='ablation: DAFA alone (no DAM; the unmasked CWD on the refined features)',
        overrides=(
            'model = dict(distiller=dict(dam=None, distill_losses={\n'
            "    f'loss_fpn{i}': dict(full_weight=1.0, masked_weight=0.0, align_weight=0.0)\n"
            '    for i in range(3)\n'
            '}))\n')),
    'sokd_cwd_dam_only': dict(
        ablation=True,
        config=SOKD_CWD, base='cwd',
        about='ablation: DAM alone (no DAFA, so no policy search and no policy optimiser)',
        overrides=('model = dict(distiller=dict(dafa=None))\n'
                   + NO_POLICY_OPTIM)),
    'sokd_cwd_dam_mutual': dict(
        ablation=True,
        config=SOKD_CWD, base='cwd',
        about="ablation: DAM supervised by mutual agreement only (supervision='mutual')",
        overrides="model = dict(distiller=dict(dam=dict(supervision='mutual')))\n"),
    'sokd_cwd_dam_gt_heads': dict(
        ablation=True,
        config=SOKD_CWD, base='cwd',
        about='ablation: the DAM ground-truth losses train the DAM heads only, not the '
              "student's features (gt_to_features=False)",
        overrides=('model = dict(distiller=dict(distill_losses={\n'
                   "    f'loss_fpn{i}': dict(gt_to_features=False) for i in range(3)}))\n")),
    'tst_cwd': dict(
        config='configs/quickstart/tst_cwd_retinanet_r34_r18_shapes.py', base='cwd',
        about='TST over CWD: a learned box-consistent image augmenter (teacher right, '
              'student wrong); the student learns on the original + augmented batch'),
    'tst_sokd_cwd': dict(
        ablation=True,
        config='configs/quickstart/tst_sokd_cwd_retinanet_r34_r18_shapes.py', base='cwd',
        about="TST + SoKD over CWD: SoKD's refined knowledge (DAFA + DAM) on TST's "
              'original + augmented batch'),
    'atf_cwd': dict(
        config='configs/quickstart/atf_retinanet_r34_r18_shapes.py', base='cwd',
        about='ATF over CWD: alpha-divergence (0.5) on the classification logits, teacher '
              'fine-tuned towards the student'),
    'atf_cwd_frozen_teacher': dict(
        ablation=True,
        config='configs/quickstart/atf_retinanet_r34_r18_shapes.py', base='cwd',
        about='ablation: the ATF losses with no teacher updates (teacher_end=0)',
        overrides='model = dict(teacher_end=0)\n'),
    'atf_cwd_head_only': dict(
        ablation=True,
        config='configs/quickstart/atf_retinanet_r34_r18_shapes.py', base='cwd',
        about="ablation: ATF fine-tuning only the teacher's head (backbone and neck frozen, "
              'as under ATF + SoKD)',
        overrides="model = dict(teacher_trainable_modules=('bbox_head', ))\n"),
    'atf_sokd_cwd': dict(
        ablation=True,
        config='configs/quickstart/atf_sokd_cwd_retinanet_r34_r18_shapes.py', base='cwd',
        about="ATF + SoKD over CWD: SoKD's refined FPN knowledge (DAFA + DAM) from a teacher "
              'whose head ATF fine-tunes towards the student (backbone and neck frozen)'),
    'sokd_cwd_policy_lr3e-4': dict(
        ablation=True,
        config=SOKD_CWD, base='cwd',
        about="ablation: SoKD over CWD with the research code's policy learning rate (3e-4, "
              'tuned for 2x10^4 search iterations; the default here is 3e-3)',
        overrides=RESEARCH_POLICY_LR),
    'sokd_cwd_interval5': dict(
        ablation=True,
        config=SOKD_CWD, base='cwd',
        about='ablation: SoKD over CWD with a policy step every 5th iteration '
              '(search_interval=5)',
        overrides='model = dict(search_interval=5)\n'),
}

# Defaults of the full benchmark and of the --quick smoke setting. From scratch on 2 CPU
# cores, the R18 student alone was measured at 0.3 / 0.4 / 1.4 / 2.1 AP after 250 / 500 /
# 750 / 1000 iterations at 128 px: shorter runs compare noise. 128 px is ~4x cheaper per
# iteration than the quickstart's 256 px. The teacher trains once (cached) for longer: after
# 1500 iterations its training loss was still falling fast (1.02 -> 0.80 over the last 500
# iterations, train split) and it reached only 3.1 AP, no better than a CWD student.
FULL = dict(num_train=400, num_val=100, img_size=128, iters=1000, teacher_iters=4000,
            eval_interval=200, seeds=[0, 1, 2], warmup_iters=5)
QUICK = dict(num_train=8, num_val=4, img_size=128, iters=4, teacher_iters=4,
             eval_interval=2, seeds=[0], warmup_iters=1, score_thr=0.0)
# The larger setting for a GPU machine (--large): ResNet-101 -> ResNet-50, 4x the images at
# twice the size, 4x the schedule. Not yet run (no GPU has been lent to this project's
# benchmark sessions), so no timing is claimed for it; every value can be overridden.
LARGE = dict(FULL, num_train=1600, num_val=400, img_size=256, iters=4000,
             teacher_iters=16000, eval_interval=500, models='r101-r50')
# The classification benchmark (--task classification): the built-in classification data,
# CIFAR-style ResNet-34 (width 16) teacher -> ResNet-18 (width 8) student.
CLS_TEACHER_CFG = 'configs/classification/quickstart/resnet34-w16_cifar_shapes_teacher.py'
CLS_QUICK_DIR = 'configs/classification/quickstart/'
CLS_SOKD_KD = CLS_QUICK_DIR + 'sokd_kd_resnet34_resnet18_cifar_shapes.py'
CLS_METHODS = {
    'student': dict(config=CLS_QUICK_DIR + 'resnet18-w8_cifar_shapes_student.py', base=None,
                    about='ResNet-18 (width 8) trained alone'),
    'kd': dict(config=CLS_QUICK_DIR + 'kd_resnet34_resnet18_cifar_shapes.py', base=None,
               about='logit KD (KL at temperature 4)'),
    'sokd_kd': dict(config=CLS_SOKD_KD, base='kd',
                    about='SoKD over KD: refined logits + DAM (mutual)'),
    'fitnet': dict(config=CLS_QUICK_DIR + 'fitnet_resnet34_resnet18_cifar_shapes.py',
                   base=None, about='FitNet L2 on the last stage'),
    'sokd_fitnet': dict(config=CLS_QUICK_DIR + 'sokd_fitnet_resnet34_resnet18_cifar_shapes.py',
                        base='fitnet', about='SoKD over FitNet: DAFA + DAM (mutual)'),
    'sokd_kd_dafa_only': dict(
        ablation=True,
        config=CLS_SOKD_KD, base='kd',
        about='ablation: DAFA alone (KD on the refined logits; no DAM and no stage L2)',
        overrides=(
            'model = dict(distiller=dict(\n'
            '    dam=None,\n'
            '    distill_losses=dict(_delete_=True, loss_kl={{_base_.model.distiller'
            '.distill_losses.loss_kl}}),\n'
            '    loss_forward_mappings=dict(_delete_=True, loss_kl={{_base_.model.distiller'
            '.loss_forward_mappings.loss_kl}})))\n')),
    'sokd_kd_policy_lr3e-4': dict(
        ablation=True,
        config=CLS_SOKD_KD, base='kd',
        about="ablation: SoKD over KD with the research code's policy learning rate (3e-4, "
              'tuned for 2x10^4 search iterations; the default here is 3e-3)',
        overrides=RESEARCH_POLICY_LR),
    'sokd_kd_dam_only': dict(
        ablation=True,
        config=CLS_SOKD_KD, base='kd',
        about='ablation: DAM alone (plain teacher logits and stage, no policy search)',
        overrides=('model = dict(distiller=dict(dafa=None, refine_logits=None))\n'
                   + NO_POLICY_OPTIM)),
}
# Sized on a tuning draw of the data (data seed 1, 3000 / 300 images; the table's held-out
# split is data seed 0): with 600 training images and 600 teacher iterations the teacher
# reached 35.5 top-1 and the student alone 36.5, so nothing could be distilled. With 3000
# images the student alone reached 37.7 / 44.7 / 51.3 top-1 after 500 / 1000 / 1500
# iterations and the teacher 38.3 / 55.3 / 65.0 (OMP_NUM_THREADS=1, 2-core CPU).
CLS_FULL = dict(num_train=3000, num_val=300, img_size=32, iters=1500, teacher_iters=2000,
                eval_interval=500, seeds=[0, 1, 2], warmup_iters=5)
CLS_QUICK = dict(num_train=12, num_val=6, img_size=32, iters=4, teacher_iters=4,
                 eval_interval=2, seeds=[0], warmup_iters=1)
CLS_KEYS = {'top1': 'accuracy/top1'}
# Runs save a checkpoint this often (and at their end), so that an interrupted benchmark
# resumes a run from its last checkpoint instead of from scratch.
CKPT_EVERY = 250
COCO_KEYS = {'AP': 'bbox_mAP', 'AP50': 'bbox_mAP_50', 'AP75': 'bbox_mAP_75',
             'APs': 'bbox_mAP_s', 'APm': 'bbox_mAP_m', 'APl': 'bbox_mAP_l'}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default=None,
                        help='data, teacher, runs and results.json go here (default: '
                        'work_dirs/benchmark, work_dirs/benchmark-<size> for other --models)')
    parser.add_argument('--task', choices=('detection', 'classification'), default='detection',
                        help='detection (COCO mAP, the default) or classification (top-1); '
                        'each writes its own part of the --report page')
    parser.add_argument('--methods', nargs='+', metavar='NAME', default=None,
                        help=f'detection: {", ".join(METHODS)}; classification: '
                        f'{", ".join(CLS_METHODS)} (default: all of the task)')
    parser.add_argument('--seeds', nargs='+', type=int, default=None)
    parser.add_argument('--ablation-seeds', type=int, default=1, metavar='N',
                        help='ablation rows run on the first N of --seeds (default: 1)')
    parser.add_argument('--num-train', type=int, default=None)
    parser.add_argument('--num-val', type=int, default=None,
                        help='held-out images (evaluated, never tuned on)')
    parser.add_argument('--img-size', type=int, default=None)
    parser.add_argument('--data-seed', type=int, default=0, help='data generator seed')
    parser.add_argument('--iters', type=int, default=None, help='student iterations')
    parser.add_argument('--teacher-iters', type=int, default=None)
    parser.add_argument('--eval-interval', type=int, default=None,
                        help='evaluate the held-out split every N iterations (curves)')
    parser.add_argument('--warmup-iters', type=int, default=None,
                        help='first iterations left out of the time per iteration')
    parser.add_argument('--score-thr', type=float, default=None,
                        help="detection score threshold (default: the configs' 0.05)")
    parser.add_argument('--report', default=None,
                        help='the Markdown page (default: docs/benchmark.md, '
                        'docs/benchmark-<size>.md for other --models); its plots go to '
                        'images/ beside it')
    parser.add_argument('--drop-checkpoints', action='store_true',
                        help="delete each student's checkpoint once its metrics are "
                        'recorded (about 240 MB each)')
    parser.add_argument('--quick', action='store_true',
                        help='tiny smoke setting: ' + ', '.join(
                            f'{k}={v}' for k, v in QUICK.items()))
    parser.add_argument('--large', action='store_true',
                        help='the larger setting, for a GPU machine: ' + ', '.join(
                            f'{k}={v}' for k, v in LARGE.items() if FULL.get(k) != v))
    parser.add_argument('--models', choices=list(MODEL_SIZES), default=None,
                        help=f'teacher-student ResNets (default {DEFAULT_SIZE}; --large: '
                        f"{LARGE['models']}); a size other than {DEFAULT_SIZE} writes to "
                        '<out>-<size> and docs/benchmark-<size>.md unless --out/--report '
                        'say otherwise')
    parser.add_argument('--report-only', action='store_true',
                        help='only rewrite the page and plots from <out>/results.json')
    parser.add_argument('--done-only', action='store_true',
                        help='train nothing: write the page from the runs already done '
                        '(e.g. while other benchmark processes still train the rest)')
    parser.add_argument('--dry-run', action='store_true',
                        help='say, run by run, what the command would reuse (done), wait '
                        'for (running: another process holds it), resume (resume at N) or '
                        'train (new; redo: a run of another config is replaced), and exit; '
                        'nothing is trained or written')
    args = parser.parse_args(argv)
    cls = args.task == 'classification'
    if args.quick and args.large:
        parser.error('--quick and --large are two settings: choose one')
    if cls and (args.large or args.models not in (None, DEFAULT_SIZE)):
        parser.error('--large and --models are detection settings (the classification '
                     'benchmark has its own CIFAR-style ResNets)')
    defaults = (CLS_QUICK if args.quick else CLS_FULL) if cls else (
        QUICK if args.quick else LARGE if args.large else FULL)
    for key, value in defaults.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    args.models = args.models or DEFAULT_SIZE
    suffix = '' if args.models == DEFAULT_SIZE else f'-{args.models}'
    if args.out is None:
        args.out = 'work_dirs/benchmark' + suffix
    if args.report is None:
        args.report = osp.join(ROOT, 'docs', f'benchmark{suffix}.md')
    table = task_methods(args.task)
    unknown = [m for m in args.methods or [] if m not in table]
    if unknown:
        parser.error(f'--methods {" ".join(unknown)}: not a {args.task} method (choose from '
                     f'{", ".join(table)})')
    args.methods = args.methods or list(table)
    if args.eval_interval < 1 or args.iters < 1 or args.teacher_iters < 1:
        parser.error('--iters, --teacher-iters and --eval-interval must be positive')
    if args.ablation_seeds < 1:
        parser.error('--ablation-seeds must be positive')
    return args


def task_methods(task: str) -> dict:
    """The methods table of a task."""
    return CLS_METHODS if task == 'classification' else METHODS


def plan_jobs(methods: list, seeds: list, table: dict, ablation_seeds: int) -> list:
    """``(method, seed)`` in running order: the main rows seed by seed, then the ablations.

    Ablation rows (``ablation=True`` in ``table``) run on the first ``ablation_seeds`` seeds;
    the main rows come first, so that the table's core is complete as early as possible.
    """
    main = [m for m in methods if not table[m].get('ablation')]
    extra = [m for m in methods if table[m].get('ablation')]
    return ([(m, s) for s in seeds for m in main]
            + [(m, s) for s in seeds[:ablation_seeds] for m in extra])


# ----------------------------------------------------------------------------- configs
def _plain(obj):
    """ConfigDict/lists of them as plain Python values (for ``repr`` in a config file)."""
    if hasattr(obj, 'to_dict'):
        obj = obj.to_dict()
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_plain(v) for v in obj)
    return obj


def scaled_schedule(schedulers, base_iters: int, iters: int):
    """The config's iteration-based schedule stretched from ``base_iters`` to ``iters``.

    ``begin``, ``end`` and ``milestones`` scale with the run length, so a 300-iteration run
    keeps the quickstart schedule as it is. A scheduler spans at least 2 iterations: MMEngine's
    ``LinearLR`` over a single one never leaves its start factor.
    """
    if isinstance(schedulers, dict) and 'type' not in schedulers:  # one list per optimiser
        return {k: scaled_schedule(v, base_iters, iters) for k, v in schedulers.items()}
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    out = []
    for sched in copy.deepcopy(_plain(schedulers)):
        if sched.get('begin'):
            sched['begin'] = round(sched['begin'] * iters / base_iters)
        if sched.get('end'):
            sched['end'] = max(sched.get('begin', 0) + 2,
                               round(sched['end'] * iters / base_iters))
        if 'milestones' in sched:
            sched['milestones'] = [max(1, round(m * iters / base_iters))
                                   for m in sched['milestones']]
        out.append(sched)
    return out


def _load(path: str):
    from mmengine.config import Config
    return Config.fromfile(path, import_custom_modules=False)


def write_run_config(path: str, base_cfg: str, overrides: str, iters: int,
                     policy_interval: int) -> tuple:
    """Write a config that inherits ``base_cfg`` and changes what the benchmark needs.

    On top of the method's ``overrides``: the schedule stretched to ``iters``, a log line
    (and a ``scalars.json`` record) for every iteration with its own time (no smoothing),
    and the DAFA policy logged every ``policy_interval`` iterations.

    Returns:
        tuple: (the resolved Config, its text) for hashing and for option keys.
    """
    head = (f'# written by tools/benchmark.py\n_base_ = [{osp.join(ROOT, base_cfg)!r}]\n'
            + (overrides or ''))
    with open(path, 'w') as f:
        f.write(head)
    cfg = _load(path)
    schedule = scaled_schedule(cfg.param_scheduler, cfg.train_cfg.max_iters, iters)
    text = [head, f'param_scheduler = {_dict_delete(schedule)}',
            # evaluations logged at their iteration (MMEngine's default logs them at epoch 0
            # in an iteration-based loop)
            'default_hooks = dict(logger=dict(interval=1, log_metric_by_epoch=False))',
            'log_processor = dict(window_size=1)']
    hooks = _plain(cfg.get('custom_hooks', []))
    if any(h.get('type', '').endswith('DAFAPolicyLoggerHook') for h in hooks):
        for h in hooks:
            if h.get('type', '').endswith('DAFAPolicyLoggerHook'):
                h['interval'] = policy_interval
        text.append(f'custom_hooks = {pprint.pformat(hooks, width=90)}')
    with open(path, 'w') as f:
        f.write('\n'.join(text) + '\n')
    cfg = _load(path)
    return cfg, cfg.pretty_text


def _dict_delete(schedule) -> str:
    """``repr`` of a schedule; a per-optimiser dict replaces the inherited one whole."""
    if isinstance(schedule, dict):
        schedule = dict(_delete_=True, **schedule)
    return pprint.pformat(schedule, width=90)


def common_options(data_root: str, img: int, iters: int, eval_interval: int, seed: int,
                   score_thr, cfg, task: str = 'detection', models: str = DEFAULT_SIZE,
                   plain_role: str = 'student') -> list:
    """``--cfg-options`` of every run: data, image size, iterations, seeds, checkpointing,
    and the detectors' sizes (``models``; a plain detector is the ``plain_role``)."""
    if task == 'classification':  # 32 px images as generated: no resize, no annotation file
        opts = [f'{s}_dataloader.dataset.data_root={data_root}/' for s in ('train', 'val',
                                                                           'test')]
        opts += [f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={eval_interval}',
                 f'default_hooks.checkpoint.interval={min(iters, CKPT_EVERY)}',
                 f'randomness.seed={seed}']
        if cfg.model.get('distiller', {}).get('dafa'):
            opts.append(f'model.distiller.dafa.seed={seed}')
        return opts
    ann = osp.join(data_root, 'annotations', 'instances_val.json')
    opts = [f'{s}_dataloader.dataset.data_root={data_root}/' for s in ('train', 'val', 'test')]
    opts += [f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}',
             # Resize is the 3rd step of the train pipeline and the 2nd of the test pipeline
             f'train_dataloader.dataset.pipeline.2.scale=({img},{img})',
             f'val_dataloader.dataset.pipeline.1.scale=({img},{img})',
             f'test_dataloader.dataset.pipeline.1.scale=({img},{img})',
             f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={eval_interval}',
             f'default_hooks.checkpoint.interval={min(iters, CKPT_EVERY)}',
             f'randomness.seed={seed}']
    model = cfg.model
    detector = 'model.architecture' if 'architecture' in model else 'model'
    if score_thr is not None:
        opts.append(f'{detector}.test_cfg.score_thr={score_thr}')
    if model.get('distiller', {}).get('dafa'):
        opts.append(f'model.distiller.dafa.seed={seed}')  # the policy's own sampling seed
    if model.get('augmenter'):
        opts.append(f'model.augmenter.seed={seed}')  # TST's augmentation draws
    return opts + size_options(_plain(model), models, plain_role)


def semantic_text(text: str) -> str:
    """A resolved config's text without its top-level private helpers (``_name = ...``).

    A config file may name a value once (``_paramwise = dict(...)``) and use it in several
    places; MMEngine keeps such helpers in the resolved config. What the run does is already
    in the places that use them, so a refactor that adds, renames or removes a helper must
    not change the run's key (and throw a cached run away).
    """
    drop = [node for node in ast.parse(text).body
            if isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name) and node.targets[0].id.startswith('_')]
    if not drop:
        return text
    lines = text.splitlines(keepends=True)
    for node in reversed(drop):
        del lines[node.lineno - 1:node.end_lineno]
    return ''.join(lines)


def _hash(*parts) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:10]


# ------------------------------------------------------------------------------ runs
def start_or_resume(work_dir: str, key: str) -> bool:
    """Prepare ``work_dir`` for the run ``key``; True when an interrupted run goes on.

    A run with the same key that stopped after writing a checkpoint (``last_checkpoint``)
    is resumed from it (MMEngine restores weights, optimisers, schedulers, the iteration
    and the random state); anything else is started afresh.
    """
    key_file = osp.join(work_dir, 'run_key.txt')
    if osp.isfile(key_file) and osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        with open(key_file) as f:
            if f.read().strip() == key:
                return True
    shutil.rmtree(work_dir, ignore_errors=True)
    os.makedirs(work_dir)
    with open(key_file, 'w') as f:
        f.write(key)
    return False


def run_segments(work_dir: str, run: dict) -> dict:
    """Add this process's wall time, peak RSS and load to the run's segments; their totals.

    Returns:
        dict: ``wall_s`` (sum over segments), ``peak_rss_mib`` (max), ``segments`` (count),
        ``load5`` (the highest 5-minute load average at a segment's end; None if unknown).
    """
    path = osp.join(work_dir, 'segments.json')
    segments = []
    if osp.isfile(path):
        with open(path) as f:
            segments = json.load(f)
    segments.append({k: run[k] for k in ('wall_s', 'peak_rss_mib', 'returncode', 'load5')
                     if k in run})
    with open(path, 'w') as f:
        json.dump(segments, f, indent=1)
    loads = [s['load5'] for s in segments if s.get('load5') is not None]
    return dict(wall_s=sum(s['wall_s'] for s in segments),
                peak_rss_mib=max(s['peak_rss_mib'] for s in segments),
                segments=len(segments), load5=max(loads) if loads else None)


def train(cfg_file: str, work_dir: str, options: list, log_file: str,
          resume: bool = False) -> dict:
    """Run ``tools/train.py`` in a fresh process; its wall time and peak RSS.

    The process's own rusage comes from ``os.wait4`` (``ru_maxrss``: the largest resident
    set of the process and of its data-loader workers, not a sum), so each run is measured
    alone even though the benchmark runs many.
    """
    from sokd_mmdet.benchmark.process import wait_child
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'train.py'), cfg_file, '--work-dir',
           work_dir] + (['--resume'] if resume else []) + ['--cfg-options', *options]
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''),
               MPLBACKEND='Agg', PYTHONUNBUFFERED='1')
    t0 = time.time()
    with open(log_file, 'a' if resume else 'w') as log:
        log.write('$ ' + shlex.join(cmd) + '\n')
        log.flush()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, usage = wait_child(proc)  # killed with this process (Ctrl-C, kill, hang-up)
    # other benchmark processes or jobs on the machine slow the run down: the page says how
    # loaded it was (5-minute load average, in runnable processes, at the run's end)
    return dict(returncode=proc.returncode, wall_s=time.time() - t0,
                peak_rss_mib=usage.ru_maxrss / 1024,  # KiB on Linux
                load5=os.getloadavg()[1])


def read_scalars(work_dir: str) -> list:
    """The records of the run's ``scalars.json`` (MMEngine's LocalVisBackend, JSON lines)."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise FileNotFoundError(f'no */vis_data/scalars.json under {work_dir}')
    return merge_segments([_read_jsonl(f) for f in files])


def _read_jsonl(path: str) -> list:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def merge_segments(segments: list) -> list:
    """One record list from the logs of a run that was interrupted and resumed.

    Each resumed segment (its own timestamped folder, in time order) restarts after the last
    checkpoint, so what an earlier segment logged from that step on was trained again: the
    later segment's records replace it.
    """
    merged = []
    for records in segments:
        steps = [r['step'] for r in records if 'step' in r]
        if steps:
            first = min(steps)
            merged = [r for r in merged if r.get('step', 0) < first]
        merged.extend(records)
    return merged


def parse_run(records: list, iters: int, eval_interval: int, warmup: int,
              task: str = 'detection') -> dict:
    """COCO metrics per evaluation, the final ones, the time per iteration and of the run.

    The iteration after an evaluation is left out of the time per iteration: MMEngine's
    timer runs from the end of the previous iteration, so it includes the evaluation.
    ``run_s``, the run's time, sums the logged time of every iteration once (``records``
    merged over the segments of a resumed run), evaluations included through the iteration
    that follows each: an interrupted and resumed run counts like an uninterrupted one, which
    the process wall time cannot (a segment killed mid-way leaves no wall time behind, and
    what it trained after its last checkpoint is trained again). ``gpu_mem_mib``: the
    largest ``memory`` MMEngine logged (the peak of CUDA memory held by tensors, MiB, per
    logging interval); None on a CPU.
    """
    curve, times, data_times, all_times, gpu_mib = [], [], [], [], []
    last_iter = 0
    for rec in records:
        if 'loss' not in rec:  # an evaluation, logged after the iteration it follows
            point = {'iter': last_iter}
            if task == 'classification':
                point.update({n: rec.get(k) for n, k in CLS_KEYS.items()})
                curve.append(point)
                continue
            for name, key in COCO_KEYS.items():
                value = rec.get(f'coco/{key}')
                point[name] = None if value is None or value < 0 else float(value)
            # CocoMetric reports nothing when no box passes the score threshold: AP 0
            point['no_detections'] = 'coco/bbox_mAP' not in rec
            if point['no_detections']:
                point.update({n: 0.0 for n in ('AP', 'AP50', 'AP75')})
            curve.append(point)
        else:
            step = last_iter = rec['step']
            all_times.append(rec['time'])
            if rec.get('memory') is not None:  # MMEngine logs it on a GPU only
                gpu_mib.append(rec['memory'])
            after_eval = step > 1 and (step - 1) % eval_interval == 0
            if step > warmup and not after_eval:
                times.append(rec['time'])
                data_times.append(rec.get('data_time', 0.0))
    if not curve or curve[-1]['iter'] != iters:
        raise ValueError(f'no evaluation at iteration {iters} in scalars.json')
    final = {k: v for k, v in curve[-1].items() if k in COCO_KEYS or k in CLS_KEYS}
    cost = dict(iter_time_s=statistics.fmean(times) if times else None,
                iter_time_std_s=statistics.stdev(times) if len(times) > 1 else None,
                data_time_s=statistics.fmean(data_times) if data_times else None,
                iters_timed=len(times), run_s=sum(all_times),
                gpu_mem_mib=max(gpu_mib) if gpu_mib else None)
    return dict(metrics=final, curve=curve, cost=cost,
                no_detections=curve[-1].get('no_detections', False))


def data_root_of(args) -> str:
    """The built-in data set's folder under ``--out``: one per task, size and generator seed."""
    cls = args.task == 'classification'
    return osp.join(args.out, 'data', f'shapes{"_cls" if cls else ""}-{args.num_train}-'
                    f'{args.num_val}-{args.img_size}px-seed{args.data_seed}')


def plan_teacher(args, data_root: str, probe: str) -> dict:
    """The teacher's config (written to ``probe``), options, key, work dir and checkpoint."""
    n = args.teacher_iters
    teacher_cfg = CLS_TEACHER_CFG if args.task == 'classification' else TEACHER_CFG
    cfg, text = write_run_config(probe, teacher_cfg, '', n, 1)
    options = common_options(data_root, args.img_size, n, n, 0, args.score_thr, cfg, args.task,
                             args.models, plain_role='teacher')
    key = _hash(semantic_text(text), options, n)
    work_dir = osp.join(args.out, f'teacher-{key}')
    return dict(config=teacher_cfg, options=options, key=key, work_dir=work_dir,
                checkpoint=osp.join(work_dir, f'iter_{n}.pth'))


def run_lock(out: str, name: str, seed: Optional[int]) -> str:
    """The lock file of the teacher (``seed`` None) or of one method's run with one seed."""
    return osp.join(out, 'locks', 'teacher.lock') if seed is None else \
        osp.join(out, 'runs', name, f'seed{seed}.lock')


def run_state(work_dir: str, key: str, done: bool, running: bool = False) -> str:
    """What running a planned run would do: ``done``, ``running`` (another process holds
    its lock: this one would wait for its result), ``resume at N``, ``new``, ``redo``."""
    if done:
        return 'done'
    if running:
        return 'running'
    key_file, last = osp.join(work_dir, 'run_key.txt'), osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(key_file) and osp.isfile(last):
        with open(key_file) as f:
            if f.read().strip() == key:
                with open(last) as f:
                    ckpt = osp.basename(f.read().strip())
                return f'resume at {ckpt[len("iter_"):-len(".pth")]}' \
                    if ckpt.startswith('iter_') else 'resume'
    return 'redo' if osp.isdir(work_dir) else 'new'


def train_teacher(args, data_root: str) -> dict:
    """Train the teacher once per (resolved config, data, iterations); reuse it after."""
    os.makedirs(args.out, exist_ok=True)
    probe = osp.join(args.out, 'teacher.py')
    n = args.teacher_iters
    plan = plan_teacher(args, data_root, probe)
    teacher_cfg, options, key = plan['config'], plan['options'], plan['key']
    work_dir, ckpt = plan['work_dir'], plan['checkpoint']
    summary_file = osp.join(work_dir, 'metrics.json')
    if osp.isfile(ckpt) and osp.isfile(summary_file):
        os.remove(probe)
        with open(summary_file) as f:
            result = json.load(f)
        # timed again from the log (the run's time is defined on the log, see parse_run)
        result['cost'].update(parse_run(read_scalars(work_dir), n, n, args.warmup_iters,
                                        args.task)['cost'])
        print(f'teacher: reusing {ckpt} ({_ap(result["metrics"])})', flush=True)
        return dict(result, cached=True)
    resume = start_or_resume(work_dir, key)
    # beside the work dir: the Runner writes the resolved config into the work dir
    cfg_file = osp.join(args.out, f'teacher-{key}.py')
    shutil.move(probe, cfg_file)
    print(f'teacher: {"resuming" if resume else "training"} {teacher_cfg} for {n} iterations '
          f'-> {work_dir}', flush=True)
    run = train(cfg_file, work_dir, options, osp.join(work_dir, 'train.log'), resume)
    run.update(run_segments(work_dir, run))
    if run['returncode'] != 0 or not osp.isfile(ckpt):
        sys.exit(f'benchmark: the teacher failed (exit code {run["returncode"]}); see '
                 f'{osp.join(work_dir, "train.log")}:\n{_tail(osp.join(work_dir, "train.log"))}')
    parsed = parse_run(read_scalars(work_dir), n, n, args.warmup_iters, args.task)
    result = dict(config=teacher_cfg, work_dir=work_dir, checkpoint=ckpt, key=key,
                  metrics=parsed['metrics'],
                  cost=dict(parsed['cost'], wall_s=run['wall_s'],
                            peak_rss_mib=run['peak_rss_mib'], segments=run['segments'],
                            load5=run['load5']))
    with open(summary_file, 'w') as f:
        json.dump(result, f, indent=1)
    print(f'teacher: {_ap(result["metrics"])} in {parsed["cost"]["run_s"]:.0f} s', flush=True)
    return dict(result, cached=False)


def plan_run(args, name: str, seed: int, data_root: str, teacher_ckpt: str,
             cfg_file: str) -> dict:
    """One method's run with one seed: its config (written to ``cfg_file``), options, key."""
    spec = task_methods(args.task)[name]
    policy_interval = max(1, min(20, args.iters // 15))
    cfg, text = write_run_config(cfg_file, spec['config'], spec.get('overrides'), args.iters,
                                 policy_interval)
    options = common_options(data_root, args.img_size, args.iters, args.eval_interval, seed,
                             args.score_thr, cfg, args.task, args.models)
    if 'teacher' in cfg.model:
        options.append(f'model.teacher_ckpt={teacher_ckpt}')
    return dict(options=options, key=_hash(semantic_text(text), options),
                work_dir=osp.join(args.out, 'runs', name, f'seed{seed}'))


def _recorded(summary_file: str, key: str):
    """The run's ``metrics.json`` record if it was written for ``key``, else None."""
    if osp.isfile(summary_file):
        with open(summary_file) as f:
            record = json.load(f)
        if record.get('key') == key:
            return record
    return None


def dry_run(args, data_root: str) -> list:
    """What the command would do, run by run, without training or writing under ``--out``.

    Returns:
        list: ``(name, seed, state, work_dir)`` for the teacher (seed None) and each job in
        running order; ``state`` as in :func:`run_state`.
    """
    from sokd_mmdet.benchmark.locks import locked_elsewhere
    with tempfile.TemporaryDirectory() as tmp:
        teacher = plan_teacher(args, data_root, osp.join(tmp, 'teacher.py'))
        done = osp.isfile(teacher['checkpoint']) and osp.isfile(
            osp.join(teacher['work_dir'], 'metrics.json'))
        running = locked_elsewhere(run_lock(args.out, 'teacher', None))
        rows = [('teacher', None,
                 run_state(teacher['work_dir'], teacher['key'], done, running),
                 teacher['work_dir'])]
        for name, seed in plan_jobs(args.methods, args.seeds, task_methods(args.task),
                                    args.ablation_seeds):
            plan = plan_run(args, name, seed, data_root, teacher['checkpoint'],
                            osp.join(tmp, f'{name}-seed{seed}.py'))
            done = _recorded(osp.join(plan['work_dir'], 'metrics.json'), plan['key'])
            running = locked_elsewhere(run_lock(args.out, name, seed))
            rows.append((name, seed,
                         run_state(plan['work_dir'], plan['key'], done is not None, running),
                         plan['work_dir']))
    return rows


def done_jobs(rows: list, jobs: list) -> tuple:
    """``jobs`` split into those already done and the rest (``--done-only``), by the
    states of :func:`dry_run`'s ``rows``.

    Returns:
        tuple[list, list]: the done ``(name, seed)`` jobs; the others as ``{'method',
        'seed', 'state'}`` (state as in :func:`run_state`), each also printed.
    """
    states = {(name, seed): state for name, seed, state, _ in rows[1:]}
    done = [job for job in jobs if states[job] == 'done']
    not_run = [dict(method=name, seed=seed, state=states[(name, seed)])
               for name, seed in jobs if states[(name, seed)] != 'done']
    for job in not_run:
        print(f'{job["method"]} seed {job["seed"]}: not done ({job["state"]}), left out '
              '(--done-only)', flush=True)
    return done, not_run


def run_method(args, name: str, seed: int, data_root: str, teacher_ckpt: str) -> dict:
    """Train (or reuse) one method with one seed; its record for ``results.json``."""
    work_dir = osp.join(args.out, 'runs', name, f'seed{seed}')
    os.makedirs(osp.dirname(work_dir), exist_ok=True)
    # beside the work dir: the Runner writes the resolved config into the work dir
    cfg_file = osp.join(osp.dirname(work_dir), f'seed{seed}.py')
    plan = plan_run(args, name, seed, data_root, teacher_ckpt, cfg_file)
    options, key = plan['options'], plan['key']
    summary_file = osp.join(work_dir, 'metrics.json')
    record = _recorded(summary_file, key)
    if record is not None:
        # timed again from the log, in case --warmup-iters changed
        parsed = parse_run(read_scalars(work_dir), args.iters, args.eval_interval,
                           args.warmup_iters, args.task)
        record['cost'].update(parsed['cost'])
        return dict(record, cached=True)
    # an outdated run starts afresh; an interrupted one goes on from its last checkpoint
    resume = start_or_resume(work_dir, key)
    log = osp.join(work_dir, 'train.log')
    run = train(cfg_file, work_dir, options, log, resume)
    run.update(run_segments(work_dir, run))
    try:
        if run['returncode'] != 0:
            raise RuntimeError(f'exit code {run["returncode"]}')
        parsed = parse_run(read_scalars(work_dir), args.iters, args.eval_interval,
                           args.warmup_iters, args.task)
    except (RuntimeError, ValueError, FileNotFoundError) as err:
        return dict(method=name, seed=seed, failed=True, log=log, error=str(err))
    history = osp.join(work_dir, 'policy_history.json')
    policy = None
    if osp.isfile(history):
        with open(history) as f:
            policy = [{k: h[k] for k in ('iter', 'apply_prob', 'magnitude')}
                      for h in json.load(f)]
    record = dict(method=name, seed=seed, key=key, work_dir=work_dir,
                  config=cfg_file, metrics=parsed['metrics'], curve=parsed['curve'],
                  no_detections=parsed['no_detections'], policy_history=policy,
                  cost=dict(parsed['cost'], wall_s=run['wall_s'],
                            peak_rss_mib=run['peak_rss_mib'], segments=run['segments'],
                            load5=run['load5']))
    with open(summary_file, 'w') as f:
        json.dump(record, f, indent=1)
    if args.drop_checkpoints:
        for ckpt in glob.glob(osp.join(work_dir, 'iter_*.pth')):
            os.remove(ckpt)
    return dict(record, cached=False)


# ------------------------------------------------------------------------------ report
def estimate_left(left: list, spent: dict, done) -> float:
    """Seconds that the ``(method, seed)`` jobs ``left`` should still take.

    Each job costs its method's mean wall time so far (SoKD is slower than the rest), or the
    mean over every method before its method has run once; a job for which ``done(job)``
    holds (made by another process, or earlier) costs nothing.
    """
    if not spent:
        return 0.0
    overall = statistics.fmean(w for ws in spent.values() for w in ws)
    return sum(statistics.fmean(spent[name]) if name in spent else overall
               for name, seed in left if not done((name, seed)))


def _gpu_name() -> Optional[str]:
    """The GPU the runs train on (MMEngine's default device), or None."""
    import torch
    if not torch.cuda.is_available():
        return None
    count = torch.cuda.device_count()
    return torch.cuda.get_device_name(0) + (f' (x{count} visible)' if count > 1 else '')


def machine_info() -> dict:
    """CPU model, cores, thread setting, GPU, library versions."""
    cpu = platform.processor() or '?'
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f
                       if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    info = dict(cpu_model=cpu, logical_cores=os.cpu_count(),
                usable_cores=len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity')
                else os.cpu_count(),
                omp_num_threads=os.environ.get('OMP_NUM_THREADS'),
                python=platform.python_version(), platform=platform.platform(),
                gpu=_gpu_name())
    for pkg in ('torch', 'mmengine', 'mmcv', 'mmdet', 'mmrazor'):
        try:
            info[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            info[pkg] = None
    try:  # the code that ran: commit, and whether the working tree differed from it
        git = ['git', '-C', ROOT]
        info['commit'] = subprocess.run(git + ['rev-parse', '--short', 'HEAD'],
                                        capture_output=True, text=True).stdout.strip()
        info['uncommitted_changes'] = bool(subprocess.run(  # read-only: no index refresh
            git + ['status', '--porcelain', '--untracked-files=no'], capture_output=True,
            text=True, env=dict(os.environ, GIT_OPTIONAL_LOCKS='0')).stdout.strip())
    except OSError:
        info['commit'] = None
    return info


def _ap(metrics) -> str:
    """The headline metric of a run: COCO AP (%) or top-1 (%)."""
    if metrics and 'top1' in metrics:
        return 'top-1 n/a' if metrics['top1'] is None else f'top-1 {metrics["top1"]:.1f}'

    return 'n/a' if not metrics or metrics.get('AP') is None else f'{100 * metrics["AP"]:.1f}'


def _tail(path: str, n: int = 30) -> str:
    with open(path, errors='replace') as f:
        return ''.join(f.readlines()[-n:])


def _fmt_s(seconds: float) -> str:
    seconds = int(round(seconds))
    return f'{seconds // 3600}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s'


def write_outputs(args, results: dict) -> None:
    """``results.json`` and the page with its plots (classification: the page's own section)."""
    from sokd_mmdet.benchmark import (render_classification, replace_block, verdict_sentence,
                                      write_report)
    with open(osp.join(args.out, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    report = args.report if osp.isabs(args.report) else osp.join(os.getcwd(), args.report)
    os.makedirs(osp.dirname(report), exist_ok=True)
    if results.get('task') == 'classification':
        old = open(report).read() if osp.isfile(report) else None
        with open(report, 'w') as f:
            f.write(replace_block(old, render_classification(results)))
        print(f'wrote {osp.join(args.out, "results.json")}, {report} (classification section)',
              flush=True)
        return
    summary = write_report(results, report)
    print('wrote ' + ', '.join([osp.join(args.out, 'results.json')] + summary['files']),
          flush=True)
    for c in summary['comparisons']:
        print('  ' + verdict_sentence(c).replace('**', ''), flush=True)


def main(argv=None):
    args = parse_args(argv)
    args.out = osp.abspath(args.out)
    command = shlex.join(['python', 'tools/benchmark.py'] + list(
        sys.argv[1:] if argv is None else argv))
    if args.report_only:
        with open(osp.join(args.out, 'results.json')) as f:
            write_outputs(args, json.load(f))
        return
    t0 = time.time()
    started = time.strftime('%Y-%m-%d %H:%M:%S %Z')
    from sokd_mmdet.benchmark.locks import RunLock, claim_in_turn, held
    from sokd_mmdet.benchmark.process import exit_on_termination
    exit_on_termination()  # `kill` of this process also ends the training it runs
    from sokd_mmdet.datasets import (generate_classification_dataset,
                                     generate_detection_dataset)
    cls = args.task == 'classification'
    data_root = data_root_of(args)
    if args.dry_run:
        rows = dry_run(args, data_root)
        for name, seed, state, work_dir in rows:
            label = name if seed is None else f'{name} seed {seed}'
            print(f'{label:<36} {state:<14} {work_dir}')
        counts = collections.Counter(state.split(' ')[0] for _, _, state, _ in rows)
        print('dry run, nothing trained: ' + ', '.join(f'{counts[k]} {k}' for k in (
            'done', 'running', 'resume', 'new', 'redo') if counts[k]))
        return
    planned = dry_run(args, data_root) if args.done_only else None
    if args.done_only and planned[0][2] != 'done':
        sys.exit('benchmark --done-only: the teacher is not trained yet; nothing to report')
    print(f'data: {args.num_train} train / {args.num_val} held-out images of '
          f'{args.img_size} px -> {data_root}', flush=True)
    # another benchmark process on the same --out may be writing the same data
    with held(RunLock(osp.join(args.out, 'locks', 'data.lock')), 'data'):
        if cls:
            generate_classification_dataset(data_root, num_train=args.num_train,
                                            num_val=args.num_val, img_size=args.img_size,
                                            seed=args.data_seed, progress=False)
        else:
            generate_detection_dataset(data_root, num_train=args.num_train,
                                       num_val=args.num_val,
                                       img_size=(args.img_size, args.img_size),
                                       seed=args.data_seed, progress=False)
    with held(RunLock(run_lock(args.out, 'teacher', None)), 'teacher'):
        teacher = train_teacher(args, data_root)

    jobs = plan_jobs(args.methods, args.seeds, task_methods(args.task), args.ablation_seeds)
    not_run = []
    if args.done_only:
        jobs, not_run = done_jobs(planned, jobs)
        args.methods = [m for m in args.methods if any(job[0] == m for job in jobs)]
    runs, failed, spent, left = [], [], {}, list(jobs)
    claimed = claim_in_turn(
        jobs, lambda job: RunLock(run_lock(args.out, *job)),
        on_wait=lambda job: print(f'{job[0]} seed {job[1]}: another benchmark process is '
                                  'training it; waiting for its result', flush=True))
    for k, ((name, seed), _) in enumerate(claimed, 1):
        start = time.time()
        print(f'[{k}/{len(jobs)}] {name} seed {seed}: '
              f'{"reading its result" if args.done_only else "training"}...', flush=True)
        record = run_method(args, name, seed, data_root, teacher['checkpoint'])
        took = time.time() - start
        if record.get('failed'):
            failed.append({k: record[k] for k in ('method', 'seed', 'log')})
            print(f'[{k}/{len(jobs)}] {name} seed {seed}: FAILED ({record["error"]}), see '
                  f'{record["log"]}:\n{_tail(record["log"], 15)}', flush=True)
        else:
            runs.append(record)
        # a resumed or reused run counts with its whole logged time
        spent.setdefault(name, []).append(record.get('cost', {}).get('run_s', took))
        left.remove((name, seed))
        eta = estimate_left(left, spent, lambda job: osp.isfile(
            osp.join(args.out, 'runs', job[0], f'seed{job[1]}', 'metrics.json')))
        status = 'reused' if record.get('cached') else f'{took:.0f} s'
        if not record.get('failed'):
            print(f'[{k}/{len(jobs)}] {name} seed {seed}: {_ap(record["metrics"])} '
                  f'({status}), elapsed {_fmt_s(time.time() - t0)}, ETA {_fmt_s(eta)}',
                  flush=True)

    machine = dict(machine_info(), started=started,
                   finished=time.strftime('%Y-%m-%d %H:%M:%S %Z'))
    settings = {k: getattr(args, k) for k in ('num_train', 'num_val', 'img_size', 'data_seed',
                                              'iters', 'teacher_iters', 'eval_interval',
                                              'seeds', 'ablation_seeds', 'warmup_iters',
                                              'score_thr', 'quick', 'models')}
    results = dict(
        schema=1, task=args.task, command=command, machine=machine, settings=settings,
        methods={n: {k: task_methods(args.task)[n].get(k)
                     for k in ('config', 'base', 'about', 'overrides', 'ablation')}
                 for n in args.methods},
        teacher=teacher, runs=runs, failed=failed, not_run=not_run,
        total_wall_s=time.time() - t0)
    write_outputs(args, results)
    print(f'benchmark finished in {_fmt_s(time.time() - t0)}', flush=True)
    if failed:
        sys.exit(f'benchmark: {len(failed)} run(s) failed: ' +
                 ', '.join(f'{f["method"]} seed {f["seed"]}' for f in failed))


if __name__ == '__main__':
    main()
