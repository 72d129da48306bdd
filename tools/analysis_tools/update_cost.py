"""What the two student-update levers of SoKD save, timed side by side in one process.

SoKD's student update (``SoKD.train_step``) takes two shortcuts that leave the update
bitwise the same (tested in ``tests/test_models/test_sokd/test_sokd_algorithm.py``):

- on a search iteration it reuses the gradient the policy step took for its virtual step
  (``gradient_surrogate``) instead of backpropagating the inner graph a second time;
- its backward is restricted to the student side (``inputs=theta``), so the gradients that
  only lead to the policy (DAFA's grids and magnitudes) are not computed.

This script times each against the step without it (the module's function swapped back
for the duration of that entry's steps), interleaved round by round with the base loss's
step on the same batches, as ``tools/benchmark_cost.py`` does for the rows:

    python tools/analysis_tools/update_cost.py [--row sokd_cwd] [--img-size 128]
        [--batch-size 4] [--rounds 5] [--steps 3] [--out F]

It prints one JSON object: seconds per step (mean, std) of each entry and its ratio to the
base row's step.
"""
import argparse
import json
import os.path as osp
import statistics
import sys
from contextlib import contextmanager

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools'))
sys.path.insert(0, ROOT)
import benchmark_cost as cost  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--row', default='sokd_cwd', help='a SoKD row of the benchmark')
    parser.add_argument('--data-root', default=None)
    parser.add_argument('--img-size', type=int, default=128)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--out', default=None, help='also write the JSON object here')
    return parser.parse_args(argv)


@contextmanager
def second_backward():
    """The search step's student update backpropagates the inner graph again."""
    from sokd_mmdet.models.sokd.policy_step import PolicyStepMixin
    policy_gradient = PolicyStepMixin._policy_gradient

    def without_reuse(self, *args, **kwargs):
        step, log, _ = policy_gradient(self, *args, **kwargs)
        return step, log, None

    PolicyStepMixin._policy_gradient = without_reuse
    try:
        yield
    finally:
        PolicyStepMixin._policy_gradient = policy_gradient


@contextmanager
def backward_to_every_leaf():
    """The student update's backward reaches every leaf of the graph, the policy's too."""
    from sokd_mmdet.models.sokd import sokd as sokd_module
    update_params = sokd_module.update_params
    sokd_module.update_params = lambda ow, loss, params, inputs=None: update_params(ow, loss)
    try:
        yield
    finally:
        sokd_module.update_params = update_params


def main(argv=None):
    args = parse_args(argv)
    import sokd_mmdet  # noqa: F401
    if args.data_root is None:
        args.data_root = cost.default_data_root(args.img_size)
    base = cost.METHODS[args.row]['base']
    if base is None or 'search_interval' not in cost._config_model(cost.row_config(args.row)):
        raise SystemExit(f'--row {args.row}: not a SoKD row with a base loss')
    # entry -> (row, search, context of its steps)
    specs = {
        base: (base, None, None),
        'search': (args.row, True, None),
        'search, second backward': (args.row, True, second_backward),
        'normal': (args.row, False, None),
        'normal, backward to every leaf': (args.row, False, backward_to_every_leaf),
    }
    built = {
        name: cost.build(row, args.data_root, args.img_size, args.batch_size, 'cpu', search)
        for name, (row, search, _) in specs.items()
    }
    times = {name: [] for name in specs}
    for r in range(args.rounds + 1):  # round 0 warms up
        for name, (_, _, context) in specs.items():
            with context() if context else _nothing():
                spent = cost.time_steps(built[name], args.warmup if r == 0 else args.steps, 'cpu')
            if r:
                times[name] += spent
        if r:
            print(f'round {r}/{args.rounds}', file=sys.stderr, flush=True)
    base_mean = statistics.mean(times[base])
    result = {
        name:
        dict(
            mean=statistics.mean(t),
            std=statistics.stdev(t) if len(t) > 1 else 0.0,
            ratio_to_base=statistics.mean(t) / base_mean)
        for name, t in times.items()
    }
    report = dict(row=args.row, base=base, img_size=args.img_size, entries=result)
    print(json.dumps(report, indent=2))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=2)
    return result


@contextmanager
def _nothing():
    yield


if __name__ == '__main__':
    main()
