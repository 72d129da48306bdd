"""The demo: distillation on the built-in data, student alone vs CWD vs SoKD, in minutes.

1. check the shipped weights (``demo/weights/``, against their SHA-256 sums): a teacher
   RetinaNet ResNet-34-w32 trained on the built-in data (128 px) and the student's
   ResNet-18-w16 backbone pretrained on the built-in classification data, both made by
   ``python tools/make_demo_weights.py`` from the benchmark's runs;
2. generate the built-in detection data (``data/shapes_demo``; skipped when there);
3. train three students from the same pretrained backbone for the same iterations, two at a
   time (one thread each): the student alone, CWD from the teacher, SoKD over that CWD;
   every run is evaluated (COCO mAP, MMDetection's CocoMetric) on the held-out split;
4. evaluate the shipped teacher on the same split, draw DAM's regions on two held-out images;
5. print the table, the paths of the policy plot and the pictures (also in ``results.md``).

    python tools/quickstart.py [--work-dir work_dirs/demo] [--iters 1200] [--jobs 2]
        [--data-root data/shapes_demo] [--num-train 2000] [--num-val 500] [--data-seed 0]
        [--weights demo/weights]

The data is the benchmark's tuning draw (data seed 0); the teacher was trained on the
benchmark's own draw (seed 1), so no held-out image here was seen by it. The schedule is
the configs' (AdamW, warm-up, x0.1 at 50 % and 75 %) stretched to ``--iters``; the
benchmark trains 6000 iterations (``tools/benchmark.py``).
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import time
import warnings

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)  # this checkout's package and its benchmark/, not installed
from benchmark.demo_weights import DemoWeightsError, check_weights  # noqa: E402
from benchmark.locks import RunLock  # noqa: E402
from benchmark.progress import duration, log_tail  # noqa: E402

TEACHER_CFG = 'configs/quickstart/retinanet_r34_shapes_teacher.py'
IMG = 128  # the shipped teacher's image size
# (name, config, what the table calls it), the longest first so that it starts first
RUNS = (('sokd_cwd', 'configs/quickstart/sokd_cwd_retinanet_r34_r18_shapes.py', 'SoKD over CWD'),
        ('student', 'configs/quickstart/retinanet_r18_shapes_student.py',
         'alone'), ('cwd', 'configs/quickstart/cwd_retinanet_r34_r18_shapes.py', 'CWD'))
TABLE_ORDER = ('student', 'cwd', 'sokd_cwd')
_ITER = re.compile(r'Iter\(train\) \[\s*(\d+)/(\d+)\]')


def last_iter(log_text: str) -> int:
    """The last training iteration an MMEngine log reports (0 before the first)."""
    found = _ITER.findall(log_text)
    return int(found[-1][0]) if found else 0


def eta_seconds(progress: dict, iters: int, jobs: int) -> float:
    """Seconds of training left, from the pace of the runs that have started.

    Args:
        progress (dict): per run, ``(iterations done, seconds it has trained, state)``
            with state ``'queued'``, ``'running'`` or ``'finished'`` (a finished run's
            seconds stop at its end).
        iters (int): each run's length.
        jobs (int): runs trained at a time.

    Returns:
        float: the running runs' iterations left at their own pace, the queued ones' at the
        mean pace so far, each queued run on the worker that frees first; ``nan`` before
        any iteration is done.
    """
    paces = [spent / done for done, spent, _ in progress.values() if done > 0]
    if not paces:
        return float('nan')
    mean = sum(paces) / len(paces)
    workers = [(iters - done) * (spent / done if done else mean)
               for done, spent, state in progress.values() if state == 'running']
    workers += [0.0] * max(0, jobs - len(workers))
    for done, spent, state in progress.values():
        if state == 'queued':
            i = workers.index(min(workers))
            workers[i] += iters * mean
    return max(workers) if workers else 0.0


def run_options(cfg, data_root: str, iters: int, weights: dict) -> list:
    """``--cfg-options`` of one demo run: data, image size, length, the shipped weights."""
    from benchmark.options import common_options
    opts = common_options(data_root, IMG, iters, iters, 0, None, cfg)
    opts.append(f'default_hooks.checkpoint.interval={iters}')
    if 'architecture' in cfg.model:
        opts += [
            f'model.architecture.backbone.init_cfg.checkpoint={weights["backbone"]}',
            f'model.teacher_ckpt={weights["teacher"]}'
        ]
    else:
        opts.append(f'model.backbone.init_cfg.checkpoint={weights["backbone"]}')
    return opts


def final_metrics(work_dir: str, iters: int) -> dict:
    """AP and AP50 (%) of a run's evaluation at ``iters`` (from its ``scalars.json``)."""
    from benchmark.scalars import parse_run, read_scalars
    parsed = parse_run(read_scalars(work_dir), iters, iters, 0)
    return {k: 100 * parsed['metrics'][k] for k in ('AP', 'AP50')}


