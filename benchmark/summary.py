"""Per-method statistics of the benchmark's runs: means and spreads over seeds, cost
ratios to the base loss, and each method's comparison with its base.

:func:`summarise` reads the results dict that ``tools/benchmark.py`` writes (see
:mod:`.report`); every number of the page and of its plots comes from its output.
"""
import statistics
from typing import List, Optional, Sequence

from sokd_mmdet.analysis.training_log import mean_diagnosis

METRICS = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl')
COSTS = (('iter_time_s', 'training time per iteration'), ('run_s', 'whole run'),
         ('peak_rss_mib', 'peak memory (RSS)'), ('gpu_mem_mib', 'peak GPU memory'))


def mean_std(values: Sequence[Optional[float]]) -> dict:
    """Mean and sample standard deviation (n - 1) of the values that are not None.

    Returns:
        dict: ``mean`` (None without values), ``std`` (None with fewer than two values) and
        ``n``.
    """
    values = [float(v) for v in values if v is not None]
    return dict(
        mean=statistics.fmean(values) if values else None,
        std=statistics.stdev(values) if len(values) > 1 else None,
        n=len(values))


def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    """``a / b``, or None when either is unknown (or ``b`` is 0)."""
    return a / b if a is not None and b else None


def _mean_curve(runs: List[dict]) -> List[dict]:
    """Mean and std of AP at each iteration that every run evaluated."""
    per_run = [{p['iter']: p.get('AP') for p in r.get('curve') or []} for r in runs]
    if not per_run:
        return []
    iters = sorted(set.intersection(*(set(c) for c in per_run)))
    return [dict(iter=it, **mean_std([c[it] for c in per_run])) for it in iters]


def _mean_policy(runs: List[dict]) -> Optional[List[dict]]:
    """The seeds' DAFA policy histories averaged per op, at the iterations all of them logged.

    The records keep the ``iter`` / ``apply_prob`` / ``magnitude`` form of
    ``DAFAPolicyLoggerHook``, so ``plot_policy_history`` draws them as they are.
    """
    histories = [{
        h['iter']: h
        for h in r['policy_history']
    } for r in runs if r.get('policy_history')]
    if not histories:
        return None
    iters = sorted(set.intersection(*(set(h) for h in histories)))
    records = []
    for it in iters:
        rec = dict(iter=it)
        for key in ('apply_prob', 'magnitude'):
            ops = histories[0][it][key]
            rec[key] = {op: statistics.fmean(h[it][key][op] for h in histories) for op in ops}
        records.append(rec)
    return records or None


def _comparison(method: dict, base: dict) -> dict:
    """How ``method``'s mean AP compares with ``base``'s, and whether seeds could explain it."""
    a, b = method['metrics']['AP'], base['metrics']['AP']
    delta = a['mean'] - b['mean']
    stds = [s for s in (a['std'], b['std']) if s is not None]
    # the rule the page states: a difference no larger than the larger of the two seed
    # standard deviations is within seed noise; with a single seed it cannot be judged
    spread = max(stds) if len(stds) == 2 else None
    within = None if spread is None else abs(delta) <= spread
    outcome = 'better' if delta > 0 else 'worse' if delta < 0 else 'tie'
    return dict(
        method=method['name'],
        base=base['name'],
        mean=a['mean'],
        base_mean=b['mean'],
        std=a['std'],
        base_std=b['std'],
        n=a['n'],
        base_n=b['n'],
        delta=delta,
        spread=spread,
        outcome=outcome,
        within_std=within,
        beats=outcome == 'better' and within is False)


def whole_run_cpu_s(cost: dict, iters: Optional[int]) -> Optional[float]:
    """A run's CPU seconds for all its ``iters`` iterations: the recorded CPU time scaled
    by the iterations it covers (``cpu_iters``; a segment killed mid-way records none); as
    recorded when the coverage is unknown or complete. None without a CPU time."""
    cpu, covered = cost.get('cpu_s'), cost.get('cpu_iters')
    if cpu is None:
        return None
    if not covered or not iters or covered >= iters:
        return cpu
    return cpu * iters / covered


def cpu_time(runs: List[dict], iters: Optional[int]) -> dict:
    """CPU time of a method's runs: ``total_s`` (:func:`whole_run_cpu_s` summed over the
    ``runs`` that recorded one), ``scaled`` (how many of them were scaled from part of the
    run), ``unknown`` (runs without a CPU time)."""
    whole = [whole_run_cpu_s(r['cost'], iters) for r in runs]
    return dict(
        total_s=sum(w for w in whole if w is not None),
        runs=sum(w is not None for w in whole),
        scaled=sum(w is not None and w != r['cost'].get('cpu_s') for w, r in zip(whole, runs)),
        unknown=sum(w is None for w in whole))


