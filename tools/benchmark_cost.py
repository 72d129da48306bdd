"""What SoKD costs per training iteration against its base loss, measured side by side.

Builds the base-KD model and the SoKD model of the same quickstart pair in one process
and times their ``train_step`` on the same batches, interleaved round by round so that
machine drift hits all of them alike:

- ``base``: the base distillation loss alone (e.g. CWD);
- ``sokd_normal``: a SoKD iteration without a policy step (DAFA + DAM, student update);
- ``sokd_search``: a SoKD iteration with the policy step (virtual step, outer loss, the
  exact mixed second-derivative product by double backward, RELAX): the default;
- ``sokd_search_before``: the policy step as it was before the exact product: a
  finite-difference product (two passes at ``theta +- eps v``) and the reward against the
  outer loss before the virtual step (``hvp='finite_difference'``,
  ``reward_baseline='before_step'``).

Peak memory is measured per method in a fresh subprocess (peak RSS on the CPU, peak
allocated CUDA memory on a GPU). The whole-run ratio for a search interval n is
``((n - 1) * normal + search) / (n * base)``.

    python tools/benchmark_cost.py [--base quickstart/cwd_retinanet_r34_r18_shapes.py]
        [--sokd quickstart/sokd_cwd_retinanet_r34_r18_shapes.py] [--rounds 5]
        [--steps 4] [--img-size 256] [--batch-size 4] [--out cost.json]
"""
import argparse
import copy
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
METHODS = ('base', 'sokd_normal', 'sokd_search', 'sokd_search_before')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--base', default='quickstart/cwd_retinanet_r34_r18_shapes.py')
    parser.add_argument('--sokd', default='quickstart/sokd_cwd_retinanet_r34_r18_shapes.py')
    parser.add_argument(
        '--data-root',
        default=None,
        help='built-in data set to read (default: a small one in a temp dir)')
    parser.add_argument('--img-size', type=int, default=256)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--rounds', type=int, default=5, help='interleaved rounds')
    parser.add_argument('--steps', type=int, default=4, help='steps per method and round')
    parser.add_argument('--warmup', type=int, default=2, help='untimed steps per method')
    parser.add_argument('--device', default='cuda' if _cuda() else 'cpu')
    parser.add_argument('--out', default=None, help='write the results as JSON')
    parser.add_argument('--memory-of', choices=METHODS, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _cuda():
    import torch
    return torch.cuda.is_available()


def _config(name, data_root, img, batch, search, model=None):
    from mmengine.config import Config

    from sokd_mmdet.apis.image_size import resize_keys
    cfg = Config.fromfile(name if osp.isfile(name) else osp.join(ROOT, 'configs', name))
    opts = {'model.teacher_ckpt': None}
    for split in ('train', 'val', 'test'):
        opts[f'{split}_dataloader.dataset.data_root'] = data_root + '/'
    opts.update({
        'train_dataloader.batch_size': batch,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False
    })
    opts.update({key: (img, img) for key in resize_keys(cfg)})
    cfg.merge_from_dict(opts)
    if search is not None:
        cfg.model.search_begin = 0 if search else 10**12
    cfg.model.update(model or {})
    return cfg


def build(name, data_root, img, batch, device, search=None, model=None):
    """(model, optim wrapper, list of batches) for a config."""
    import torch
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    from mmrazor.registry import MODELS
    init_default_scope('mmdet')
    cfg = _config(name, data_root, img, batch, search, model)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).to(device)
    model.init_weights()
    model.train()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    batches = [b for _, b in zip(range(4), loader)]
    return model, optim, batches


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


def _specs(args):
    return {
        'base': (args.base, None, None),
        'sokd_normal': (args.sokd, False, None),
        'sokd_search': (args.sokd, True, None),
        'sokd_search_before':
        (args.sokd, True, dict(hvp='finite_difference', reward_baseline='before_step'))
    }


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


