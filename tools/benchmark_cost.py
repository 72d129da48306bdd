"""What each benchmark row costs per training iteration, measured side by side in one process.

Builds the model of every named row of the detection benchmark (``benchmark/methods.py``:
the student alone, the base losses, SoKD over each, ...) and times their ``train_step`` on
the same batches, interleaved round by round so that machine drift hits all of them alike.
A row with a policy search (SoKD) is timed twice:

- ``<row>:normal``: an iteration without a policy step (DAFA + DAM, the student update);
- ``<row>:search``: an iteration with the policy step (virtual step, outer loss, the exact
  mixed second-derivative product by double backward, RELAX);
- with ``--before``, also ``<row>:search_before``: the policy step as it was before the exact
  product (``hvp='finite_difference'``, ``reward_baseline='before_step'``);
- with ``--variant LABEL:key=value,...``, also ``<row>:search@LABEL``: the policy step with
  those settings of the SoKD algorithm (e.g.
  ``--variant before_step:reward_baseline=before_step``), so that each cost lever is
  measured beside the default.

The whole-run time per iteration of a search row follows its own schedule
(``search_begin``, ``search_interval``, ``search_end``, as the benchmark runs them) over
``--iters`` iterations:
``(1 - f) * normal + f * search`` for the share ``f`` of policy-step iterations; the whole-run
ratio is that against the row's base (its ``base`` in the table), and its spread
(``whole_run_ratio_std``, ``normal_ratio_std``) that of the same ratio round by round: the
entries of a round are timed within a minute of each other, so what drifts with the load
of the machine cancels in each round's ratio more than in the step times. The same times give the
whole-run ratio of other schedules (``--intervals`` x ``--search-ends``, the ends as shares
of the run), for the default policy step and every variant: the cost axis of a plot of AP
against cost. Peak memory is measured per entry in a fresh subprocess (peak RSS on the CPU,
peak allocated CUDA memory on a GPU).

    python tools/benchmark_cost.py [--methods cwd sokd_cwd ...] [--iters 1000] [--before]
        [--variant LABEL:key=value,...] [--intervals 1 2 5 10] [--search-ends 0.25 0.5 1]
        [--rounds 5] [--steps 4] [--warmup 2] [--img-size 256] [--batch-size 4] [--out F]
"""
import argparse
import ast
import copy
import functools
import json
import os
import os.path as osp
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)  # the benchmark's rows (benchmark/, not installed)
from benchmark.methods import METHODS  # noqa: E402

