"""The benchmark page from ``results.json``: tables, an honest verdict, and two plots.

Everything here reads the results dict that ``tools/benchmark.py`` writes, so every number
on the page (and in the plots) comes from one file:

- :func:`summarise` turns the per-run records into per-method statistics (mean and sample
  standard deviation over seeds), cost ratios of each method to its base loss, and the
  comparisons of each SoKD variant with its base loss;
- :func:`render_markdown` writes the page (``docs/benchmark.md``);
- :func:`plot_map_curves` and :func:`plot_policies` write the pictures it links to.

The results dict (``schema`` 1)::

    {'command': str, 'machine': {...}, 'settings': {...},
     'methods': {name: {'config': str, 'base': str | None, 'about': str,
                        'overrides': str}},                   # in the order of the tables
     'teacher': {'config': str, 'metrics': {AP...} | None, 'cost': {...}},
     'runs': [{'method': str, 'seed': int,
               'metrics': {'AP': .., 'AP50': .., 'AP75': .., 'APs': .., 'APm': .., 'APl': ..},
               'curve': [{'iter': int, 'AP': float, ...}, ...],
               'cost': {'iter_time_s': float, 'run_s': float, 'wall_s': float,
                        'peak_rss_mib': float, 'load5': float | None,
                        'gpu_mem_mib': float | None},   # None: trained on a CPU
               'policy_history': [DAFAPolicyLoggerHook records] | None}, ...],
     'failed': [{'method': str, 'seed': int, 'log': str}, ...],
     'not_run': [{'method': str, 'seed': int, 'state': str}, ...]}  # --done-only

COCO metrics are fractions in [0, 1] (None where COCO reports -1: no object of that size);
the page shows them in percent.
"""
import os
import os.path as osp
import statistics
from typing import Dict, List, Optional, Sequence

from .model_size import DEFAULT_SIZE, size_label
from .page import keep_block

METRICS = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl')
# below this AP (a fraction) the page warns that the students have barely learned anything
LOW_AP = 0.05
COSTS = (('iter_time_s', 'training time per iteration'), ('run_s', 'whole run'),
         ('peak_rss_mib', 'peak memory (RSS)'), ('gpu_mem_mib', 'peak GPU memory'))


def mean_std(values: Sequence[Optional[float]]) -> dict:
    """Mean and sample standard deviation (n - 1) of the values that are not None.

    Returns:
        dict: ``mean`` (None without values), ``std`` (None with fewer than two values) and
        ``n``.
    """
    values = [float(v) for v in values if v is not None]
    return dict(mean=statistics.fmean(values) if values else None,
                std=statistics.stdev(values) if len(values) > 1 else None, n=len(values))


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
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
    ``DAFAPolicyLoggerHook``, so :func:`plot_policy_history` draws them as they are.
    """
    histories = [{h['iter']: h for h in r['policy_history']} for r in runs
                 if r.get('policy_history')]
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
    return dict(method=method['name'], base=base['name'], mean=a['mean'],
                base_mean=b['mean'], std=a['std'], base_std=b['std'], n=a['n'],
                base_n=b['n'], delta=delta, spread=spread, outcome=outcome,
                within_std=within, beats=outcome == 'better' and within is False)


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
        its base, or None), ``curve`` (mean AP per evaluated iteration) and ``policy``
        (mean DAFA policy history or None)),
        ``comparisons`` (one per method with a base: ``delta`` of the mean AP, ``spread``
        the larger seed std, ``within_std``, ``outcome``, ``beats``), ``teacher``,
        ``load`` (range of the runs' 5-minute load averages: ``min``, ``max``, ``n``,
        ``unknown`` (runs without one); None if no run recorded it),
        ``settings``, ``machine``, ``command``, ``failed`` and ``not_run`` (the planned
        runs a ``--done-only`` page left out: ``method``, ``seed``, ``state``).
    """
    methods, by_name = [], {}
    for name, spec in results['methods'].items():
        runs = sorted((r for r in results['runs'] if r['method'] == name),
                      key=lambda r: r['seed'])
        if not runs:
            continue
        entry = dict(
            name=name, about=spec.get('about', ''), config=spec.get('config', ''),
            base=spec.get('base'), seeds=[r['seed'] for r in runs],
            metrics={m: mean_std([r['metrics'].get(m) for r in runs]) for m in METRICS},
            per_seed_ap=[r['metrics'].get('AP') for r in runs],
            no_detections=[r['seed'] for r in runs if r.get('no_detections')],
            cost={c: mean_std([r['cost'].get(c) for r in runs]) for c, _ in COSTS},
            curve=_mean_curve(runs), policy=_mean_policy(runs))
        methods.append(entry)
        by_name[name] = entry
    comparisons = []
    for entry in methods:
        base = by_name.get(entry['base']) if entry['base'] else None
        entry['ratio'] = None if base is None else {
            c: _ratio(entry['cost'][c]['mean'], base['cost'][c]['mean']) for c, _ in COSTS}
        if base is not None and entry['metrics']['AP']['mean'] is not None and \
                base['metrics']['AP']['mean'] is not None:
            comparisons.append(_comparison(entry, base))
    teacher = results.get('teacher') or {}
    return dict(methods=methods, comparisons=comparisons, teacher=teacher,
                load=load_range(results['runs']),
                settings=results.get('settings', {}), machine=results.get('machine', {}),
                command=results.get('command', ''), failed=results.get('failed', []),
                not_run=results.get('not_run', []),
                student_ap=(by_name['student']['metrics']['AP']['mean']
                            if 'student' in by_name else None))


