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

The data is the benchmark's tuning draw (data seed 0); the teacher was trained on the
benchmark's own draw (seed 1), so no held-out image here was seen by it. The schedule is
the configs' (AdamW, warm-up, x0.1 at 50 % and 75 %) stretched to ``--iters``; the
benchmark trains 6000 iterations (``tools/benchmark.py``).
"""
import argparse
import concurrent.futures
import glob
import json
import os
import os.path as osp
import re
import shutil
import sys
import time
import warnings

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)  # this checkout's package and its benchmark/, not installed
from benchmark.demo_weights import DemoWeightsError, check_weights  # noqa: E402
from benchmark.progress import duration, log_tail  # noqa: E402
from benchmark.training import train  # noqa: E402

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


def eta_seconds(done: dict, elapsed: dict, iters: int, jobs: int) -> float:
    """Seconds left for all runs, from the pace of those that have started.

    Args:
        done (dict): iterations done per run (0 for one that has not started).
        elapsed (dict): seconds each started run has been training.
        iters (int): each run's length.
        jobs (int): runs trained at a time.

    Returns:
        float: the iterations left at the mean time per iteration so far, spread over the
        ``jobs`` workers; ``nan`` before any iteration is done.
    """
    paces = [elapsed[n] / done[n] for n in done if done[n] > 0 and n in elapsed]
    if not paces:
        return float('nan')
    left = sum(iters - d for d in done.values())
    return left * (sum(paces) / len(paces)) / min(jobs, max(1, len(done)))


def run_options(name: str, cfg, data_root: str, iters: int, weights: dict) -> list:
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


def test_metrics(work_dir: str) -> dict:
    """AP and AP50 (%) that ``tools/test.py`` logged under ``work_dir``."""
    for path in sorted(glob.glob(osp.join(work_dir, '*', '*.json')), reverse=True):
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                if 'coco/bbox_mAP' in rec:
                    return {
                        'AP': 100 * rec['coco/bbox_mAP'],
                        'AP50': 100 * rec['coco/bbox_mAP_50']
                    }
    raise FileNotFoundError(f'no COCO metrics in {work_dir}/*/*.json')


def results_table(rows: list, teacher: dict) -> str:
    """The Markdown table of the demo: one row per student, then the teacher."""
    lines = ['| RetinaNet | backbone | AP | AP50 | training time |', '|---|---|---|---|---|']
    for label, metrics, seconds in rows:
        lines.append(f'| student: {label} | ResNet-18-w16 | {metrics["AP"]:.1f} | '
                     f'{metrics["AP50"]:.1f} | {duration(seconds)} |')
    lines.append(f'| teacher (shipped, not trained here) | ResNet-34-w32 | {teacher["AP"]:.1f} '
                 f'| {teacher["AP50"]:.1f} | |')
    return '\n'.join(lines)


def _train_runs(args, weights: dict) -> dict:
    """Train the three students, ``args.jobs`` at a time, printing their progress."""
    from benchmark.run_config import write_run_config
    started, logs, futures, plans = {}, {}, {}, {}
    # the configs are written and read here, one after another (MMEngine's config loading
    # is not safe to run in several threads at once)
    for name, config, _ in RUNS:
        work_dir = osp.join(args.work_dir, name)
        shutil.rmtree(work_dir, ignore_errors=True)  # a rerun's curves are its own
        os.makedirs(work_dir)
        cfg_file = osp.join(args.work_dir, f'{name}.py')
        cfg, _ = write_run_config(cfg_file, config, args.iters, max(1, args.iters // 20))
        logs[name] = osp.join(work_dir, 'train.log')
        plans[name] = (cfg_file, work_dir,
                       run_options(name, cfg, args.data_root, args.iters, weights))

    def one(name):
        started[name] = time.time()
        cfg_file, work_dir, options = plans[name]
        return train(cfg_file, work_dir, options, logs[name])

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for name, _, _ in RUNS:
            futures[name] = pool.submit(one, name)
        t0 = time.time()
        while not all(f.done() for f in futures.values()):
            time.sleep(1 if time.time() - t0 < 5 else 15)
            done, elapsed = {}, {}
            for name in futures:
                done[name] = 0
                if name in started and osp.isfile(logs[name]):
                    with open(logs[name], errors='replace') as f:
                        done[name] = last_iter(f.read())
                    elapsed[name] = time.time() - started[name]
            eta = eta_seconds(done, elapsed, args.iters, args.jobs)
            state = ', '.join(f'{n} {d}/{args.iters}' for n, d in done.items())
            print(
                f'[demo {duration(time.time() - t0)}] {state}' +
                ('' if eta != eta else f', about {duration(eta)} left'),
                flush=True)
    runs = {}
    for name, future in futures.items():
        run = future.result()
        if run['returncode'] != 0:
            sys.exit(f'demo: the {name} run failed (exit code {run["returncode"]}); see '
                     f'{logs[name]}:\n{log_tail(logs[name])}')
        runs[name] = run
    return runs


def _run_tool(step: str, argv: list, log: str) -> None:
    """Run a project tool in a fresh interpreter, its output in ``log``; stop on failure."""
    import subprocess
    print(f'=== {step}', flush=True)
    with open(log, 'w') as f:
        code = subprocess.call(
            [sys.executable] + argv,
            cwd=ROOT,
            stdout=f,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, MPLBACKEND='Agg', PYTHONUNBUFFERED='1'))
    if code != 0:
        sys.exit(f'demo: "{step}" failed with exit code {code}; see {log}:\n{log_tail(log)}')


def main(argv=None) -> None:
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
    print(
        f'=== three students, {args.iters} iterations each, {args.jobs} at a time '
        f'(logs: {args.work_dir}/<run>/train.log)',
        flush=True)
    runs = _train_runs(args, weights)

    from benchmark.options import common_options
    from benchmark.run_config import load_config
    teacher_dir = osp.join(args.work_dir, 'teacher_test')
    shutil.rmtree(teacher_dir, ignore_errors=True)
    os.makedirs(teacher_dir)
    cfg = load_config(osp.join(ROOT, TEACHER_CFG))
    _run_tool('evaluate the shipped teacher on the held-out split', [
        'tools/test.py', TEACHER_CFG, weights['teacher'], '--work-dir', teacher_dir,
        '--cfg-options', *common_options(args.data_root, IMG, 1, 1, 0, None, cfg)
    ], osp.join(teacher_dir, 'test.log'))
    sokd_dir = osp.join(args.work_dir, 'sokd_cwd')
    pictures = osp.join(args.work_dir, 'pictures')
    sokd_cfg = osp.join(args.work_dir, 'sokd_cwd.py')
    _run_tool("draw DAM's regions and DAFA's augmentation on two held-out images", [
        'tools/visualize_sokd.py', sokd_cfg,
        osp.join(sokd_dir, f'iter_{args.iters}.pth'), '--images', '2', '--out-dir', pictures,
        '--cfg-options',
        *run_options('sokd_cwd', load_config(sokd_cfg), args.data_root, args.iters, weights)
    ], osp.join(args.work_dir, 'pictures.log'))

    labels = {name: label for name, _, label in RUNS}
    rows = [(labels[n], final_metrics(osp.join(args.work_dir, n), args.iters), runs[n]['wall_s'])
            for n in TABLE_ORDER]
    table = results_table(rows, test_metrics(teacher_dir))
    regions = sorted(glob.glob(osp.join(pictures, 'regions_*.png')))
    summary = '\n'.join([
        f'The demo, {duration(time.time() - t0)}: {args.num_train} training / {args.num_val} '
        f'held-out images of {IMG} px (data seed {args.data_seed}), each student '
        f'{args.iters} iterations from the same pretrained backbone; COCO bbox mAP (%) on '
        'the held-out images.', '', table, '',
        f'- learned DAFA policy: {osp.join(sokd_dir, "policy.png")}',
        f'- DAM regions: {regions[0] if regions else pictures} ({len(regions)} pictures in '
        f'{pictures})', f'- training logs: {args.work_dir}/<run>/train.log'
    ])
    with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
        f.write(summary + '\n')
    print('\n' + summary)


if __name__ == '__main__':
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    main()