SEARCH_BEFORE = dict(hvp='finite_difference', reward_baseline='before_step')
# --coco: the COCO configs of the rows that have one (the real ResNet-101 -> ResNet-50
# RetinaNets, FPN 256 wide), timed on the built-in images at --img-size
COCO_CONFIGS = {
    'cwd': 'configs/baselines/cwd_fpn_retinanet_r101_r50_coco.py',
    'fitnet': 'configs/baselines/fitnet_fpn_retinanet_r101_r50_coco.py',
    'pkd': 'configs/baselines/pkd_fpn_retinanet_r101_r50_coco.py',
    'sokd_cwd': 'configs/sokd_retinanet_r101_r50_coco.py',
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--methods',
        nargs='+',
        default=['cwd', 'sokd_cwd'],
        choices=sorted(METHODS),
        help='benchmark rows to time (default: cwd sokd_cwd)')
    parser.add_argument(
        '--iters',
        type=int,
        default=1000,
        help='run length over which the whole-run ratios follow each row\'s search schedule '
        '(search_begin, search_interval, search_end as in the config, as the benchmark runs '
        'them)')
    parser.add_argument(
        '--before', action='store_true', help='also time the policy step before the exact product')
    parser.add_argument(
        '--variant',
        action='append',
        default=[],
        type=parse_variant,
        metavar='LABEL:key=value,...',
        help='also time the policy step with these SoKD settings (repeatable), e.g. '
        'before_step:reward_baseline=before_step')
    parser.add_argument(
        '--intervals',
        nargs='+',
        type=int,
        default=[1, 2, 5, 10],
        help='search intervals of the schedule table (default: 1 2 5 10)')
    parser.add_argument(
        '--search-ends',
        nargs='+',
        type=float,
        default=[0.25, 0.5, 1.0],
        help='search ends of the schedule table, as shares of --iters (default: 0.25 0.5 1)')
    parser.add_argument(
        '--data-root',
        default=None,
        help='built-in data set to read (default: a small one in a temp dir)')
    parser.add_argument(
        '--coco',
        action='store_true',
        help='time the COCO configs of the rows (' + ', '.join(sorted(COCO_CONFIGS)) +
        ') instead of the built-in-data ones, on the built-in images at --img-size')
    parser.add_argument('--img-size', type=int, default=256)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--rounds', type=int, default=5, help='interleaved rounds')
    parser.add_argument('--steps', type=int, default=4, help='steps per entry and round')
    parser.add_argument('--warmup', type=int, default=2, help='untimed steps per entry')
    parser.add_argument('--device', default='cuda' if _cuda() else 'cpu')
    parser.add_argument('--out', default=None, help='write the results as JSON')
    parser.add_argument('--memory-of', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def parse_variant(text: str):
    """``'LABEL:key=value,key=value'`` -> ``(LABEL, {key: value})``; values are Python
    literals where they parse as one (numbers, None, True), strings otherwise."""
    label, sep, settings = text.partition(':')
    if not sep or not label or not settings:
        raise argparse.ArgumentTypeError(
            f'--variant {text!r}: expected LABEL:key=value[,key=value...], e.g. '
            'before_step:reward_baseline=before_step')
    overrides = {}
    for item in settings.split(','):
        key, eq, value = item.partition('=')
        if not eq or not key:
            raise argparse.ArgumentTypeError(f'--variant {text!r}: {item!r} is not key=value')
        try:
            overrides[key.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            overrides[key.strip()] = value.strip()
    return label, overrides


def _cuda():
    import torch
    return torch.cuda.is_available()


def row_config(row: str, coco: bool = False) -> str:
    """The config file a row is timed with: the benchmark's, or with ``coco`` its COCO one."""
    if not coco:
        return METHODS[row]['config']
    if row not in COCO_CONFIGS:
        raise SystemExit(f'--coco: no COCO config for the row {row!r} (rows with one: '
                         f'{", ".join(sorted(COCO_CONFIGS))})')
    return COCO_CONFIGS[row]


def _on_built_in_images(cfg) -> None:
    """A COCO config's training set made the built-in data's (its classes, files, boxes)."""
    from sokd_mmdet.datasets import SHAPE_CLASSES
    dataset = cfg.train_dataloader.dataset
    while 'dataset' in dataset:  # through dataset wrappers
        dataset = dataset.dataset
    dataset.update(
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'),
        metainfo=dict(classes=SHAPE_CLASSES),
        filter_cfg=dict(filter_empty_gt=True, min_size=0))


def _start_of_warm_up(cfg) -> None:
    """Every optimiser of a COCO config at the learning rate its warm-up starts from.

    The timed steps run without the schedule: at the full SGD rate (0.01) random ResNets
    diverge within four steps (the loss 623 -> 25 -> 99 -> 13933 measured), and a policy
    step on a diverged student is skipped as non-finite, which would time another path.
    """
    factor = min((s.get('start_factor', 1.0) for s in _schedulers(cfg.get('param_scheduler'))),
                 default=1.0)

    def scale(node):
        if isinstance(node, dict):
            if isinstance(node.get('optimizer'), dict) and 'lr' in node['optimizer']:
                node['optimizer']['lr'] *= factor
            for value in node.values():
                scale(value)

    scale(cfg.optim_wrapper)


def _schedulers(node):
    """The scheduler dicts of a ``param_scheduler`` (a list, or a dict of lists)."""
    if isinstance(node, dict) and 'type' in node:
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in _schedulers(value)]
    if isinstance(node, (list, tuple)):
        return [s for value in node for s in _schedulers(value)]
    return []


def _config(name, data_root, img, batch):
    from mmengine.config import Config

    from sokd_mmdet.apis.image_size import resize_keys
    cfg = Config.fromfile(osp.join(ROOT, name))
    if name in COCO_CONFIGS.values():
        _on_built_in_images(cfg)
        _start_of_warm_up(cfg)
    opts = {
        f'{split}_dataloader.dataset.data_root': data_root + '/'
        for split in ('train', 'val', 'test')
    }
    if 'teacher_ckpt' in cfg.model:
        opts['model.teacher_ckpt'] = None  # timing does not need trained weights
    # nor pretrained ones (the same work either way; the frozen stages stay frozen)
    for detector in ('architecture', 'teacher') if 'architecture' in cfg.model else ('', ):
        backbone = (cfg.model[detector] if detector else cfg.model).get('backbone', {})
        if backbone.get('init_cfg') is not None:
            opts['.'.join(filter(None, ('model', detector, 'backbone', 'init_cfg')))] = None
    opts.update({
        'train_dataloader.batch_size': batch,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False
    })
    opts.update({key: (img, img) for key in resize_keys(cfg)})
    cfg.merge_from_dict(opts)
    return cfg


def entries(methods, before=False, variants=(), coco=False):
    """``entry -> (row, search, model overrides)``: one per row, two or more per search row
    (``<row>:normal``, ``<row>:search``, ``<row>:search_before`` with ``before``,
    ``<row>:search@LABEL`` for each ``(LABEL, overrides)`` of ``variants``).

    ``search`` is None for a row without a policy search, else whether every timed step
    takes a policy step.
    """
    out = {}
    for row in methods:
        cfg_model = _config_model(row_config(row, coco))
        if 'search_interval' not in cfg_model:  # no policy search
            out[row] = (row, None, None)
            continue
        out[f'{row}:normal'] = (row, False, None)
        out[f'{row}:search'] = (row, True, None)
        if before:
            out[f'{row}:search_before'] = (row, True, SEARCH_BEFORE)
        for label, overrides in variants:
            out[f'{row}:search@{label}'] = (row, True, dict(overrides))
    return out


@functools.lru_cache(maxsize=None)
def _read_config(name):
    """A row's config as written, read once per process (callers only read it)."""
    from mmengine.config import Config
    return Config.fromfile(osp.join(ROOT, name))


def _config_model(name):
    """The ``model`` of a row's config."""
    return _read_config(name).model


def row_search_share(name: str, iters: int) -> float:
    """:func:`search_share` of the config ``name`` over a run of ``iters`` iterations, its
    search bounds stretched to that length as the benchmark's runs stretch them
    (``benchmark.run_config.scaled_search``)."""
    from benchmark.run_config import scaled_search
    model = dict(_config_model(name))
    base_iters = _read_config(name).get('train_cfg', {}).get('max_iters')
    if base_iters:
        model.update(scaled_search(model, base_iters, iters))
    return search_share(model, iters)


def search_share(model_cfg: dict, iters: int) -> float:
    """Share of ``iters`` iterations that take a policy step under the row's schedule
    (``search_begin``, ``search_interval``, ``search_end``, as SoKD decides it).

    Args:
        model_cfg (dict): the row's ``model`` (a SoKD algorithm).
        iters (int): the run length.
    """
    from sokd_mmdet.models.sokd import takes_policy_step
    schedule = {
        k: model_cfg[k]
        for k in ('search_interval', 'search_begin', 'search_end') if k in model_cfg
    }
    return sum(takes_policy_step(it, **schedule) for it in range(iters)) / iters


def build(row, data_root, img, batch, device, search=None, model=None, coco=False):
    """(model, optim wrapper, list of batches) for a row; ``search`` fixes its policy steps."""
    import torch
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    from mmrazor.registry import MODELS
    init_default_scope('mmdet')
    cfg = _config(row_config(row, coco), data_root, img, batch)
    if search is not None:
        cfg.model.search_begin, cfg.model.search_end = (0 if search else 10**12), None
        cfg.model.search_interval = 1
    cfg.model.update(model or {})
    torch.manual_seed(0)
    net = MODELS.build(cfg.model).to(device)
    if not coco:  # the COCO configs' init_cfg fetches ImageNet weights: timing needs none
        net.init_weights()
    net.train()
    optim = build_optim_wrapper(net, cfg.optim_wrapper)
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    batches = [b for _, b in zip(range(4), loader)]
    return net, optim, batches


def _sync(device):
    import torch
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def time_steps(entry, n, device):
    """Seconds of each of ``n`` train steps of ``entry = (model, optim, batches)``."""
    model, optim, batches = entry
    out = []
    for i in range(n):
        batch = copy.deepcopy(batches[i % len(batches)])
        _sync(device)
        t0 = time.perf_counter()
        model.train_step(batch, optim)
        _sync(device)
        out.append(time.perf_counter() - t0)
    return out


def _proc_status_mib(field: str) -> float:
    """A memory field of /proc/self/status (VmRSS, VmHWM) in MiB.

    ``getrusage``'s ``ru_maxrss`` is not used: Linux carries it over from the parent across
    fork/exec, so a child would report the parent's peak.
    """
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


def measure_memory(args, name):
    """Peak memory of entry ``name`` training, in this (fresh) process (MiB)."""
    import torch
    row, search, model = entries(args.methods, args.before, args.variant, args.coco)[name]
    entry = build(row, args.data_root, args.img_size, args.batch_size, args.device, search, model,
                  args.coco)
    if args.device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    before = _proc_status_mib('VmRSS')
    time_steps(entry, args.warmup + args.steps, args.device)
    if args.device.startswith('cuda'):
        return {'peak_cuda_mib': torch.cuda.max_memory_allocated() / 2**20}
    peak = _proc_status_mib('VmHWM')
    return {'peak_rss_mib': peak, 'rss_growth_mib': peak - before}


def _memory_in_subprocesses(args, names):
    memory = {}
    for name in names:
        cmd = [
            sys.executable,
            osp.abspath(__file__), '--memory-of', name, '--methods', *args.methods, '--data-root',
            args.data_root, '--img-size',
            str(args.img_size), '--batch-size',
            str(args.batch_size), '--steps',
            str(args.steps), '--warmup',
            str(args.warmup), '--device', args.device
        ] + (['--before'] if args.before else []) + (['--coco'] if args.coco else []) + [
            a for label, o in args.variant
            for a in ('--variant', label + ':' + ','.join(f'{k}={v!r}' for k, v in o.items()))
        ]
        res = subprocess.run(
            cmd, capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))
        if res.returncode != 0:
            sys.exit(f'memory measurement of {name} failed:\n{res.stderr[-2000:]}')
        memory[name] = json.loads(res.stdout.strip().splitlines()[-1])
    return memory