# ------------------------------------------------------------------------------ markdown
def _pct(stat: dict) -> str:
    """``mean ± std`` of a fraction, in percent (``n/a`` without values)."""
    if stat['mean'] is None:
        return 'n/a'
    if stat['std'] is None:
        return f"{100 * stat['mean']:.1f}"
    return f"{100 * stat['mean']:.1f} ± {100 * stat['std']:.1f}"


def _num(stat: dict, scale: float = 1.0, digits: int = 2) -> str:
    if stat['mean'] is None:
        return 'n/a'
    text = f"{scale * stat['mean']:.{digits}f}"
    return text if stat['std'] is None else f"{text} ± {scale * stat['std']:.{digits}f}"


def _x(ratio: Optional[float]) -> str:
    return '—' if ratio is None else f'{ratio:.2f}×'


def verdict_sentence(c: dict) -> str:
    """One plain sentence: does ``c['method']`` beat ``c['base']`` in this run?"""
    head = (f"**{c['method']}** vs **{c['base']}**: mean AP {100 * c['mean']:.1f} vs "
            f"{100 * c['base_mean']:.1f} ({100 * c['delta']:+.2f} points, {c['n']} vs "
            f"{c['base_n']} seeds). ")
    if c['outcome'] == 'tie':
        result = f"{c['method']} does not beat {c['base']} in this run: the means are equal."
    elif c['within_std'] is None:
        what = 'higher' if c['outcome'] == 'better' else 'lower'
        result = (f"{c['method']} scores {what} than {c['base']} in this run, but with a "
                  'single seed the seed-to-seed spread is unknown, so this does not show '
                  f"that {c['method']} {'beats' if what == 'higher' else 'is worse than'} "
                  f"{c['base']}.")
    elif c['outcome'] == 'better' and not c['within_std']:
        result = (f"{c['method']} beats {c['base']} in this run: the difference is larger "
                  f"than the seed standard deviation ({100 * c['spread']:.2f} points).")
    elif c['outcome'] == 'better':
        result = (f"{c['method']} scores higher than {c['base']} on average, but the "
                  'difference is within the seed standard deviation '
                  f"({100 * c['spread']:.2f} points), so this run does not show that "
                  f"{c['method']} beats {c['base']}.")
    elif c['within_std']:
        result = (f"{c['method']} does not beat {c['base']} in this run: it scores lower on "
                  'average, within the seed standard deviation '
                  f"({100 * c['spread']:.2f} points).")
    else:
        result = (f"{c['method']} does not beat {c['base']} in this run: it scores lower by "
                  'more than the seed standard deviation '
                  f"({100 * c['spread']:.2f} points).")
    return head + result


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


def load_sentence(load: Optional[dict], cores) -> str:
    """How busy the machine was: runs slow down when they share the cores."""
    if load is None:
        return 'The machine load was not recorded.'
    text = (f"The machine's 5-minute load average at the end of each run was "
            f"{load['min']:.1f}-{load['max']:.1f} ({load['n']} runs"
            + (f"; {load['unknown']} runs made before it was recorded" if load['unknown']
               else '') + f') on {cores} usable cores')
    if cores and load['max'] > cores + 0.5:
        return text + ': some runs shared the cores, and their times are inflated.'
    return text + '.'


def _models(summary: dict) -> Dict[str, str]:
    """Teacher and student backbone labels of the run (results before ``--models``: the
    default pair)."""
    return size_label(summary.get('settings', {}).get('models') or DEFAULT_SIZE)


