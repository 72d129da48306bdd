"""What a SoKD run's training log says about the method: the policy's reward, the loss
scales, DAM's mask areas, the gradient norms, phase by phase.

Plain functions over MMEngine's ``scalars.json`` records (one dict per logged iteration,
``step`` its iteration), behind ``tools/analysis_tools/sokd_diagnosis.py`` and the
benchmark page's diagnosis section. With a logger interval of 1 every iteration has a
record; a policy-step value (``policy/*``) is MMEngine's *current* value, so between two
policy steps the last one's value repeats, and :func:`policy_step_records` keeps one record
per policy step.

RELAX's reward is ``L_val`` after the virtual step on the draw's knowledge minus the
baseline (with ``reward_baseline='unaugmented_step'``: the same after a virtual step on the
un-augmented knowledge). A positive reward says the augmented draw left the student's outer
loss higher than the plain one did, and the policy's apply probabilities are pushed down by
it; a reward of exactly 0 is a draw that applied no op.
"""
import math
import statistics
from typing import Dict, List, Optional, Sequence

GROUPS = ('task', 'base', 'masked', 'dam')


def term_group(key: str) -> Optional[str]:
    """The loss group of a logged loss key, or None for anything else.

    ``student.*`` losses are the task loss; ``distill.*`` keys are the whole-map base loss,
    unless they end in ``_masked`` (the base loss inside DAM's areas) or are DAM's own terms
    (``*_align``: the heads' alignment; ``*_dam_*``: their ground-truth terms).
    """
    if key.startswith('student.loss'):
        return 'task'
    if not key.startswith('distill.loss'):
        return None
    if key.endswith('_masked'):
        return 'masked'
    if key.endswith('_align') or '_dam_' in key:
        return 'dam'
    return 'base'


def policy_step_records(records: Sequence[dict]) -> List[dict]:
    """One record per policy step: the records whose policy values differ from the
    previous record's (MMEngine repeats the last value until the next step)."""
    steps, previous = [], None
    for rec in records:
        if 'policy/reward' not in rec:
            continue
        value = (rec['policy/reward'], rec.get('policy/outer_after'))
        if value != previous:
            steps.append(rec)
        previous = value
    return steps


def _mean(values: Sequence[float]) -> Optional[float]:
    values = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.fmean(values) if values else None


def _share(values: Sequence[float], test) -> Optional[float]:
    return sum(map(test, values)) / len(values) if values else None


def reward_statistics(steps: Sequence[dict]) -> dict:
    """Mean, standard deviation and sign shares of the reward over ``steps``.

    Returns:
        dict: ``steps`` (how many), ``mean``, ``std`` (population), ``positive``, ``zero``,
        ``negative`` (shares of the steps), ``relative`` (mean reward over the mean
        ``policy/outer_after``: the reward's size against the loss it is a change of).
    """
    rewards = [s['policy/reward'] for s in steps]
    outer = _mean([s.get('policy/outer_after') for s in steps])
    mean = _mean(rewards)
    return dict(
        steps=len(rewards),
        mean=mean,
        std=statistics.pstdev(rewards) if rewards else None,
        positive=_share(rewards, lambda r: r > 0),
        zero=_share(rewards, lambda r: r == 0),
        negative=_share(rewards, lambda r: r < 0),
        relative=None if mean is None or not outer else mean / outer)


def loss_scales(records: Sequence[dict]) -> Dict[str, Optional[float]]:
    """Mean per iteration of each loss group's sum (:data:`GROUPS`) over ``records``;
    None for a group the run does not log."""
    sums = {g: [] for g in GROUPS}
    for rec in records:
        if 'loss' not in rec:  # an evaluation record
            continue
        total = {}
        for key, value in rec.items():
            group = term_group(key)
            if group is not None:
                total[group] = total.get(group, 0.0) + value
        for group, value in total.items():
            sums[group].append(value)
    return {g: _mean(v) for g, v in sums.items()}


def mask_areas(records: Sequence[dict]) -> Dict[str, Optional[float]]:
    """Mean share of each level's positions inside DAM's mask (``dam/mask_area/<level>``)."""
    levels = sorted(
        {k.rpartition('/')[2]
         for r in records
         for k in r if k.startswith('dam/mask_area/')})
    return {lv: _mean([r.get(f'dam/mask_area/{lv}') for r in records]) for lv in levels}


