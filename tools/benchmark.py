"""The reproducible distillation benchmark on the built-in data set, in one command.

1. generate the built-in data set (train split, and the generator's ``val`` split held out:
   it is evaluated for the table and the curves, never used for selection or tuning);
2. train the teacher once (cached in ``<out>/teacher-<hash>/`` by a hash of its resolved
   config, the data and the iterations);
3. train every method of ``benchmark/methods.py`` (each row a config file; the ablations
   are ``configs/**/ablations/*.py``) for every seed through ``tools/train.py`` in a fresh
   process, evaluating the held-out split every ``--eval-interval`` iterations; a run whose
   ``metrics.json`` exists (with the same resolved config) is not trained again, and a run
   that was interrupted goes on from its last checkpoint (one every 250 iterations), so an
   interrupted benchmark resumes where it stopped;
4. read the COCO mAP curves and per-iteration times from each run's ``scalars.json``, and
   its wall time and peak RSS from the process's own rusage;
5. write ``<out>/results.json`` and, from it, the page ``--report`` (``docs/benchmark.md``)
   and its plots (``images/`` next to the page).

Each finished run's record (no weights) is also written to ``--records``
(``benchmark/records/<out>/`` for an ``--out`` under ``work_dirs/``; ``benchmark/archive.py``),
which the repository commits: on a new machine a run with the same key is taken from its
record instead of being trained again, and ``--done-only`` writes the page from the records
alone.

    python tools/benchmark.py [--out work_dirs/benchmark] [--methods NAME ...]
        [--seeds 0 1 2] [--ablation-seeds 1] [--iters 1000] [--teacher-iters 4000]
        [--eval-interval 200]
        [--num-train 400] [--num-val 100] [--img-size 128] [--report docs/benchmark.md]
        [--drop-checkpoints] [--quick | --large] [--models r34-r18|r101-r50]
        [--report-only] [--dry-run] [--done-only] [--task detection|classification]
        [--records benchmark/records/benchmark]

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

This file is the command line only; the benchmark itself is the top-level ``benchmark/``
package of this checkout (development tooling, not installed with ``sokd_mmdet``).
"""
import argparse
import os.path as osp
import shlex
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)  # the package of this checkout and its benchmark/, not installed
from benchmark.archive import default_records_dir  # noqa: E402
from benchmark.methods import CLS_METHODS, METHODS  # noqa: E402
from benchmark.model_size import DEFAULT_SIZE, MODEL_SIZES  # noqa: E402
from benchmark.runner import run_benchmark  # noqa: E402
from benchmark.settings import FULL, LARGE, QUICK, resolve  # noqa: E402