def _settings_text(s: dict, teacher: dict, load: Optional[dict] = None,
                   cores=None) -> str:
    seeds = ', '.join(str(x) for x in s.get('seeds', []))
    lines = [
        f"- Data: the built-in Shapes detection set, {s.get('num_train')} training images "
        f"and {s.get('num_val')} held-out images (the generator's `val` split) of "
        f"{s.get('img_size')}×{s.get('img_size')} px, generator seed {s.get('data_seed')}.",
        f"- Teacher: `{teacher.get('config', '?')}`, {s.get('teacher_iters')} iterations.",
        _models_line(s.get('models') or DEFAULT_SIZE),
        f"- Students: {s.get('iters')} iterations each, seeds {seeds}; the held-out split is "
        f"evaluated every {s.get('eval_interval')} iterations for the curves. Every config's "
        'learning-rate schedule is stretched to the run length (warm-up and steps at the '
        'same fractions).',
        '- The held-out split is never used for selection or tuning: every number is the '
        'final checkpoint of its run (no best-checkpoint pick), with the configs as they '
        'are in the repository.',
        f"- Time per iteration: mean of MMEngine's logged `time` (data loading included) "
        f"over the run, leaving out the first {s.get('warmup_iters')} iteration(s) and each "
        'iteration that follows an evaluation (its timer includes the COCO evaluation). '
        'Whole run: the logged times of all its iterations, each once (the evaluations '
        'included through the iteration that follows each; start-up, the final evaluation '
        'and checkpoint writing left out), so that a run interrupted and resumed counts like '
        "an uninterrupted one; the processes' wall times are in `results.json`. Peak "
        'memory: the largest resident set size of the training process (its `wait4` '
        "rusage); on a GPU also the largest `memory` MMEngine logs (CUDA memory held by "
        'tensors). Each benchmark process trains its '
        'runs one after another (several processes may share the output folder). '
        + load_sentence(load, cores),
    ]
    if s.get('quick'):
        lines.insert(0, '- **Smoke setting (`--quick`)**: far too short to compare methods; '
                        'it only checks that every method trains and the page is written.')
    return '\n'.join(lines)


def _models_line(size: str) -> str:
    label = size_label(size)
    how = ('the configs as they are' if size == DEFAULT_SIZE else
           f'`--models {size}`: the configs\' backbones swapped by `--cfg-options`, the FPN '
           'inputs following them; everything from the FPN on as configured')
    return (f"- Detectors: {label['teacher']} teacher, {label['student']} students "
            f'(RetinaNet, ResNet backbones from scratch; {how}).')


