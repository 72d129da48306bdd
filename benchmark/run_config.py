"""The config file of one benchmark run: the row's config, the schedule stretched to the run.

Each run trains from a small config that inherits the row's config with ``_base_`` and
adds only what a benchmark run needs (the schedule at the run's length, a log record for
every iteration, the policy logged at the run's pace); the per-run values that differ
between seeds are ``--cfg-options`` (:mod:`.options`).
"""
import copy
import os.path as osp
import pprint

from . import REPO_ROOT


def plain(obj):
    """ConfigDict/lists of them as plain Python values (for ``repr`` in a config file)."""
    if hasattr(obj, 'to_dict'):
        obj = obj.to_dict()
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(plain(v) for v in obj)
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
    for sched in copy.deepcopy(plain(schedulers)):
        if sched.get('begin'):
            sched['begin'] = round(sched['begin'] * iters / base_iters)
        if sched.get('end'):
            sched['end'] = max(sched.get('begin', 0) + 2, round(sched['end'] * iters / base_iters))
        if 'milestones' in sched:
            sched['milestones'] = [
                max(1, round(m * iters / base_iters)) for m in sched['milestones']
            ]
        out.append(sched)
    return out


def scaled_search(model_cfg, base_iters: int, iters: int) -> dict:
    """A SoKD model's search bounds stretched from ``base_iters`` to ``iters`` like the
    schedule: ``search_begin`` and ``search_end`` (iterations) that are set and not 0, each
    at least 1; ``search_interval`` is a rate and stays. ``{}`` for a model without them.

    A config whose search ends at a quarter of its 6000 iterations (1500) searches over the
    first quarter of a 40-iteration run too (10), not over all of it.
    """
    out = {}
    for key in ('search_begin', 'search_end'):
        value = (model_cfg or {}).get(key)
        if value:
            out[key] = max(1, round(value * iters / base_iters))
    return out


def load_config(path: str):
    """``path`` resolved, without importing the project's modules (only read, not built)."""
    from mmengine.config import Config
    return Config.fromfile(path, import_custom_modules=False)


def _schedule_text(schedule) -> str:
    """``repr`` of a schedule; a per-optimiser dict replaces the inherited one whole."""
    if isinstance(schedule, dict):
        schedule = dict(_delete_=True, **schedule)
    return pprint.pformat(schedule, width=90)


def write_run_config(path: str,
                     base_cfg: str,
                     iters: int,
                     policy_interval: int,
                     writer: str = 'tools/benchmark.py') -> tuple:
    """Write the config of a run of ``base_cfg`` (relative to the repository) to ``path``.

    It inherits ``base_cfg`` and changes three things: the schedule, stretched to ``iters``
    (with a SoKD model's ``search_begin``/``search_end``: :func:`scaled_search`); the
    logging, a log line (and a ``scalars.json`` record) for every iteration with its own
    time (no smoothing); the DAFA policy logger's interval, ``policy_interval`` iterations.

    ``writer`` names the tool in the file's first line.

    Returns:
        tuple: (the resolved Config, its text) for hashing and for option keys.
    """
    head = f'# written by {writer}\n_base_ = [{osp.join(REPO_ROOT, base_cfg)!r}]\n'
    with open(path, 'w') as f:
        f.write(head)
    cfg = load_config(path)
    schedule = scaled_schedule(cfg.param_scheduler, cfg.train_cfg.max_iters, iters)
    text = [
        head,
        f'param_scheduler = {_schedule_text(schedule)}',
        # evaluations logged at their iteration (MMEngine's default logs them at epoch 0
        # in an iteration-based loop)
        'default_hooks = dict(logger=dict(interval=1, log_metric_by_epoch=False))',
        'log_processor = dict(window_size=1)'
    ]
    search = scaled_search(cfg.get('model'), cfg.train_cfg.max_iters, iters)
    if search:
        text.append('model = dict(' + ', '.join(f'{k}={v}' for k, v in search.items()) + ')')
    hooks = plain(cfg.get('custom_hooks', []))
    if any(h.get('type', '').endswith('DAFAPolicyLoggerHook') for h in hooks):
        for h in hooks:
            if h.get('type', '').endswith('DAFAPolicyLoggerHook'):
                h['interval'] = policy_interval
        text.append(f'custom_hooks = {pprint.pformat(hooks, width=90)}')
    with open(path, 'w') as f:
        f.write('\n'.join(text) + '\n')
    cfg = load_config(path)
    return cfg, cfg.pretty_text