def teacher_metrics(work_dir: str) -> dict:
    """AP and AP50 (%) that ``tools/test.py`` logged under ``work_dir`` (its last record;
    0 when no box passed the score threshold: MMDetection's CocoMetric then logs no mAP)."""
    files = sorted(glob.glob(osp.join(work_dir, '*', '*.json')))
    lines = []
    if files:
        with open(files[-1]) as f:
            lines = [line for line in f if line.strip()]
    if not lines:
        raise RuntimeError(f'the teacher evaluation logged no metrics in {work_dir}/*/*.json; '
                           f'see {osp.join(work_dir, "test.log")}')
    from benchmark.scalars import evaluation_point
    point = evaluation_point(json.loads(lines[-1]), 0)
    return {k: 100 * point[k] for k in ('AP', 'AP50')}


def results_table(rows: list, teacher: dict) -> str:
    """The Markdown table of the demo: one row per student, then the teacher."""
    lines = ['| RetinaNet | backbone | AP | AP50 |', '|---|---|---|---|']
    for label, metrics in rows:
        lines.append(f'| student: {label} | ResNet-18-w16 | {metrics["AP"]:.1f} | '
                     f'{metrics["AP50"]:.1f} |')
    lines.append(f'| teacher (shipped, not trained here) | ResNet-34-w32 | {teacher["AP"]:.1f} '
                 f'| {teacher["AP50"]:.1f} |')
    return '\n'.join(lines)


def _log_tail_text(path: str, size: int = 1 << 16) -> str:
    """The last ``size`` bytes of a log (enough for its last iteration line)."""
    if not osp.isfile(path):
        return ''
    with open(path, 'rb') as f:
        f.seek(max(0, osp.getsize(path) - size))
        return f.read().decode(errors='replace')


