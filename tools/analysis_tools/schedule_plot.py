"""AP against whole-run cost for SoKD's policy-search schedules: which schedule to pay for.

Each ``--run`` is a finished training run of one schedule (its work dir: the config that
MMEngine saved there gives ``search_interval``, ``search_begin``, ``search_end`` and the run
length; its log the final held-out AP). Its whole-run cost, as a ratio to the base loss's,
comes from side-by-side step times (``tools/benchmark_cost.py --out FILE``): a normal and a
policy-step iteration of ``--row``, weighted by the share of iterations the run's schedule
searches, over the base row's iteration. ``--base`` is the base loss's run on the same data
(cost 1.0).

    python tools/analysis_tools/schedule_plot.py --cost work_dirs/benchmark/cost.json \
        --row sokd_cwd --base cwd=work_dirs/tune/cwd --run "every 5th=work_dirs/tune/a" \
        --run "every 5th, to 25%=work_dirs/tune/b" --out docs/images/sokd_schedule.png
"""
import argparse
import glob
import json
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)  # this checkout's package and its benchmark/, not installed
sys.path.append(osp.join(
    ROOT, 'tools'))  # benchmark_cost (after ROOT: tools/benchmark.py is not the package)

from benchmark.scalars import evaluation_point, evaluations, read_scalars  # noqa: E402


def whole_run_ratio(cost: dict, row: str, share: float) -> float:
    """A run's time per iteration over its base's, when ``share`` of its iterations take a
    policy step: ``((1 - share) * normal + share * search) / base``.

    Args:
        cost (dict): ``tools/benchmark_cost.py``'s JSON.
        row (str): the SoKD row (its ``<row>:normal`` and ``<row>:search`` entries).
        share (float): the share of policy-step iterations, in [0, 1].
    """
    rows = cost['rows']
    if row not in rows:
        raise KeyError(f'{row!r} is not in the cost file (rows: {", ".join(rows)}): time it with '
                       f'tools/benchmark_cost.py --methods {row} ...')
    entries = rows[row]['entries']
    base = rows[rows[row]['base']]['whole_run_s_per_iter']
    normal, search = entries[f'{row}:normal']['mean'], entries[f'{row}:search']['mean']
    return ((1 - share) * normal + share * search) / base


def run_point(work_dir: str) -> dict:
    """A finished run's schedule, search share and final AP (percent)."""
    import benchmark_cost
    from mmengine.config import Config
    configs = sorted(glob.glob(osp.join(work_dir, '*.py')))
    if not configs:
        raise FileNotFoundError(f'no config saved in {work_dir}: pass a tools/train.py work dir')
    cfg = Config.fromfile(configs[0])
    iters = cfg.train_cfg.max_iters
    evals = evaluations(read_scalars(work_dir))
    if not evals or evals[-1][0] != iters:
        raise ValueError(f'{work_dir}: no evaluation at iteration {iters} (not finished?)')
    ap = evaluation_point(evals[-1][1], iters)['AP']
    model = cfg.model
    share = benchmark_cost.search_share(model, iters) if 'search_interval' in model else 0.0
    return dict(
        work_dir=work_dir,
        iters=iters,
        search_interval=model.get('search_interval'),
        search_end=model.get('search_end'),
        search_share=share,
        ap=100 * ap)


def plot(points: list, base: dict, out_file: str) -> str:
    """AP against whole-run ratio, one labelled marker per run; the base loss dashed."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    ax.axhline(base['ap'], ls='--', color='gray', label=f"{base['label']} alone")
    ax.plot([p['ratio'] for p in points], [p['ap'] for p in points], 'o', color='C0')
    for p in points:
        ax.annotate(
            p['label'], (p['ratio'], p['ap']),
            textcoords='offset points',
            xytext=(5, 5),
            fontsize=8)
    # at least 1 AP either side: a one-seed difference of a few tenths must not look large
    aps = [p['ap'] for p in points] + [base['ap']]
    ax.set_ylim(min(aps) - 1.0, max(aps) + 1.0)
    ax.set_xlim(0.9, max([p['ratio'] for p in points] + [1.0]) + 0.5)
    ax.set_xlabel(f"whole-run training time / {base['label']}'s (side by side)")
    ax.set_ylabel('held-out AP (%)')
    ax.set_title('SoKD: AP against the cost of its policy-search schedule')
    ax.legend(loc='lower right')
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_file)
    plt.close(fig)
    return out_file


def _labelled(text: str) -> tuple:
    label, sep, path = text.partition('=')
    if not sep:
        raise argparse.ArgumentTypeError(f'{text!r}: expected LABEL=WORK_DIR')
    return label, path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--cost', required=True, help="tools/benchmark_cost.py's --out JSON")
    parser.add_argument('--row', default='sokd_cwd')
    parser.add_argument('--base', type=_labelled, required=True, help='LABEL=WORK_DIR')
    parser.add_argument(
        '--run',
        type=_labelled,
        action='append',
        required=True,
        help='LABEL=WORK_DIR, one per schedule')
    parser.add_argument('--out', required=True, help='the PNG')
    parser.add_argument('--json', help='also write the points as JSON here')
    args = parser.parse_args(argv)
    with open(args.cost) as f:
        cost = json.load(f)
    base = dict(run_point(args.base[1]), label=args.base[0], ratio=1.0)
    points = []
    for label, work_dir in args.run:
        point = dict(run_point(work_dir), label=label)
        point['ratio'] = whole_run_ratio(cost, args.row, point['search_share'])
        points.append(point)
    print('| run | search interval | search end | policy-step share | whole run / base | AP |')
    print('|---|---|---|---|---|---|')
    for p in [base] + points:
        print(f"| {p['label']} | {p['search_interval'] or '-'} | {p['search_end'] or '-'} | "
              f"{p['search_share']:.3f} | {p['ratio']:.2f} | {p['ap']:.1f} |")
    print(f'wrote {plot(points, base, args.out)}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(base=base, runs=points, cost=args.cost, row=args.row), f, indent=1)


if __name__ == '__main__':
    main()
