"""What a SoKD run did, from its training log: the policy's reward, the loss scales, DAM's
mask areas and the gradient norms, phase by phase, and the DAFA policy at its start and end.

Reads the work dir's ``*/vis_data/scalars.json`` (every segment of a resumed run) and its
``policy_history.json`` (``DAFAPolicyLoggerHook``). The finer the logger interval, the more
policy steps are seen (the benchmark logs every iteration; the configs' default of 50 sees
one policy step in 50 iterations).

    python tools/analysis_tools/sokd_diagnosis.py WORK_DIR [--iters N] [--phases 4] [--json OUT]
"""
import argparse
import json
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)  # this checkout's package and its benchmark/, not installed

from benchmark.scalars import read_scalars  # noqa: E402
from sokd_mmdet.analysis.training_log import diagnose, diagnosis_table, policy_change  # noqa: E402


def policy_lines(change: dict) -> list:
    """Two sentences on the DAFA policy at the first and the last record."""
    return [
        f"- DAFA policy at iteration {s['iter']}: apply probability {s['apply_prob']:.3f} "
        f"(mean over the ops), magnitude {s['magnitude']:.3f} (largest: {s['top_op']} "
        f"{s['top_magnitude']:.3f})" for s in (change['first'], change['last'])
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir')
    parser.add_argument(
        '--iters', type=int, help="the run's length (default: its last logged "
        'iteration)')
    parser.add_argument('--phases', type=int, default=4)
    parser.add_argument('--json', help='also write the diagnosis as JSON here')
    args = parser.parse_args(argv)
    try:
        records = read_scalars(args.work_dir)
    except FileNotFoundError as err:
        sys.exit(f'{err}: pass the work dir of a training run (tools/train.py --work-dir)')
    phases = diagnose(records, args.iters, args.phases)
    if all(p['reward']['steps'] == 0 for p in phases):
        print(f'{args.work_dir}: no policy step in the log (not a SoKD run with a policy '
              'search?); the loss scales and masks below are still the log\'s')
    history_file = osp.join(args.work_dir, 'policy_history.json')
    change = None
    if osp.isfile(history_file):
        with open(history_file) as f:
            change = policy_change(json.load(f))
    print('\n'.join(diagnosis_table(phases)))
    if change:
        print('\n'.join(policy_lines(change)))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(phases=phases, policy=change), f, indent=1)
        print(f'wrote {args.json}')


if __name__ == '__main__':
    main()
