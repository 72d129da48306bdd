"""Make the weights ``make demo`` starts from (``demo/weights/``) from the benchmark's runs.

    python tools/make_demo_weights.py [--out work_dirs/benchmark] [--dest demo/weights]

The benchmark's detection setting (``tools/benchmark.py`` without flags) makes, once per
key, the built-in data, the two pretrained backbones and the teacher RetinaNet; this
command runs that part only (reusing what ``--out`` already holds, training the rest: about
an hour on 2 CPU cores from nothing) and writes, in half precision:

- ``retinanet_r34-w32_shapes128_teacher.pth``: the teacher detector;
- ``resnet18-w16_shapes-cls64_backbone.pth``: the student's pretrained backbone;
- ``SHA256SUMS``: their sums, which ``tools/quickstart.py`` and ``tools/benchmark.py``
  check before they start;
- ``manifest.json``: the benchmark run each file stands for (its key, what it measured):
  ``tools/benchmark.py`` starts its default detection setting from these files instead of
  training its own (``benchmark/shipped.py``); so this command trains its own
  (``--own-weights``), and a teacher it remakes replaces every distilled row's key.

Each file's ``meta`` names the run it came from and what that run measured.
"""
import argparse
import importlib.util
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)  # this checkout's package and its benchmark/, not installed


def benchmark_args(out: str):
    """The benchmark's default detection setting, as ``tools/benchmark.py`` resolves it."""
    spec = importlib.util.spec_from_file_location('benchmark_tool',
                                                  osp.join(ROOT, 'tools', 'benchmark.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    args = tool.parse_args(['--out', out, '--methods', 'student'])
    args.out = osp.abspath(args.out)
    return args


def source_meta(record: dict, what: str) -> dict:
    """The ``meta`` of an exported file: where it came from, what that run measured."""
    from benchmark.demo_weights import MAKE_COMMAND
    return dict(
        what=what,
        made_by=MAKE_COMMAND,
        config=record['config'],
        run_key=record['key'],
        # relative to the benchmark's folder: the same runs give the same bytes wherever
        # that folder is
        source=osp.join(osp.basename(record['work_dir']), osp.basename(record['checkpoint'])),
        metrics=dict(record['metrics']))


def manifest_entry(record: dict, file: str) -> dict:
    """The manifest entry (:mod:`benchmark.shipped`) of ``file``, exported from the run of
    ``record``: its key, what it measured and cost there, how it was made."""
    from benchmark.demo_weights import MAKE_COMMAND
    return dict(
        file=file,
        run_key=record['key'],
        config=record['config'],
        metrics=dict(record['metrics']),
        measured_by=f'the run that made it ({record["config"]}, in float32)',
        cost={k: record['cost'].get(k)
              for k in ('run_s', 'iter_time_s', 'peak_rss_mib')} if record.get('cost') else None,
        made_by=MAKE_COMMAND)


def main(argv=None):
    """Make (or reuse) the benchmark's teacher and student backbone; export them."""
    from benchmark.archive import once_name
    from benchmark.demo_weights import (BACKBONE_FILE, DEMO_DIR, TEACHER_FILE, DemoWeightsError,
                                        export_weights, read_sums, write_sums)
    from benchmark.planning import data_root_of
    from benchmark.process import exit_on_termination
    from benchmark.runner import prepare_teacher
    from benchmark.shipped import write_manifest
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--out',
        default='work_dirs/benchmark',
        help="the benchmark's folder (its cached teacher and backbones are reused)")
    parser.add_argument(
        '--dest', default=DEMO_DIR, help='where the files go (default: %(default)s)')
    args = parser.parse_args(argv)
    args.dest = osp.abspath(args.dest)
    exit_on_termination()  # kill of this command also ends the training it runs
    bench = benchmark_args(args.out)
    bench.own_weights = True  # made here, not the shipped ones they replace
    pretrained, teacher = prepare_teacher(bench, data_root_of(bench))
    backbone = pretrained['student']
    written = [
        export_weights(teacher['checkpoint'], osp.join(args.dest, TEACHER_FILE),
                       source_meta(teacher, 'teacher RetinaNet, 128 px, built-in data')),
        export_weights(
            backbone['checkpoint'],
            osp.join(args.dest, BACKBONE_FILE),
            source_meta(
                backbone, 'student backbone pretrained on the built-in '
                'classification data (backbone. entries only)'),
            prefix='backbone.')
    ]
    try:
        before = read_sums(args.dest)
    except DemoWeightsError:
        before = {}
    sums = write_sums(args.dest, [w['file'] for w in written])
    for w in written:
        same = ('unchanged' if before.get(w['file']) == w['sha256'] else
                'new' if w['file'] not in before else 'changed: commit the new file and its sum')
        print(f'wrote {osp.join(args.dest, w["file"])}: {w["params"] / 1e6:.2f} M values, '
              f'{w["bytes"] / 2**20:.1f} MiB, sha256 {w["sha256"]} ({same})')
    print(f'wrote {sums}')
    # which benchmark run each file stands for: tools/benchmark.py starts from them
    manifest = write_manifest(
        args.dest, {
            once_name(record): manifest_entry(record, w['file'])
            for record, w in zip((teacher, backbone), written)
        })
    print(f'wrote {manifest}')


if __name__ == '__main__':
    main()