def schedule_table(normal: float, search: float, base: float, iters: int, intervals, ends) -> list:
    """Whole-run ratios to ``base`` (seconds per iteration) of search schedules: every
    ``interval``-th iteration from 0 up to ``end * iters``, from the seconds of a ``normal``
    and a ``search`` iteration."""
    table = []
    for interval in intervals:
        for end in ends:
            model = dict(search_interval=interval, search_end=int(round(end * iters)))
            share = search_share(model, iters)
            whole = (1 - share) * normal + share * search
            table.append(
                dict(
                    search_interval=interval,
                    search_end=end,
                    search_share=share,
                    whole_run_ratio=whole / base))
    return table


def paired_ratios(rows_rounds, base_rounds, share: float = 0.0) -> dict:
    """A row's time against its base's, round by round: each round timed both in the same
    minute, so machine drift (other jobs, clocks) largely cancels in the ratio.

    Args:
        rows_rounds (tuple): ``(normal, search)`` per-round mean seconds of the row's two
            entries (``search`` None for a row without a policy search).
        base_rounds (list): the base's per-round mean seconds.
        share (float): the row's share of iterations with a policy step.

    Returns:
        dict: ``rounds`` (the whole-run ratio of each round), ``mean`` and ``std`` of them
        (0 with a single round).
    """
    normal, search = rows_rounds
    per = []
    for r, b in enumerate(base_rounds):
        whole = normal[r] if search is None else (1 - share) * normal[r] + share * search[r]
        per.append(whole / b)
    return dict(
        rounds=per, mean=statistics.mean(per), std=statistics.stdev(per) if len(per) > 1 else 0.0)