def _train_runs(args, weights: dict) -> dict:
    """Train the three students, ``args.jobs`` at a time, printing their progress.

    The children are started and watched from this thread: a failed run stops the demo at
    once, naming its log, and Ctrl-C or ``kill`` of the demo kills the trainings with it.

    Returns:
        dict: each run's wall time in seconds.
    """
    from benchmark.run_config import write_run_config
    from benchmark.training import child_env, train_command
    plans = {}
    for name, config, _ in RUNS:
        work_dir = osp.join(args.work_dir, name)
        shutil.rmtree(work_dir, ignore_errors=True)  # a rerun's curves are its own
        os.makedirs(work_dir, exist_ok=True)
        cfg_file = osp.join(args.work_dir, f'{name}.py')
        cfg, _ = write_run_config(cfg_file, config, args.iters, max(1, args.iters // 20),
                                  'tools/quickstart.py')
        plans[name] = (train_command(cfg_file, work_dir,
                                     run_options(cfg, args.data_root, args.iters,
                                                 weights)), osp.join(work_dir, 'train.log'))
    queue, running, walls, t0, shown = [name for name, _, _ in RUNS], {}, {}, time.time(), 0.0
    try:
        while queue or running:
            while queue and len(running) < args.jobs:
                name = queue.pop(0)
                cmd, log = plans[name]
                f = open(log, 'w')
                proc = subprocess.Popen(
                    cmd, cwd=ROOT, env=child_env(), stdout=f, stderr=subprocess.STDOUT)
                running[name] = (proc, f, time.time())
            time.sleep(1)
            for name, (proc, f, started) in list(running.items()):
                if proc.poll() is None:
                    continue
                f.close()
                del running[name]
                if proc.returncode != 0:
                    log = plans[name][1]
                    sys.exit(f'demo: the {name} run failed (exit code {proc.returncode}); '
                             f'see {log}:\n{log_tail(log)}')
                walls[name] = time.time() - started
            if time.time() - shown >= 15 or not (queue or running):
                shown = time.time()
                progress = {}
                for name, _, _ in RUNS:
                    done = last_iter(_log_tail_text(plans[name][1]))
                    if name in running:
                        progress[name] = (done, time.time() - running[name][2], 'running')
                    elif name in walls:
                        progress[name] = (args.iters, walls[name], 'finished')
                    else:
                        progress[name] = (0, 0.0, 'queued')
                eta = eta_seconds(progress, args.iters, args.jobs)
                state = ', '.join(f'{n} {p[0]}/{args.iters}' for n, p in progress.items())
                print(
                    f'[demo {duration(time.time() - t0)}] {state}' +
                    ('' if eta != eta else f', training left: about {duration(eta)}'),
                    flush=True)
    except BaseException:
        for proc, f, _ in running.values():  # Ctrl-C, kill, a failed run: no orphans
            proc.kill()
            proc.wait()
            f.close()
        raise
    return walls


def _run_tool(step: str, argv: list, log: str) -> None:
    """Run a project tool in a fresh interpreter, its output in ``log``; stop on failure."""
    from benchmark.training import child_env
    print(f'=== {step}', flush=True)
    with open(log, 'w') as f:
        code = subprocess.call(
            [sys.executable] + argv, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
            env=child_env())  # (call() kills the child on Ctrl-C or kill)
    if code != 0:
        sys.exit(f'demo: "{step}" failed with exit code {code}; see {log}:\n{log_tail(log)}')


def main(argv=None) -> None:
    """Run the demo of the command line ``argv`` (default: ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/shapes_demo')
    parser.add_argument('--iters', type=int, default=1200, help='iterations of each student')
    parser.add_argument('--jobs', type=int, default=2, help='runs trained at a time')
    parser.add_argument('--num-train', type=int, default=2000)
    parser.add_argument('--num-val', type=int, default=500)
    parser.add_argument('--data-seed', type=int, default=0)
    parser.add_argument(
        '--weights', default=osp.join(ROOT, 'demo', 'weights'), help='the shipped weights')
    args = parser.parse_args(argv)
    # setuptools' notice, raised by an import in MMEngine: nothing the user can act on
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
    if args.iters < 1 or args.jobs < 1:
        parser.error('--iters and --jobs must be positive')
    args.work_dir = osp.abspath(args.work_dir)
    args.data_root = osp.abspath(args.data_root)
    args.weights = osp.abspath(args.weights)
    os.environ.setdefault('OMP_NUM_THREADS', '1')  # one thread per run: --jobs runs at once
    from benchmark.process import exit_on_termination
    exit_on_termination()  # Ctrl-C or kill also ends the trainings
    t0 = time.time()
    try:
        weights = check_weights(args.weights)
    except DemoWeightsError as err:
        sys.exit(f'demo: {err}')
    print(f'=== the shipped weights: {weights["teacher"]}, {weights["backbone"]} (sums checked)')

    from sokd_mmdet.datasets import generate_detection_dataset
    print(
        f'=== data: {args.num_train} training / {args.num_val} held-out images of {IMG} px, '
        f'data seed {args.data_seed} -> {args.data_root}',
        flush=True)
    generate_detection_dataset(
        args.data_root,
        num_train=args.num_train,
        num_val=args.num_val,
        img_size=(IMG, IMG),
        seed=args.data_seed,
        progress=True)
    os.makedirs(args.work_dir, exist_ok=True)
    lock = RunLock(osp.join(args.work_dir, 'demo.lock'))
    if not lock.acquire(block=False):
        sys.exit(f'demo: another demo is running in {args.work_dir}; wait for it or pass '
                 'another --work-dir')
    print(
        f'=== three students, {args.iters} iterations each, {args.jobs} at a time '
        f'(logs: {args.work_dir}/<run>/train.log)',
        flush=True)
    walls = _train_runs(args, weights)

    from benchmark.options import common_options
    from benchmark.run_config import load_config
    teacher_dir = osp.join(args.work_dir, 'teacher_test')
    shutil.rmtree(teacher_dir, ignore_errors=True)
    os.makedirs(teacher_dir)
    cfg = load_config(osp.join(ROOT, TEACHER_CFG))
    _run_tool('evaluate the shipped teacher on the held-out split', [
        'tools/test.py', TEACHER_CFG, weights['teacher'], '--work-dir', teacher_dir,
        '--cfg-options',
        *common_options(args.data_root, IMG, 1, 1, 0, None, cfg, plain_role='teacher')
    ], osp.join(teacher_dir, 'test.log'))
    sokd_dir = osp.join(args.work_dir, 'sokd_cwd')
    pictures = osp.join(args.work_dir, 'pictures')
    shutil.rmtree(pictures, ignore_errors=True)  # a rerun's pictures only
    sokd_cfg = osp.join(args.work_dir, 'sokd_cwd.py')
    _run_tool("draw DAM's regions and DAFA's augmentation on two held-out images", [
        'tools/visualize_sokd.py', sokd_cfg,
        osp.join(sokd_dir, f'iter_{args.iters}.pth'), '--images', '2', '--out-dir', pictures,
        '--cfg-options', *run_options(load_config(sokd_cfg), args.data_root, args.iters, weights)
    ], osp.join(args.work_dir, 'pictures.log'))

    labels = {name: label for name, _, label in RUNS}
    rows = [(labels[n], final_metrics(osp.join(args.work_dir, n), args.iters))
            for n in TABLE_ORDER]
    table = results_table(rows, teacher_metrics(teacher_dir))
    regions = sorted(glob.glob(osp.join(pictures, 'regions_*.png')))
    summary = '\n'.join([
        f'The demo, {duration(time.time() - t0)}: {args.num_train} training / {args.num_val} '
        f'held-out images of {IMG} px (data seed {args.data_seed}), each student '
        f'{args.iters} iterations from the same pretrained backbone; COCO bbox mAP (%) on '
        'the held-out images.', '', table, '',
        f'- learned DAFA policy: {osp.join(sokd_dir, "policy.png")}',
        f'- DAM regions: {regions[0] if regions else pictures} ({len(regions)} pictures in '
        f'{pictures})', f'- training logs: {args.work_dir}/<run>/train.log',
        '- wall time of each run, two at a time on shared cores (not a cost comparison: '
        '`tools/benchmark_cost.py` measures that): ' + ', '.join(f'{n} {duration(walls[n])}'
                                                                 for n in TABLE_ORDER)
    ])
    with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
        f.write(summary + '\n')
    print('\n' + summary)


if __name__ == '__main__':
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    main()
