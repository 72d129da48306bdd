"""Whether a detection benchmark run is in the regime where its comparisons mean something.

A student that ends above its teacher, or one still learning at the end of its run,
measures how fast a hint speeds up an unconverged student, not how well it absorbs a
stronger teacher's knowledge. The page states these figures before any comparison:

- the teacher's held-out AP against the best distilled student's (at least
  :data:`TEACHER_MARGIN` points above) and against the student alone's (at least
  :data:`TEACHER_RATIO` times);
- the student alone's convergence: its AP change over the last fifth of the run (at most
  :data:`CONVERGED` points), from its mean curve;
- the noise: the largest seed standard deviation of AP over the core rows (at most
  :data:`MAX_SEED_STD` points; a comparison can then see a difference of ~0.5).
"""
from typing import List, Optional

TEACHER_MARGIN = 5.0  # AP points above the best distilled student
TEACHER_RATIO = 1.5  # times the student alone's AP
CONVERGED = 0.5  # AP points over the last fifth of the student alone's run
BUDGET_CPU_H = 8.0  # CPU-hours of the core rows' runs, about
MAX_SEED_STD = 0.3  # AP points, the largest over the core rows


def last_fifth_change(curve: List[dict], iters: int) -> Optional[dict]:
    """The AP change (points) from the last evaluation at or before 80 % of ``iters`` to
    the final one, or None without both.

    Args:
        curve (list[dict]): a method's mean curve (``iter``, ``mean`` AP as a fraction).
        iters (int): the run's length.

    Returns:
        dict: ``start`` (its iteration), ``end``, ``change`` (points), ``ok``.
    """
    points = [p for p in curve if p.get('mean') is not None]
    start = [p for p in points if p['iter'] <= 0.8 * iters]
    end = [p for p in points if p['iter'] == iters]
    if not start or not end:
        return None
    change = 100 * (end[-1]['mean'] - start[-1]['mean'])
    return dict(start=start[-1]['iter'], end=iters, change=change, ok=abs(change) < CONVERGED)


def regime(summary: dict, pretrained: Optional[dict] = None) -> Optional[dict]:
    """The regime figures of a detection summary (:func:`.summary.summarise`).

    Args:
        summary (dict): the summary; its methods with ``ablation`` unset are the core rows.
        pretrained (dict, optional): the results' pretrained backbones (role -> record).

    Returns:
        dict or None (no teacher metrics or no student alone): ``teacher_ap``,
        ``student_ap``, ``best`` (name and AP of the best distilled row), ``margin``
        (teacher minus best, points), ``ratio`` (teacher / student alone), ``converged``
        (:func:`last_fifth_change` of the student alone), ``noise`` (the largest seed std of
        the core rows, points, with its row and the number of rows), ``backbones`` (role ->
        top-1 %), and ``ok`` per requirement.
    """
    tm = (summary.get('teacher') or {}).get('metrics') or {}
    by_name = {m['name']: m for m in summary['methods']}
    if tm.get('AP') is None or 'student' not in by_name:
        return None
    teacher_ap = 100 * tm['AP']
    student_ap = by_name['student']['metrics']['AP']['mean']
    distilled = [(m['name'], 100 * m['metrics']['AP']['mean']) for m in summary['methods']
                 if m['name'] != 'student' and m['metrics']['AP']['mean'] is not None]
    best = max(distilled, key=lambda x: x[1], default=None)
    core = [m for m in summary['methods'] if not m.get('ablation')]
    stds = [(100 * m['metrics']['AP']['std'], m['name']) for m in core
            if m['metrics']['AP']['std'] is not None]
    noise = None
    if stds:
        worst = max(stds, key=lambda x: x[0])
        noise = dict(std=worst[0], method=worst[1], rows=len(stds), ok=worst[0] <= MAX_SEED_STD)
    out = dict(
        teacher_ap=teacher_ap,
        student_ap=None if student_ap is None else 100 * student_ap,
        best=None if best is None else dict(name=best[0], ap=best[1]),
        margin=None if best is None else teacher_ap - best[1],
        ratio=None if not student_ap else teacher_ap / (100 * student_ap),
        converged=last_fifth_change(by_name['student']['curve'],
                                    summary.get('settings', {}).get('iters') or 0),
        noise=noise,
        backbones={
            role: None if (r.get('metrics') or {}).get('top1') is None else r['metrics']['top1']
            for role, r in (pretrained or {}).items()
        })
    cpu = [m['cpu'] for m in core if m.get('cpu')]
    out['budget'] = None if not cpu else dict(
        cpu_h=sum(c['total_s'] for c in cpu) / 3600,
        runs=sum(c['runs'] for c in cpu),
        scaled=sum(c.get('scaled', 0) for c in cpu),
        unknown=sum(c['unknown'] for c in cpu),
        rows=len(core))
    out['ok'] = dict(
        margin=None if out['margin'] is None else out['margin'] >= TEACHER_MARGIN,
        ratio=None if out['ratio'] is None else out['ratio'] >= TEACHER_RATIO,
        converged=None if out['converged'] is None else out['converged']['ok'],
        noise=None if noise is None else noise['ok'])
    return out


def _mark(ok: Optional[bool]) -> str:
    return 'not measured' if ok is None else ('met' if ok else '**not met**')


def regime_lines(r: dict) -> List[str]:
    """The page's regime paragraph (Markdown list items) for :func:`regime`'s figures."""
    lines = []
    if r['backbones']:
        lines.append('- Pretrained backbones (top-1 on the held-out classification images): ' +
                     ', '.join(f'{role} {"n/a" if v is None else f"{v:.1f} %"}'
                               for role, v in r['backbones'].items()) + '.')
    if r['best'] is not None:
        lines.append(f"- Teacher {r['teacher_ap']:.1f} AP; best distilled student "
                     f"({r['best']['name']}) {r['best']['ap']:.1f}: {r['margin']:+.1f} points "
                     f'(required at least +{TEACHER_MARGIN:.0f}: {_mark(r["ok"]["margin"])}).')
    if r['ratio'] is not None:
        lines.append(f"- Teacher / student alone: {r['teacher_ap']:.1f} / {r['student_ap']:.1f} "
                     f"= {r['ratio']:.2f}x (required at least {TEACHER_RATIO}x: "
                     f'{_mark(r["ok"]["ratio"])}).')
    c = r['converged']
    if c is not None:
        lines.append(f"- Student alone converged: {c['change']:+.2f} AP from iteration "
                     f"{c['start']} to {c['end']}, the last fifth (required within "
                     f'±{CONVERGED}: {_mark(c["ok"])}).')
    n = r['noise']
    if n is not None:
        lines.append(f"- Noise: the largest seed standard deviation of AP over the "
                     f"{n['rows']} core rows is {n['std']:.2f} ({n['method']}; required at "
                     f'most {MAX_SEED_STD}: {_mark(n["ok"])}).')
    b = r.get('budget')
    if b is not None and b['runs']:
        left = (f"; {b['unknown']} more ran before CPU time was recorded, so the total is "
                'higher' if b['unknown'] else '')
        scaled = (f"; {b['scaled']} of them measured over part of the run (a segment "
                  'killed mid-way records none) and scaled to the whole run by its '
                  'iterations' if b.get('scaled') else '')
        lines.append(f"- Budget: the {b['runs']} runs of the {b['rows']} core rows with a "
                     f"recorded CPU time took {b['cpu_h']:.1f} CPU-hours (user + "
                     f'system{scaled}){left} (aimed at about {BUDGET_CPU_H:.0f}).')
    return lines