def round_means(times: list, steps: int) -> list:
    """The mean of each interleaved round's ``steps`` timed steps, in order."""
    return [statistics.mean(times[i:i + steps]) for i in range(0, len(times), steps)]


def summarise(args, times, memory):
    """Per row: seconds per iteration (mean, std) of each entry, the whole-run time per
    iteration under the row's search schedule, and the ratios to the row's base; for a
    search row with a base, also each variant's whole-run ratio and the schedule table."""
    mem_key = 'peak_cuda_mib' if args.device.startswith('cuda') else 'peak_rss_mib'
    rows = {}
    for row in args.methods:
        names = [n for n in times if n == row or n.startswith(row + ':')]
        per = {
            n:
            dict(
                mean=statistics.mean(times[n]),
                std=statistics.stdev(times[n]) if len(times[n]) > 1 else 0.0,
                peak_mib=memory[n][mem_key])
            for n in names
        }
        if row in per:
            whole, share = per[row]['mean'], 0.0
        else:
            share = row_search_share(row_config(row, args.coco), args.iters)
            whole = (1 - share) * per[f'{row}:normal']['mean'] + \
                share * per[f'{row}:search']['mean']
        rows[row] = dict(
            entries=per,
            search_share=share,
            whole_run_s_per_iter=whole,
            # the row as configured (a variant's peak is in its own entry and ratio)
            peak_mib=max(per[n]['peak_mib'] for n in (row, f'{row}:normal', f'{row}:search')
                         if n in per))
    for row, r in rows.items():
        base = METHODS[row].get('base')
        if base in rows:
            r['base'] = base
            r['whole_run_ratio'] = r['whole_run_s_per_iter'] / rows[base]['whole_run_s_per_iter']
            r['memory_ratio'] = r['peak_mib'] / rows[base]['peak_mib']
            if f'{row}:normal' in r['entries']:
                _search_levers(args, row, r, rows[base])
            rounds = {n: round_means(times[n], args.steps) for n in (base, *r['entries'])}
            plain = rounds.get(row) or rounds[f'{row}:normal']
            paired = paired_ratios((plain, rounds.get(f'{row}:search')), rounds[base],
                                   r['search_share'])
            r['whole_run_ratio_rounds'] = paired['rounds']
            r['whole_run_ratio_std'] = paired['std']
            if f'{row}:normal' in r['entries']:
                r['normal_ratio_std'] = paired_ratios((plain, None), rounds[base])['std']
    return rows