def parse_args(argv=None):
    """The command line, completed from its setting (:func:`benchmark.settings.resolve`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--out',
        default=None,
        help='data, teacher, runs and results.json go here (default: '
        'work_dirs/benchmark, work_dirs/benchmark-<size> for other --models, '
        'work_dirs/benchmark-classification for --task classification)')
    parser.add_argument(
        '--task',
        choices=('detection', 'classification'),
        default='detection',
        help='detection (COCO mAP, the default) or classification (top-1); '
        'each writes its own part of the --report page')
    parser.add_argument(
        '--methods',
        nargs='+',
        metavar='NAME',
        default=None,
        help=f'detection: {", ".join(METHODS)}; classification: '
        f'{", ".join(CLS_METHODS)} (default: all of the task)')
    parser.add_argument('--seeds', nargs='+', type=int, default=None)
    parser.add_argument(
        '--ablation-seeds',
        type=int,
        default=1,
        metavar='N',
        help='ablation rows run on the first N of --seeds (default: 1)')
    parser.add_argument('--num-train', type=int, default=None)
    parser.add_argument(
        '--num-val', type=int, default=None, help='held-out images (evaluated, never tuned on)')
    parser.add_argument('--img-size', type=int, default=None)
    parser.add_argument(
        '--data-seed',
        type=int,
        default=None,
        help='data generator seed (default: the setting\'s; detection 1, the tuning draw '
        'being 0; classification 0, the tuning draw being 1)')
    parser.add_argument(
        '--teacher-data-seed',
        type=int,
        default=None,
        help="generator seed of the teacher's data and of the backbones' pretraining data "
        "(default: the setting's --data-seed, 1 for detection): another --data-seed (the "
        "tuning draw) changes the students' data only, and keeps the table's teacher")
    parser.add_argument('--iters', type=int, default=None, help='student iterations')
    parser.add_argument('--teacher-iters', type=int, default=None)
    parser.add_argument(
        '--pretrain-iters',
        type=int,
        default=None,
        help='detection: iterations of each backbone\'s pretraining on the built-in '
        'classification data')
    parser.add_argument('--pretrain-num-train', type=int, default=None)
    parser.add_argument('--pretrain-num-val', type=int, default=None)
    parser.add_argument(
        '--eval-interval',
        type=int,
        default=None,
        help='evaluate the held-out split every N iterations (curves)')
    parser.add_argument(
        '--warmup-iters',
        type=int,
        default=None,
        help='first iterations left out of the time per iteration')
    parser.add_argument(
        '--score-thr',
        type=float,
        default=None,
        help="detection score threshold (default: the configs' 0.05)")
    parser.add_argument(
        '--report',
        default=None,
        help='the Markdown page (default: docs/benchmark.md, '
        'docs/benchmark-<size>.md for other --models); its plots go to '
        'images/ beside it')
    parser.add_argument(
        '--drop-checkpoints',
        action='store_true',
        help="delete each student's checkpoint once its metrics are "
        'recorded (about 240 MB each)')
    parser.add_argument(
        '--quick',
        action='store_true',
        help='tiny smoke setting: ' + ', '.join(f'{k}={v}' for k, v in QUICK.items()))
    parser.add_argument(
        '--large',
        action='store_true',
        help='the larger setting, for a GPU machine: ' +
        ', '.join(f'{k}={v}' for k, v in LARGE.items() if FULL.get(k) != v))
    parser.add_argument(
        '--models',
        choices=list(MODEL_SIZES),
        default=None,
        help=f'teacher-student ResNets (default {DEFAULT_SIZE}; --large: '
        f"{LARGE['models']}); a size other than {DEFAULT_SIZE} writes to "
        '<out>-<size> and docs/benchmark-<size>.md unless --out/--report '
        'say otherwise')
    parser.add_argument(
        '--report-only',
        action='store_true',
        help='only rewrite the page and plots from <out>/results.json')
    parser.add_argument(
        '--done-only',
        action='store_true',
        help='train nothing: write the page from the runs already done '
        '(e.g. while other benchmark processes still train the rest)')
    parser.add_argument(
        '--own-weights',
        action='store_true',
        help="train (or reuse) this machine's teacher and pretrained backbones even where "
        'the repository ships them (demo/weights/manifest.json: the default detection '
        "setting's, which every machine otherwise starts from)")
    parser.add_argument(
        '--records',
        default=None,
        help='folder of the committed run records (benchmark/archive.py; default: '
        'benchmark/records/<--out relative to work_dirs/> for an --out under '
        "work_dirs/, else none); '' for none")
    parser.add_argument(
        '--dry-run',
        action='store_true',
        help='say, run by run, what the command would reuse (done), wait '
        'for (running: another process holds it), resume (resume at N) or '
        'train (new; redo: a run of another config is replaced), and exit; '
        'nothing is trained or written')
    try:
        return resolve(parser.parse_args(argv))
    except ValueError as err:
        parser.error(str(err))


def portable_argument(arg: str) -> str:
    """``arg`` with an absolute path inside this checkout made relative to it (also in
    ``--flag=path``), so that the command the page records runs in any clone."""
    flag, sep, value = arg.partition('=') if arg.startswith('--') else ('', '', arg)
    if osp.isabs(value) and osp.commonpath([osp.abspath(value), ROOT]) == ROOT:
        value = osp.relpath(value, ROOT)
    return flag + sep + value


def main(argv=None):
    """Run the benchmark of the command line ``argv`` (default: ``sys.argv[1:]``)."""
    args = parse_args(argv)
    args.out = osp.abspath(args.out)
    if args.records is None:
        args.records = default_records_dir(args.out)
    argv = list(sys.argv[1:] if argv is None else argv)
    command = shlex.join(['python', 'tools/benchmark.py'] + [portable_argument(a) for a in argv])
    run_benchmark(args, command)


if __name__ == '__main__':
    main()
