"""The benchmark page's diagnosis section, from the runs' training-log diagnoses."""
import pytest

from benchmark.diagnosis_section import diagnosis_lines
from benchmark.summary import summarise
from sokd_mmdet.analysis.training_log import diagnose


def _log(reward):
    """4 iterations, a policy step at each; ``reward`` at the first two, 0 after."""
    return [{
        'step': it,
        'loss': 1.0,
        'student.loss_cls': 1.0,
        'distill.loss_fpn0': 2.0,
        'grad_norm': 3.0,
        'dam/mask_area/fpn0': 0.5,
        'policy/reward': reward if it <= 2 else 0.0,
        'policy/outer_after': 10.0 + it,
        'policy/grad_norm_magnitude': 0.1
    } for it in range(1, 5)]


def _results(rewards):
    history = [{
        'iter': 2,
        'apply_prob': {
            'A': 0.1
        },
        'magnitude': {
            'A': 0.1
        }
    }, {
        'iter': 4,
        'apply_prob': {
            'A': 0.04
        },
        'magnitude': {
            'A': 0.01
        }
    }]
    runs = [
        dict(
            method='sokd_cwd',
            seed=s,
            metrics={'AP': 0.2},
            curve=[],
            cost={},
            policy_history=history,
            diagnosis=diagnose(_log(r), 4, phases=2)) for s, r in enumerate(rewards)
    ]
    runs.append(
        dict(
            method='cwd',
            seed=0,
            metrics={'AP': 0.2},
            curve=[],
            cost={},
            policy_history=None,
            diagnosis=None))
    return dict(methods={'cwd': {}, 'sokd_cwd': {'base': 'cwd'}}, runs=runs)


def test_the_section_averages_the_seeds_and_reads_the_signs():
    summary = summarise(_results([0.25, 0.75]))
    sokd = [m for m in summary['methods'] if m['name'] == 'sokd_cwd'][0]
    assert sokd['diagnosed_seeds'] == [0, 1]
    assert sokd['diagnosis'][0]['reward']['mean'] == pytest.approx(0.5)
    lines = diagnosis_lines(summary)
    assert lines[0] == '## What the policy search and DAM did (diagnosis)'
    assert '### sokd_cwd (2 seeds)' in lines
    assert not any(line.startswith('### cwd') for line in lines)  # no policy search: no table
    text = '\n'.join(lines)
    assert '| 0-2 | 2 | 5.00e-01 |' in text and '| 2-4 | 2 | 0.00e+00 |' in text
    assert 'apply probability 0.100 at iteration 2, 0.040 at 4' in text
    assert ('In iterations 0-2 100% of the policy steps had a positive reward and 0% a '
            'negative one') in text
    assert 'pushes the apply probabilities down' in text
    assert "weight decay pushes them down whatever the reward" in text


def test_a_negative_mean_reward_pushes_up_and_no_diagnosis_writes_nothing():
    text = '\n'.join(diagnosis_lines(summarise(_results([-0.5]))))
    assert 'pushes the apply probabilities up' in text and '(1 seed)' in text
    results = _results([0.5])
    for run in results['runs']:
        run['diagnosis'] = None
    assert diagnosis_lines(summarise(results)) == []
