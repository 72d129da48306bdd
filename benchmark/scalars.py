"""What a run's log says: the metric curve, the final metrics, the time per iteration.

A run's numbers come from MMEngine's ``scalars.json`` (LocalVisBackend, one JSON record per
line): a training record per iteration (``loss``, ``time``, ``data_time``, on a GPU
``memory``) and an evaluation record after each evaluation.
"""
import glob
import json
import os.path as osp
import statistics

COCO_KEYS = {
    'AP': 'bbox_mAP',
    'AP50': 'bbox_mAP_50',
    'AP75': 'bbox_mAP_75',
    'APs': 'bbox_mAP_s',
    'APm': 'bbox_mAP_m',
    'APl': 'bbox_mAP_l'
}
CLS_KEYS = {'top1': 'accuracy/top1'}


def read_jsonl(path: str) -> list:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def merge_segments(segments: list) -> list:
    """One record list from the logs of a run that was interrupted and resumed.

    Each resumed segment (its own timestamped folder, in time order) restarts after the last
    checkpoint, so what an earlier segment logged from that step on was trained again: the
    later segment's records replace it.
    """
    merged = []
    for records in segments:
        steps = [r['step'] for r in records if 'step' in r]
        if steps:
            first = min(steps)
            merged = [r for r in merged if r.get('step', 0) < first]
        merged.extend(records)
    return merged


def read_scalars(work_dir: str) -> list:
    """The records of the run's ``scalars.json`` files, merged over its segments."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise FileNotFoundError(f'no */vis_data/scalars.json under {work_dir}')
    return merge_segments([read_jsonl(f) for f in files])


def evaluations(records: list) -> list:
    """``(iteration, record)`` for each evaluation record of a log: an evaluation is logged
    after the training record of the iteration it evaluated (iteration 0 before any)."""
    out, last = [], 0
    for rec in records:
        if 'loss' in rec:
            last = rec['step']
        else:
            out.append((last, rec))
    return out


def evaluation_point(rec: dict, last_iter: int, task: str = 'detection') -> dict:
    """One point of the curve from an evaluation record (of ``scalars.json``, or the record
    ``tools/test.py`` logs: the same keys)."""
    point = {'iter': last_iter}
    if task == 'classification':
        point.update({n: rec.get(k) for n, k in CLS_KEYS.items()})
        return point
    for name, key in COCO_KEYS.items():
        value = rec.get(f'coco/{key}')
        point[name] = None if value is None or value < 0 else float(value)
    # CocoMetric reports nothing when no box passes the score threshold: AP 0
    point['no_detections'] = 'coco/bbox_mAP' not in rec
    if point['no_detections']:
        point.update({n: 0.0 for n in ('AP', 'AP50', 'AP75')})
    return point


def parse_run(records: list,
              iters: int,
              eval_interval: int,
              warmup: int,
              task: str = 'detection') -> dict:
    """COCO metrics per evaluation, the final ones, the time per iteration and of the run.

    The iteration after an evaluation is left out of the time per iteration: MMEngine's
    timer runs from the end of the previous iteration, so it includes the evaluation.
    ``run_s``, the run's time, sums the logged time of every iteration once (``records``
    merged over the segments of a resumed run), evaluations included through the iteration
    that follows each: an interrupted and resumed run counts like an uninterrupted one, which
    the process wall time cannot (a segment killed mid-way leaves no wall time behind, and
    what it trained after its last checkpoint is trained again). ``gpu_mem_mib``: the
    largest ``memory`` MMEngine logged (the peak of CUDA memory held by tensors, MiB, per
    logging interval); None on a CPU.

    Returns:
        dict: ``metrics`` (the final evaluation), ``curve`` (every evaluation), ``cost``
        and ``no_detections`` (the final evaluation had no box above the threshold).

    Raises:
        ValueError: the log has no evaluation at iteration ``iters`` (the run stopped early).
    """
    curve = [evaluation_point(rec, it, task) for it, rec in evaluations(records)]
    times, data_times, all_times, gpu_mib = [], [], [], []
    for rec in records:
        if 'loss' not in rec:  # an evaluation
            continue
        step = rec['step']
        all_times.append(rec['time'])
        if rec.get('memory') is not None:  # MMEngine logs it on a GPU only
            gpu_mib.append(rec['memory'])
        after_eval = step > 1 and (step - 1) % eval_interval == 0
        if step > warmup and not after_eval:
            times.append(rec['time'])
            data_times.append(rec.get('data_time', 0.0))
    if not curve or curve[-1]['iter'] != iters:
        raise ValueError(f'no evaluation at iteration {iters} in scalars.json')
    final = {k: v for k, v in curve[-1].items() if k in COCO_KEYS or k in CLS_KEYS}
    cost = dict(
        iter_time_s=statistics.fmean(times) if times else None,
        iter_time_std_s=statistics.stdev(times) if len(times) > 1 else None,
        data_time_s=statistics.fmean(data_times) if data_times else None,
        iters_timed=len(times),
        run_s=sum(all_times),
        gpu_mem_mib=max(gpu_mib) if gpu_mib else None)
    return dict(
        metrics=final, curve=curve, cost=cost, no_detections=curve[-1].get('no_detections', False))
