"""What a run's log says (benchmark/scalars.py): curves, final metrics, times, resumed logs."""
import pytest

from benchmark.scalars import merge_segments, parse_run


def test_classification_runs_are_parsed_for_top1():
    records = [
        dict(step=i, loss=1.0, time=0.5 if i != 3 else 9.0, data_time=0.01) for i in range(1, 5)
    ]
    records.insert(2, {'accuracy/top1': 40.0, 'step': 2})
    records.append({'accuracy/top1': 55.0, 'step': 4})
    parsed = parse_run(records, iters=4, eval_interval=2, warmup=0, task='classification')
    assert parsed['metrics'] == {'top1': 55.0}
    assert [p['iter'] for p in parsed['curve']] == [2, 4]
    assert [p['top1'] for p in parsed['curve']] == [40.0, 55.0]
    # iteration 3 follows an evaluation: its time (with the evaluation) is left out
    assert parsed['cost']['iter_time_s'] == pytest.approx(0.5)
    assert parsed['cost']['iters_timed'] == 3
    # the run's time has every iteration, the evaluation-timing one too
    assert parsed['cost']['run_s'] == pytest.approx(0.5 * 3 + 9.0)


def test_detection_runs_are_parsed_for_coco_metrics():
    records = [
        dict(step=1, loss=1.0, time=1.0),
        dict(step=2, loss=1.0, time=2.0), {
            'coco/bbox_mAP': 0.25,
            'coco/bbox_mAP_50': 0.5,
            'coco/bbox_mAP_l': -1.0,
            'step': 2
        },
        dict(step=3, loss=1.0, time=7.0),
        dict(step=4, loss=1.0, time=3.0), {
            'step': 4
        }
    ]  # no box above the score threshold: CocoMetric reports nothing
    parsed = parse_run(records, iters=4, eval_interval=2, warmup=1)
    first, last = parsed['curve']
    assert first['iter'] == 2 and first['AP'] == 0.25 and first['AP50'] == 0.5
    assert first['APl'] is None and not first['no_detections']  # COCO's -1: no objects
    assert last['iter'] == 4 and last['no_detections'] and parsed['no_detections']
    assert parsed['metrics'] == dict(AP=0.0, AP50=0.0, AP75=0.0, APs=None, APm=None, APl=None)
    # iteration 1 is warm-up and 3 follows an evaluation: 2 and 4 are timed
    assert parsed['cost']['iter_time_s'] == pytest.approx(2.5)
    assert parsed['cost']['iters_timed'] == 2 and parsed['cost']['run_s'] == 13.0
    with pytest.raises(ValueError, match='no evaluation at iteration 6'):
        parse_run(records, iters=6, eval_interval=2, warmup=1)


def test_the_logs_of_a_resumed_run_merge_and_count_each_iteration_once():
    # segment 1 logged up to step 4 but checkpointed at 2; segment 2 re-runs 3 and 4
    seg1 = [
        dict(step=1, loss=1.0),
        dict(step=2, loss=0.9), {
            'step': 2,
            'accuracy/top1': 10.0
        },
        dict(step=3, loss=5.0),
        dict(step=4, loss=5.0)
    ]
    seg2 = [dict(step=3, loss=0.8), dict(step=4, loss=0.7), {'step': 4, 'accuracy/top1': 30.0}]
    merged = merge_segments([seg1, seg2])
    assert [(r['step'], r.get('loss')) for r in merged] == [(1, 1.0), (2, 0.9), (2, None),
                                                            (3, 0.8), (4, 0.7), (4, None)]
    # the resumed run's time counts each iteration once: not segment 1's lost steps 3 and 4
    for r in seg1 + seg2:
        if 'loss' in r:
            r['time'] = 10.0 if r['loss'] == 5.0 else 1.0
    parsed = parse_run(
        merge_segments([seg1, seg2]), iters=4, eval_interval=2, warmup=0, task='classification')
    assert parsed['cost']['run_s'] == pytest.approx(4.0)
