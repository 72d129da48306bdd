"""The page's diagnosis section: what each SoKD row's policy search and DAM did, from the
training logs (:mod:`sokd_mmdet.analysis.training_log`), mean over the row's seeds."""
from typing import List

from sokd_mmdet.analysis.training_log import diagnosis_table, policy_change

INTRO = (
    "Read from each run's training log (logged every iteration), in quarters of the run, mean "
    "over the row's seeds: RELAX's reward (the outer loss after the virtual step on the "
    "draw's knowledge minus the baseline: with the default `reward_baseline="
    "'unaugmented_step'`, the same after a virtual step on the un-augmented knowledge; "
    "positive: the augmented draw left the student's outer loss higher, which pushes the "
    "apply probabilities down; exactly 0: a draw that applied no op), the loss groups' sums "
    "per iteration as logged (weights applied; task: the student's detection losses, base: the "
    "whole-map base loss, masked: the base loss inside DAM's areas, DAM terms: its heads' "
    "alignment and ground-truth losses), the student's gradient norm (before clipping), the "
    "norm of the policy's magnitude gradient, and the share of each level inside DAM's mask. "
    'The same table for any run: `python tools/analysis_tools/sokd_diagnosis.py WORK_DIR`.')


def _signs_sentence(phase: dict) -> str:
    r = phase['reward']
    if not r['steps'] or r['positive'] is None:
        return ''
    push = ('down' if r['mean'] > 0 else 'up') if r['mean'] else 'nowhere'
    return (f"In iterations {phase['start']}-{phase['end']} {r['positive']:.0%} of the policy "
            f"steps had a positive reward and {r['negative']:.0%} a negative one (mean "
            f"{r['mean']:.2e}, {r['relative']:.1e} of the outer loss): on average the reward "
            f'pushes the apply probabilities {push}. (The policy optimiser\'s weight decay '
            'pushes them down whatever the reward: [sokd_tuning.md]'
            '(sokd_tuning.md#why-the-apply-probabilities-fall).)')


def diagnosis_lines(summary: dict) -> List[str]:
    """The section's Markdown lines; empty without a diagnosed row."""
    rows = [m for m in summary['methods'] if m.get('diagnosis')]
    if not rows:
        return []
    out = ['## What the policy search and DAM did (diagnosis)', '', INTRO, '']
    for m in rows:
        seeds = len(m.get('diagnosed_seeds') or m['seeds'])
        out += [f"### {m['name']} ({seeds} seed{'s' if seeds != 1 else ''})", '']
        out += diagnosis_table(m['diagnosis']) + ['']
        change = policy_change(m.get('policy') or [])
        if change:
            first, last = change['first'], change['last']
            out.append(
                f"DAFA policy (mean over the ops): apply probability {first['apply_prob']:.3f} "
                f"at iteration {first['iter']}, {last['apply_prob']:.3f} at {last['iter']}; "
                f"magnitude {first['magnitude']:.3f} -> {last['magnitude']:.3f} (largest at "
                f"the end: {last['top_op']} {last['top_magnitude']:.3f}). " +
                _signs_sentence(m['diagnosis'][0]))
            out.append('')
    return out
