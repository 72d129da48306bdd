"""The classification table of the benchmark page: top-1 of every method, mean ± std.

``tools/benchmark.py --task classification`` writes its own ``results.json`` (same schema as
the detection one, with ``metrics = {'top1': percent}``); this module renders it as a
section of ``docs/benchmark.md`` between two marker comments, so that the detection and the
classification runs each rewrite their own part of the one page.
"""
from typing import Dict, List

from .page import BEGIN, END
from .sentences import load_sentence
from .summary import load_range, mean_std, ratio


def summarise_classification(results: dict) -> dict:
    """Per method: top-1 mean/std over seeds, per-seed values, cost, and vs its base.

    Returns:
        dict: ``methods`` (in ``results['methods']`` order, those with runs), ``teacher``
        (its top-1), ``comparisons`` (method vs base: ``delta`` of the means and
        ``spread``, the larger of the two seed standard deviations).
    """
    by_name: Dict[str, dict] = {}
    for name, spec in results['methods'].items():
        runs = sorted((r for r in results['runs'] if r['method'] == name), key=lambda r: r['seed'])
        if not runs:
            continue
        cost = {
            k: mean_std([r['cost'].get(k) for r in runs])
            for k in ('iter_time_s', 'run_s', 'peak_rss_mib')
        }
        by_name[name] = dict(
            name=name,
            base=spec.get('base'),
            about=spec.get('about', ''),
            seeds=[r['seed'] for r in runs],
            top1=mean_std([r['metrics'].get('top1') for r in runs]),
            per_seed=[r['metrics'].get('top1') for r in runs],
            cost=cost)
    comparisons = []
    for entry in by_name.values():
        base = by_name.get(entry['base'])
        if base is None or entry['top1']['mean'] is None or base['top1']['mean'] is None:
            continue
        # a claim needs a seed spread on both sides: with one seed there is none
        measured = entry['top1']['std'] is not None and base['top1']['std'] is not None
        spread = max(entry['top1']['std'] or 0.0, base['top1']['std'] or 0.0)
        delta = entry['top1']['mean'] - base['top1']['mean']
        ratios = {
            k: ratio(entry['cost'][k]['mean'], base['cost'][k]['mean'])
            for k in entry['cost']
        }
        comparisons.append(
            dict(
                method=entry['name'],
                base=base['name'],
                delta=delta,
                spread=spread if measured else None,
                beats=measured and delta > spread,
                loses=measured and delta < -spread,
                ratios=ratios))
    teacher = (results.get('teacher') or {}).get('metrics') or {}
    return dict(
        methods=list(by_name.values()), comparisons=comparisons, teacher_top1=teacher.get('top1'))


def _stat(stat: dict) -> str:
    if stat['mean'] is None:
        return 'n/a'
    return f"{stat['mean']:.1f}" + (f" ± {stat['std']:.1f}" if stat['std'] is not None else '')


def _verdict(c: dict) -> str:
    head = f"**{c['method']}** vs **{c['base']}**: top-1 {c['delta']:+.1f} points"
    if c['spread'] is None:
        return head + ' (one seed: no spread to compare with, no claim).'
    if c['beats']:
        return head + f" (more than the seed spread, {c['spread']:.1f}): better here."
    if c['loses']:
        return head + f" (more than the seed spread, {c['spread']:.1f}): worse here."
    return head + (f" (within the seed spread, {c['spread']:.1f}): no difference that these "
                   'seeds can show.')


def render_classification(results: dict) -> str:
    """The classification section (between :data:`BEGIN` and :data:`END`)."""
    summary = summarise_classification(results)
    s = results['settings']
    out = [
        BEGIN, '## Classification (top-1 on the held-out split, %)', '',
        f"Built-in classification data ({s['num_train']} training / {s['num_val']} "
        f"held-out images of {s['img_size']} px, 6 classes), students trained "
        f"{s['iters']} iterations, teacher {s['teacher_iters']} iterations, seeds "
        f"{', '.join(map(str, s['seeds']))}. Command: `{results['command']}`; machine: "
        f"{results['machine'].get('cpu_model')}, {results['machine'].get('usable_cores')} "
        'cores. ' +
        load_sentence(load_range(results['runs']), results['machine'].get('usable_cores')), ''
    ]
    if summary['teacher_top1'] is not None:
        out += [f"Teacher: {summary['teacher_top1']:.1f} top-1.", '']
    student = next((m for m in summary['methods'] if m['name'] == 'student'), None)
    out += [
        '| method | seeds | top-1 | Δ vs student | top-1 per seed | s/iter | peak RSS (MiB) |',
        '|---|---|---|---|---|---|---|'
    ]
    for m in summary['methods']:
        delta = ('' if student is None or m is student or m['top1']['mean'] is None else
                 f"{m['top1']['mean'] - student['top1']['mean']:+.1f}")
        per_seed = ', '.join('n/a' if v is None else f'{v:.1f}' for v in m['per_seed'])
        t, rss = m['cost']['iter_time_s']['mean'], m['cost']['peak_rss_mib']['mean']
        out.append(f"| {m['name']} | {len(m['seeds'])} | {_stat(m['top1'])} | {delta} | "
                   f"{per_seed} | {'n/a' if t is None else f'{t:.3f}'} | "
                   f"{'n/a' if rss is None else f'{rss:.0f}'} |")
    out += ['']
    for c in summary['comparisons']:
        r = c['ratios']
        cost = ', '.join(f'{label} {r[k]:.2f}x'
                         for k, label in (('iter_time_s', 'time per iteration'),
                                          ('run_s', 'whole run'), ('peak_rss_mib', 'peak memory'))
                         if r[k] is not None)
        out.append('- ' + _verdict(c) + (f' Cost vs {c["base"]}: {cost}.' if cost else ''))
    out += [
        '', 'Methods: ' + '; '.join(f"`{m['name']}`: {m['about']}"
                                    for m in summary['methods']) + '.', END
    ]
    return '\n'.join(out) + '\n'


__all__: List[str] = ['summarise_classification', 'render_classification']
