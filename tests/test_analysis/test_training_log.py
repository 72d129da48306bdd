"""The training-log diagnosis: policy steps, reward statistics, loss groups, phases."""
import pytest

from sokd_mmdet.analysis.training_log import (diagnose, diagnosis_table, loss_scales,
                                              mean_diagnosis, policy_change, policy_step_records,
                                              reward_statistics, term_group)


def _record(step, reward, outer, **extra):
    rec = {
        'step': step,
        'loss': 1.0,
        'student.loss_cls': 0.5,
        'student.loss_bbox': 0.25,
        'distill.loss_fpn0': 2.0,
        'distill.loss_fpn0_masked': 1.0,
        'distill.loss_fpn0_align': 0.125,
        'distill.loss_fpn0_dam_gt_heatmap': 0.375,
        'grad_norm': float(step),
        'dam/mask_area/fpn0': 0.25,
        'policy/reward': reward,
        'policy/outer_after': outer,
        'policy/grad_norm_magnitude': 0.5,
    }
    rec.update(extra)
    return rec


def _log():
    """8 iterations, a policy step every 2nd (1, 3, 5, 7; the value repeats in between),
    an evaluation record after iteration 4."""
    rewards = {1: 0.5, 3: 0.0, 5: -0.25, 7: 0.25}
    outers = {1: 10.0, 3: 10.0, 5: 5.0, 7: 5.0}
    recs = []
    for it in range(1, 9):
        src = it if it in rewards else it - 1
        recs.append(_record(it, rewards[src], outers[src]))
        if it == 4:
            recs.append({'step': 4, 'coco/bbox_mAP': 0.1})
    return recs


def test_term_group_names_every_logged_loss():
    assert term_group('student.loss_cls') == 'task'
    assert term_group('distill.loss_fpn2') == 'base'
    assert term_group('distill.loss_fpn2_masked') == 'masked'
    assert term_group('distill.loss_fpn2_align') == 'dam'
    assert term_group('distill.loss_fpn2_dam_gt_wh') == 'dam'
    assert term_group('grad_norm') is None
    assert term_group('loss') is None


def test_policy_step_records_keep_one_record_per_step():
    steps = policy_step_records(_log())
    assert [s['step'] for s in steps] == [1, 3, 5, 7]


def test_policy_step_records_keep_equal_rewards_of_different_steps():
    recs = [_record(1, 0.0, 3.0), _record(2, 0.0, 3.0), _record(3, 0.0, 4.0)]
    assert [s['step'] for s in policy_step_records(recs)] == [1, 3]


def test_reward_statistics():
    stats = reward_statistics(policy_step_records(_log()))
    assert stats['steps'] == 4
    assert stats['mean'] == pytest.approx(0.125)
    # population std of (0.5, 0, -0.25, 0.25) around 0.125
    assert stats['std'] == pytest.approx((0.140625 + 0.015625 + 0.140625 + 0.015625)**0.5 / 2)
    assert (stats['positive'], stats['zero'], stats['negative']) == (0.5, 0.25, 0.25)
    assert stats['relative'] == pytest.approx(0.125 / 7.5)
    empty = reward_statistics([])
    assert empty['steps'] == 0 and empty['mean'] is None and empty['positive'] is None


def test_loss_scales_sum_each_group_and_skip_evaluations():
    scales = loss_scales(_log())
    assert scales == {'task': 0.75, 'base': 2.0, 'masked': 1.0, 'dam': 0.5}
    assert loss_scales([{'step': 1, 'loss': 1.0, 'student.loss_cls': 0.5}])['base'] is None


def test_diagnose_splits_the_run_into_phases():
    phases = diagnose(_log(), iters=8, phases=2)
    assert [(p['start'], p['end']) for p in phases] == [(0, 4), (4, 8)]
    first, second = phases
    assert first['reward']['steps'] == 2 and first['reward']['mean'] == pytest.approx(0.25)
    assert second['reward']['mean'] == pytest.approx(0.0)
    assert first['grad_norm'] == pytest.approx(2.5)  # iterations 1-4
    assert second['grad_norm'] == pytest.approx(6.5)
    assert first['mask_area'] == {'fpn0': 0.25}
    assert first['grad_norm_magnitude'] == 0.5
    # without iters: up to the last logged iteration
    assert diagnose(_log(), phases=2)[1]['end'] == 8
    with pytest.raises(ValueError, match='no training record'):
        diagnose([{'step': 4, 'coco/bbox_mAP': 0.1}])


def test_mean_diagnosis_averages_seeds_field_by_field():
    a = diagnose(_log(), iters=8, phases=2)
    b = diagnose([dict(r, grad_norm=0.0) if 'loss' in r else r for r in _log()], 8, 2)
    mean = mean_diagnosis([a, b])
    assert mean[0]['grad_norm'] == pytest.approx(1.25)
    assert mean[0]['reward']['mean'] == pytest.approx(0.25)
    assert mean[1]['losses']['dam'] == pytest.approx(0.5)
    with pytest.raises(ValueError, match='different phases'):
        mean_diagnosis([a, diagnose(_log(), iters=8, phases=4)])
    assert mean_diagnosis([]) == []


def test_diagnosis_table_has_a_row_per_phase():
    lines = diagnosis_table(diagnose(_log(), iters=8, phases=2))
    assert len(lines) == 4
    assert lines[0].count('|') == lines[2].count('|') == 14  # 13 columns: one mask level
    assert '| 0-4 | 2 | 2.50e-01 |' in lines[2]
    assert '50% / 50% / 0%' in lines[2] and '50% / 0% / 50%' in lines[3]


def test_policy_change_first_and_last():
    history = [
        {
            'iter': 10,
            'apply_prob': {
                'A': 0.1,
                'B': 0.3
            },
            'magnitude': {
                'A': 0.2,
                'B': 0.4
            }
        },
        {
            'iter': 20,
            'apply_prob': {
                'A': 0.0,
                'B': 0.1
            },
            'magnitude': {
                'A': 0.5,
                'B': 0.1
            }
        },
    ]
    change = policy_change(history)
    assert change['first'] == dict(
        iter=10,
        apply_prob=pytest.approx(0.2),
        magnitude=pytest.approx(0.3),
        top_op='B',
        top_magnitude=0.4)
    assert change['last']['apply_prob'] == pytest.approx(0.05)
    assert change['last']['top_op'] == 'A'
    assert policy_change([]) is None