def load_range(runs: List[dict]) -> Optional[dict]:
    """Range of the runs' 5-minute load averages (``cost['load5']``, at each run's end).

    Returns:
        dict: ``min``, ``max``, ``n`` (runs with a load) and ``unknown`` (runs made before
        the load was recorded); None when no run has one.
    """
    loads = [r['cost'].get('load5') for r in runs]
    known = [x for x in loads if x is not None]
    if not known:
        return None
    return dict(min=min(known), max=max(known), n=len(known), unknown=len(loads) - len(known))


def summarise(results: dict) -> dict:
    """Per-method statistics over seeds, cost ratios, and SoKD-vs-base comparisons.

    Args:
        results (dict): the contents of ``results.json`` (see the module docstring).

    Returns:
        dict: ``methods`` (list, in the order of ``results['methods']``, of dicts with
        ``name``, ``about``, ``config``, ``base``, ``seeds``, ``metrics`` (metric ->
        :func:`mean_std`), ``per_seed_ap``, ``no_detections`` (seeds whose final
        evaluation had no box above the score threshold), ``cost`` (cost ->
        :func:`mean_std` over the runs), ``ratio`` (cost -> mean of this method / mean of
        its base, or None), ``cpu`` (``total_s`` CPU seconds over the ``runs`` that
        recorded it, ``unknown`` runs without), ``curve`` (mean AP per evaluated
        iteration), ``policy`` (mean DAFA policy history or None), ``diagnosis`` (the
        runs' training-log diagnoses averaged, :func:`mean_diagnosis`; empty without a
        policy search) with ``diagnosed_seeds``, ``ablation``),
        ``comparisons`` (one per method with a base: ``delta`` of the mean AP, ``spread``
        the larger seed std, ``within_std``, ``outcome``, ``beats``), ``teacher``,
        ``pretrained`` (the backbones' pretraining records by role; empty without),
        ``load`` (range of the runs' 5-minute load averages: ``min``, ``max``, ``n``,
        ``unknown`` (runs without one); None if no run recorded it),
        ``settings``, ``machine``, ``command``, ``failed`` and ``not_run`` (the planned
        runs a ``--done-only`` page left out: ``method``, ``seed``, ``state``).
    """
    methods, by_name = [], {}
    for name, spec in results['methods'].items():
        runs = sorted((r for r in results['runs'] if r['method'] == name), key=lambda r: r['seed'])
        if not runs:
            continue
        entry = dict(
            name=name,
            about=spec.get('about', ''),
            config=spec.get('config', ''),
            base=spec.get('base'),
            ablation=spec.get('ablation'),
            seeds=[r['seed'] for r in runs],
            metrics={m: mean_std([r['metrics'].get(m) for r in runs])
                     for m in METRICS},
            per_seed_ap=[r['metrics'].get('AP') for r in runs],
            no_detections=[r['seed'] for r in runs if r.get('no_detections')],
            cost={
                c: mean_std([r['cost'].get(c) for r in runs])
                for c, _ in COSTS
            },
            # CPU seconds of the runs (what they cost whatever shared the machine)
            cpu=cpu_time(runs, (results.get('settings') or {}).get('iters')),
            curve=_mean_curve(runs),
            policy=_mean_policy(runs),
            diagnosis=mean_diagnosis([r['diagnosis'] for r in runs if r.get('diagnosis')]),
            diagnosed_seeds=[r['seed'] for r in runs if r.get('diagnosis')])
        methods.append(entry)
        by_name[name] = entry
    comparisons = []
    for entry in methods:
        base = by_name.get(entry['base']) if entry['base'] else None
        entry['ratio'] = None if base is None else {
            c: ratio(entry['cost'][c]['mean'], base['cost'][c]['mean'])
            for c, _ in COSTS
        }
        if base is not None and entry['metrics']['AP']['mean'] is not None and \
                base['metrics']['AP']['mean'] is not None:
            comparisons.append(_comparison(entry, base))
    teacher = results.get('teacher') or {}
    return dict(
        methods=methods,
        comparisons=comparisons,
        teacher=teacher,
        pretrained=results.get('pretrained') or {},
        load=load_range(results['runs']),
        settings=results.get('settings', {}),
        machine=results.get('machine', {}),
        command=results.get('command', ''),
        failed=results.get('failed', []),
        not_run=results.get('not_run', []),
        side_by_side=results.get('side_by_side'),
        side_by_side_file=results.get('side_by_side_file'),
        student_ap=(by_name['student']['metrics']['AP']['mean'] if 'student' in by_name else None))