def measure_memory(args, method):
    """Peak memory of ``method`` training, in a fresh process (MiB)."""
    import torch
    name, search, model = _specs(args)[method]
    entry = build(name, args.data_root, args.img_size, args.batch_size, args.device, search, model)
    if args.device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    before = _proc_status_mib('VmRSS')
    time_steps(entry, args.warmup + args.steps, args.device)
    if args.device.startswith('cuda'):
        return {'peak_cuda_mib': torch.cuda.max_memory_allocated() / 2**20}
    peak = _proc_status_mib('VmHWM')
    return {'peak_rss_mib': peak, 'rss_growth_mib': peak - before}


def main(argv=None):
    args = parse_args(argv)
    import sokd_mmdet  # noqa: F401
    if args.data_root is None:
        from sokd_mmdet.datasets import generate_detection_dataset
        args.data_root = osp.join(tempfile.gettempdir(), f'sokd_cost_shapes_{args.img_size}')
        generate_detection_dataset(
            args.data_root,
            num_train=16,
            num_val=2,
            img_size=(args.img_size, args.img_size),
            seed=0,
            progress=False)
    if args.memory_of:
        print(json.dumps(measure_memory(args, args.memory_of)))
        return None

    import torch

    # memory first, in fresh processes, while this one is still small
    memory = {}
    for m in METHODS:
        cmd = [
            sys.executable,
            osp.abspath(__file__), '--memory-of', m, '--base', args.base, '--sokd', args.sokd,
            '--data-root', args.data_root, '--img-size',
            str(args.img_size), '--batch-size',
            str(args.batch_size), '--steps',
            str(args.steps), '--warmup',
            str(args.warmup), '--device', args.device
        ]
        res = subprocess.run(
            cmd, capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))
        if res.returncode != 0:
            sys.exit(f'memory measurement of {m} failed:\n{res.stderr[-2000:]}')
        memory[m] = json.loads(res.stdout.strip().splitlines()[-1])

    entries = {
        m: build(n, args.data_root, args.img_size, args.batch_size, args.device, s, o)
        for m, (n, s, o) in _specs(args).items()
    }
    for m, entry in entries.items():
        time_steps(entry, args.warmup, args.device)
    times = {m: [] for m in METHODS}
    for r in range(args.rounds):
        for m in METHODS:
            times[m] += time_steps(entries[m], args.steps, args.device)
        print(
            f'round {r + 1}/{args.rounds}: ' + ', '.join(f'{m} {statistics.mean(times[m]):.3f} s'
                                                         for m in METHODS),
            flush=True)
    del entries

    mean = {m: statistics.mean(times[m]) for m in METHODS}
    result = {
        'device': args.device if args.device == 'cpu' else torch.cuda.get_device_name(),
        'threads': torch.get_num_threads(),
        'torch': torch.__version__,
        'configs': {
            'base': args.base,
            'sokd': args.sokd
        },
        'img_size': args.img_size,
        'batch_size': args.batch_size,
        'steps_per_method': len(times['base']),
        'seconds_per_iter': {
            m: {
                'mean': mean[m],
                'std': statistics.stdev(times[m]) if len(times[m]) > 1 else 0.0
            }
            for m in METHODS
        },
        'ratio_to_base': {
            m: mean[m] / mean['base']
            for m in METHODS
        },
        'whole_run_ratio': {
            f'{search}_interval_{n}':
            ((n - 1) * mean['sokd_normal'] + mean[search]) / (n * mean['base'])
            for search in ('sokd_search', 'sokd_search_before')
            for n in (1, 2, 5, 10)
        },
        'memory': memory,
    }
    key = 'peak_cuda_mib' if args.device.startswith('cuda') else 'peak_rss_mib'
    result['memory_ratio_to_base'] = {m: memory[m][key] / memory['base'][key] for m in METHODS}
    print(json.dumps(result, indent=2))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