def render_markdown(summary: dict, images: Optional[Dict[str, str]] = None) -> str:
    """The benchmark page, every number taken from ``summary``.

    Args:
        summary (dict): the output of :func:`summarise`.
        images (dict, optional): ``map_curve`` and ``policy`` -> link of the plot (relative
            to the page); a missing key leaves that plot out. Defaults to
            ``images/benchmark_map_curve.png`` and, when a run learned a policy,
            ``images/benchmark_policy.png``.

    Returns:
        str: Markdown.
    """
    if images is None:
        images = {'map_curve': 'images/benchmark_map_curve.png'}
        if any(m['policy'] for m in summary['methods']):
            images['policy'] = 'images/benchmark_policy.png'
    s, teacher, machine = summary['settings'], summary['teacher'], summary['machine']
    out = ['# Benchmark: SoKD against its base losses on the built-in data set', '',
           '*Generated by `tools/benchmark.py` from its `results.json`; do not edit by hand '
           '(re-run the command below).*', '',
           _settings_text(s, teacher, summary.get('load'), machine.get('usable_cores')), '']

    out += ['## Does SoKD beat its base loss?', '']
    best = max((m['metrics']['AP']['mean'] for m in summary['methods']
                if m['metrics']['AP']['mean'] is not None), default=None)
    if best is not None and best < LOW_AP:
        out += [f'**Caution:** the best method reaches only {100 * best:.1f} AP (below '
                f'{100 * LOW_AP:.0f}): at this training length the students have barely '
                'started to learn, and differences between methods say little.', '']
    if summary['comparisons']:
        out += ['A difference counts as real only when it is larger than the larger of the '
                'two methods\' seed standard deviations of AP.', '']
        out += [f'- {verdict_sentence(c)}' for c in summary['comparisons']]
    else:
        out.append('No SoKD method and its base loss both finished in this run: no '
                   'comparison.')
    out.append('')

    out += ['## Accuracy (COCO bbox mAP on the held-out split, %)', '',
            'Mean ± sample standard deviation over seeds; the teacher was trained once.', '',
            '| method | seeds | ' + ' | '.join(METRICS) + ' | ΔAP vs student | AP per seed |',
            '|---|---|' + '---|' * len(METRICS) + '---|---|']
    tm = teacher.get('metrics')
    if tm:
        out.append(f"| teacher ({_models(summary)['teacher']}) | 1 | " + ' | '.join(
            _pct(mean_std([tm.get(m)])) for m in METRICS) + ' | — | — |')
    for m in summary['methods']:
        ap = m['metrics']['AP']['mean']
        delta = ('—' if summary['student_ap'] is None or ap is None or m['name'] == 'student'
                 else f"{100 * (ap - summary['student_ap']):+.2f}")
        seeds = ' / '.join('n/a' if v is None else f'{100 * v:.1f}' for v in m['per_seed_ap'])
        out.append(f"| {m['name']} | {len(m['seeds'])} | " + ' | '.join(
            _pct(m['metrics'][k]) for k in METRICS) + f' | {delta} | {seeds} |')
    out.append('')
    empty = [f"{m['name']} (seed {', '.join(str(s) for s in m['no_detections'])})"
             for m in summary['methods'] if m['no_detections']]
    if empty:
        out += ['No box passed the score threshold in the final evaluation of: '
                + '; '.join(empty) + ' (counted as AP 0).', '']

    gpu = any(m['cost']['gpu_mem_mib']['mean'] is not None for m in summary['methods'])
    out += ['## Cost (same machine, same benchmark run)', '',
            'Mean ± standard deviation over seeds; ratios are to the method\'s base loss.', '',
            '| method | base | s / iteration | ratio | whole run (s) | ratio | '
            'peak RSS (MiB) | ratio |' + (' peak GPU memory (MiB) | ratio |' if gpu else ''),
            '|---|---|---|---|---|---|---|---|' + ('---|---|' if gpu else '')]
    for m in summary['methods']:
        r = m['ratio'] or {}
        out.append(
            f"| {m['name']} | {m['base'] or '—'} | {_num(m['cost']['iter_time_s'], 1, 3)} | "
            f"{_x(r.get('iter_time_s'))} | {_num(m['cost']['run_s'], 1, 0)} | "
            f"{_x(r.get('run_s'))} | {_num(m['cost']['peak_rss_mib'], 1, 0)} | "
            f"{_x(r.get('peak_rss_mib'))} |"
            + (f" {_num(m['cost']['gpu_mem_mib'], 1, 0)} | {_x(r.get('gpu_mem_mib'))} |"
               if gpu else ''))
    tc = teacher.get('cost') or {}
    if tc:
        out += ['', f"The teacher's training took {tc.get('run_s') or 0:.0f} s, "
                f"{tc.get('iter_time_s') or 0:.3f} s per iteration, peak RSS "
                f"{tc.get('peak_rss_mib') or 0:.0f} MiB"
                + ('; this run reused its cached checkpoint.' if teacher.get('cached')
                   else '.')]
    out.append('')

    out += ['## Plots', '']
    if 'map_curve' in images:
        out += [f"![mAP vs iteration]({images['map_curve']})", '',
                'AP on the held-out split against training iterations, mean over seeds '
                '(shaded: ± one standard deviation); solid: SoKD variants, dashed: the '
                'others, dotted black: the final teacher.', '']
    if 'policy' in images:
        out += [f"![learned DAFA policy]({images['policy']})", '',
                'The learned DAFA policy of each method with a policy search, mean over '
                'seeds: per op, the expected apply probability and the weighted magnitude.',
                '']

    out += ['## Methods', '', '| method | config | base | what |', '|---|---|---|---|']
    for m in summary['methods']:
        out.append(f"| {m['name']} | `{m['config']}` | {m['base'] or '—'} | {m['about']} |")
    out.append('')
    if summary['failed']:
        out += ['## Failed runs', '']
        out += [f"- {f['method']} seed {f['seed']}: see `{f['log']}`"
                for f in summary['failed']]
        out.append('')

    if summary['not_run']:
        out += ['## Planned runs not on this page', '',
                'The command planned these runs, but they had not finished when the page was '
                'written (`--done-only` reports finished runs only); their state then:', '']
        out += [f"- {r['method']} seed {r['seed']}: {r['state']}" for r in summary['not_run']]
        out.append('')

    out += ['## Machine and command', '',
            f"- CPU: {machine.get('cpu_model', '?')}, {machine.get('usable_cores', '?')} "
            f"usable of {machine.get('logical_cores', '?')} logical cores; OMP_NUM_THREADS="
            f"{machine.get('omp_num_threads') or 'unset'}",
            f"- GPU: {machine.get('gpu') or 'none (the runs trained on the CPU)'}",
            f"- Python {machine.get('python', '?')}, torch {machine.get('torch', '?')}, "
            f"mmengine {machine.get('mmengine', '?')}, mmdet {machine.get('mmdet', '?')}, "
            f"mmrazor {machine.get('mmrazor', '?')}",
            f"- Code: commit {machine.get('commit') or '?'}"
            + (' with uncommitted changes' if machine.get('uncommitted_changes') else ''),
            f"- Finished {machine.get('finished', '?')}", '', '```bash',
            summary['command'], '```', '']
    return '\n'.join(out)