def diagnose(records: Sequence[dict], iters: Optional[int] = None, phases: int = 4) -> List[dict]:
    """The run's diagnosis per phase: ``phases`` equal spans of ``iters`` iterations.

    Args:
        records (list[dict]): the training log's records (evaluation records are skipped).
        iters (int, optional): the run's length; None: its last logged iteration.
        phases (int): how many equal spans.

    Returns:
        list[dict]: per phase ``start`` and ``end`` (iterations ``start < it <= end``),
        ``reward`` (:func:`reward_statistics` of its policy steps), ``losses``
        (:func:`loss_scales`), ``grad_norm`` (the student's, mean), ``grad_norm_magnitude``
        (the policy's magnitude gradient, mean over the policy steps) and ``mask_area``
        (:func:`mask_areas`).
    """
    train = [r for r in records if 'loss' in r]
    if not train:
        raise ValueError('the log has no training record')
    iters = iters or max(r['step'] for r in train)
    steps = policy_step_records(train)
    out = []
    for k in range(phases):
        start, end = iters * k // phases, iters * (k + 1) // phases
        span = [r for r in train if start < r['step'] <= end]
        span_steps = [s for s in steps if start < s['step'] <= end]
        out.append(
            dict(
                start=start,
                end=end,
                reward=reward_statistics(span_steps),
                losses=loss_scales(span),
                grad_norm=_mean([r.get('grad_norm') for r in span]),
                grad_norm_magnitude=_mean(
                    [s.get('policy/grad_norm_magnitude') for s in span_steps]),
                mask_area=mask_areas(span)))
    return out


def policy_change(history: Sequence[dict]) -> Optional[dict]:
    """The DAFA policy at the first and the last ``DAFAPolicyLoggerHook`` record.

    Returns:
        dict or None: ``first`` and ``last`` (each ``iter``, the mean ``apply_prob`` and
        ``magnitude`` over the ops, and the largest magnitude's ``op``); None without a
        history.
    """
    if not history:
        return None

    def at(rec: dict) -> dict:
        mags = rec['magnitude']
        top = max(mags, key=mags.get)
        return dict(
            iter=rec['iter'],
            apply_prob=statistics.fmean(rec['apply_prob'].values()),
            magnitude=statistics.fmean(mags.values()),
            top_op=top,
            top_magnitude=mags[top])

    return dict(first=at(history[0]), last=at(history[-1]))


def mean_diagnosis(runs: Sequence[List[dict]]) -> List[dict]:
    """The per-phase diagnoses of several runs (seeds) averaged field by field.

    Every run must have the same phases; a field one run lacks (None) is averaged over the
    others.
    """
    if not runs:
        return []
    if len({tuple((p['start'], p['end']) for p in r) for r in runs}) != 1:
        raise ValueError('the runs were diagnosed over different phases')

    def average(values):
        if isinstance(values[0], dict):
            return {k: average([v.get(k) for v in values]) for k in values[0]}
        return _mean(values)

    return [
        dict(
            start=phase[0]['start'],
            end=phase[0]['end'],
            **{k: average([p[k] for p in phase])
               for k in phase[0] if k not in ('start', 'end')}) for phase in zip(*runs)
    ]


def _fmt(value: Optional[float], spec: str) -> str:
    return 'n/a' if value is None else format(value, spec)


def diagnosis_table(phases: Sequence[dict]) -> List[str]:
    """A Markdown table of :func:`diagnose`'s (or :func:`mean_diagnosis`') phases: one row
    per phase, the reward's statistics, the loss groups, the gradient norms, the mask
    areas."""
    levels = sorted({lv for p in phases for lv in p['mask_area']})
    head = [
        'iterations', 'policy steps', 'reward mean', 'reward std', 'reward > 0 / = 0 / < 0',
        'reward / outer loss', 'task loss', 'base loss', 'masked loss', 'DAM terms',
        'student grad norm', 'magnitude grad norm'
    ] + [f'mask area {lv}' for lv in levels]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for p in phases:
        r, loss = p['reward'], p['losses']
        signs = ' / '.join(_fmt(r[k], '.0%') for k in ('positive', 'zero', 'negative'))
        row = [
            f"{p['start']}-{p['end']}",
            _fmt(r['steps'], '.0f'),
            _fmt(r['mean'], '.2e'),
            _fmt(r['std'], '.2e'), signs,
            _fmt(r['relative'], '.1e')
        ]
        row += [_fmt(loss[g], '.3g') for g in GROUPS]
        row += [_fmt(p['grad_norm'], '.3g'), _fmt(p['grad_norm_magnitude'], '.2e')]
        row += [_fmt(p['mask_area'].get(lv), '.0%') for lv in levels]
        lines.append('| ' + ' | '.join(row) + ' |')
    return lines