def _search_levers(args, row, r, base):
    """Each policy step's (the default, ``before``, the variants) whole-run ratio and peak
    memory ratio at the row's schedule, and its schedule table."""
    per, share = r['entries'], r['search_share']
    normal, base_s = per[f'{row}:normal']['mean'], base['whole_run_s_per_iter']
    steps = {'default': f'{row}:search'}
    if f'{row}:search_before' in per:
        steps['before'] = f'{row}:search_before'
    steps.update({label: f'{row}:search@{label}' for label, _ in args.variant})
    r['variants'], r['schedules'] = {}, {}
    for label, name in steps.items():
        search = per[name]['mean']
        r['variants'][label] = dict(
            whole_run_ratio=((1 - share) * normal + share * search) / base_s,
            memory_ratio=max(per[name]['peak_mib'], per[f'{row}:normal']['peak_mib']) /
            base['peak_mib'])
        r['schedules'][label] = schedule_table(normal, search, base_s, args.iters, args.intervals,
                                               args.search_ends)


def default_data_root(img_size: int) -> str:
    """A small built-in data set of ``img_size`` px in the temp dir (16 training images),
    written afresh: the timed steps read a few batches of it."""
    from sokd_mmdet.datasets import generate_detection_dataset
    root = osp.join(tempfile.gettempdir(), f'sokd_cost_shapes_{img_size}')
    generate_detection_dataset(
        root, num_train=16, num_val=2, img_size=(img_size, img_size), seed=0, progress=False)
    return root


def main(argv=None):
    args = parse_args(argv)
    import sokd_mmdet  # noqa: F401
    if args.data_root is None:
        args.data_root = default_data_root(args.img_size)
    if args.memory_of:
        print(json.dumps(measure_memory(args, args.memory_of)))
        return None

    import torch
    specs = entries(args.methods, args.before, args.variant, args.coco)
    # memory first, in fresh processes, while this one is still small
    memory = _memory_in_subprocesses(args, list(specs))
    built = {
        n: build(row, args.data_root, args.img_size, args.batch_size, args.device, s, o, args.coco)
        for n, (row, s, o) in specs.items()
    }
    for entry in built.values():
        time_steps(entry, args.warmup, args.device)
    times = {n: [] for n in specs}
    for r in range(args.rounds):
        for n in specs:
            times[n] += time_steps(built[n], args.steps, args.device)
        print(
            f'round {r + 1}/{args.rounds}: ' + ', '.join(f'{n} {statistics.mean(times[n]):.3f} s'
                                                         for n in specs),
            flush=True)
    del built
    result = {
        # what wrote it (the benchmark page shows it beside the table)
        'command':
        'python tools/benchmark_cost.py ' +
        ' '.join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)),
        'device':
        args.device if args.device == 'cpu' else torch.cuda.get_device_name(),
        'threads':
        torch.get_num_threads(),
        'torch':
        torch.__version__,
        'img_size':
        args.img_size,
        'batch_size':
        args.batch_size,
        'iters':
        args.iters,
        'steps_per_entry':
        args.rounds * args.steps,
        'configs': {
            row: row_config(row, args.coco)
            for row in args.methods
        },
        'rows':
        summarise(args, times, memory),
    }
    print(json.dumps(result, indent=2))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