# --------------------------------------------------------------------------------- plots
def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def plot_map_curves(summary: dict, out_file: str) -> str:
    """AP on the held-out split against iterations, per method (mean ± std over seeds).

    Args:
        summary (dict): the output of :func:`summarise`.
        out_file (str): where to save the PNG (its folder is created).

    Returns:
        str: ``out_file``.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5), dpi=100)
    for m in summary['methods']:
        pts = [p for p in m['curve'] if p['mean'] is not None]
        if not pts:
            continue
        x = [p['iter'] for p in pts]
        y = [100 * p['mean'] for p in pts]
        line, = ax.plot(x, y, marker='o', ms=3, label=m['name'],
                        ls='-' if m['name'].startswith('sokd') else '--')
        sd = [100 * (p['std'] or 0.0) for p in pts]
        if any(sd):
            ax.fill_between(x, [a - b for a, b in zip(y, sd)], [a + b for a, b in zip(y, sd)],
                            color=line.get_color(), alpha=0.12)
    ap = (summary['teacher'].get('metrics') or {}).get('AP')
    if ap is not None:
        ax.axhline(100 * ap, color='k', ls=':', lw=1, label='teacher')
    ax.set_xlabel('iteration')
    ax.set_ylabel('AP (%) on the held-out split')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc='center left', bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    fig.savefig(out_file)
    plt.close(fig)
    return out_file


def plot_policies(summary: dict, out_file: str) -> Optional[str]:
    """The learned DAFA policy of every method that searched one, one row per method.

    Each row is :func:`sokd_mmdet.visualization.plot_policy_history` of the method's policy
    history averaged over seeds.

    Args:
        summary (dict): the output of :func:`summarise`.
        out_file (str): where to save the PNG (its folder is created).

    Returns:
        str or None: ``out_file``, or None (nothing written) when no run has a policy.
    """
    from ..visualization.policy_plot import plot_policy_history
    rows = [(m['name'], plot_policy_history(m['policy'])) for m in summary['methods']
            if m['policy']]
    if not rows:
        return None
    plt = _pyplot()
    h, w = rows[0][1].shape[:2]
    fig, axes = plt.subplots(len(rows), 1, figsize=(w / 100, len(rows) * (h / 100 + 0.4)),
                             dpi=100, squeeze=False)
    for ax, (name, image) in zip(axes[:, 0], rows):
        ax.imshow(image)
        ax.set_title(f'{name} (mean over seeds)', fontsize=10)
        ax.axis('off')
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    fig.savefig(out_file)
    plt.close(fig)
    return out_file


def write_report(results: dict, report_file: str, image_dir: Optional[str] = None) -> dict:
    """Summarise ``results`` and write the page and its two plots.

    Args:
        results (dict): the contents of ``results.json``.
        report_file (str): the Markdown page.
        image_dir (str, optional): folder of the plots; defaults to ``images/`` next to the
            page.

    Returns:
        dict: the summary, with ``files`` (what was written).
    """
    summary = summarise(results)
    page_dir = osp.dirname(osp.abspath(report_file))
    image_dir = image_dir or osp.join(page_dir, 'images')
    curve = plot_map_curves(summary, osp.join(image_dir, 'benchmark_map_curve.png'))
    policy = plot_policies(summary, osp.join(image_dir, 'benchmark_policy.png'))
    images = {'map_curve': osp.relpath(curve, page_dir)}
    if policy:
        images['policy'] = osp.relpath(policy, page_dir)
    old = None
    if osp.isfile(report_file):
        with open(report_file) as f:
            old = f.read()
    with open(report_file, 'w') as f:  # the classification section, if any, stays
        f.write(keep_block(old, render_markdown(summary, images)))
    summary['files'] = [report_file, curve] + ([policy] if policy else [])
    return summary
