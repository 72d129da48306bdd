"""Making a run, or reusing it: the teacher (trained once per key) and each method's run.

A run that finished wrote ``metrics.json`` with its key; a planned run with the same key
reuses it (its time read again from the log), an interrupted one goes on from its last
checkpoint, anything else is trained afresh.
"""
import glob
import json
import os
import os.path as osp
import shutil
import sys

from .planning import plan_run, plan_teacher, recorded
from .progress import headline, log_tail
from .scalars import parse_run, read_scalars
from .training import run_segments, start_or_resume, train


def _cost(parsed: dict, run: dict) -> dict:
    """The logged cost of a run and its processes' wall time, peak RSS and load."""
    return dict(
        parsed['cost'],
        wall_s=run['wall_s'],
        peak_rss_mib=run['peak_rss_mib'],
        segments=run['segments'],
        load5=run['load5'])


def train_teacher(args, data_root: str) -> dict:
    """Train the teacher once per (resolved config, data, iterations); reuse it after.

    Exits the benchmark if the teacher fails: no run can go on without it.
    """
    os.makedirs(args.out, exist_ok=True)
    probe = osp.join(args.out, 'teacher.py')
    n = args.teacher_iters
    plan = plan_teacher(args, data_root, probe)
    teacher_cfg, options, key = plan['config'], plan['options'], plan['key']
    work_dir, ckpt = plan['work_dir'], plan['checkpoint']
    summary_file = osp.join(work_dir, 'metrics.json')
    if osp.isfile(ckpt) and osp.isfile(summary_file):
        os.remove(probe)
        with open(summary_file) as f:
            result = json.load(f)
        # timed again from the log (the run's time is defined on the log, see parse_run)
        result['cost'].update(
            parse_run(read_scalars(work_dir), n, n, args.warmup_iters, args.task)['cost'])
        print(f'teacher: reusing {ckpt} ({headline(result["metrics"])})', flush=True)
        return dict(result, cached=True)
    resume = start_or_resume(work_dir, key)
    # beside the work dir: the Runner writes the resolved config into the work dir
    cfg_file = osp.join(args.out, f'teacher-{key}.py')
    shutil.move(probe, cfg_file)
    print(
        f'teacher: {"resuming" if resume else "training"} {teacher_cfg} for {n} iterations '
        f'-> {work_dir}',
        flush=True)
    log = osp.join(work_dir, 'train.log')
    run = train(cfg_file, work_dir, options, log, resume)
    run.update(run_segments(work_dir, run))
    if run['returncode'] != 0 or not osp.isfile(ckpt):
        sys.exit(f'benchmark: the teacher failed (exit code {run["returncode"]}); see '
                 f'{log}:\n{log_tail(log)}')
    parsed = parse_run(read_scalars(work_dir), n, n, args.warmup_iters, args.task)
    result = dict(
        config=teacher_cfg,
        work_dir=work_dir,
        checkpoint=ckpt,
        key=key,
        metrics=parsed['metrics'],
        cost=_cost(parsed, run))
    with open(summary_file, 'w') as f:
        json.dump(result, f, indent=1)
    print(f'teacher: {headline(result["metrics"])} in {parsed["cost"]["run_s"]:.0f} s', flush=True)
    return dict(result, cached=False)


def _policy_history(work_dir: str):
    """The DAFA policy the run logged (``policy_history.json``), or None without DAFA."""
    history = osp.join(work_dir, 'policy_history.json')
    if not osp.isfile(history):
        return None
    with open(history) as f:
        return [{k: h[k] for k in ('iter', 'apply_prob', 'magnitude')} for h in json.load(f)]


def run_method(args, name: str, seed: int, data_root: str, teacher_ckpt: str) -> dict:
    """Train (or reuse) one method with one seed; its record for ``results.json``.

    Returns:
        dict: the record (``cached`` says whether it was reused), or ``failed=True`` with
        the ``log`` and the ``error`` of a run that did not finish.
    """
    work_dir = osp.join(args.out, 'runs', name, f'seed{seed}')
    os.makedirs(osp.dirname(work_dir), exist_ok=True)
    # beside the work dir: the Runner writes the resolved config into the work dir
    cfg_file = osp.join(osp.dirname(work_dir), f'seed{seed}.py')
    plan = plan_run(args, name, seed, data_root, teacher_ckpt, cfg_file)
    options, key = plan['options'], plan['key']
    summary_file = osp.join(work_dir, 'metrics.json')
    record = recorded(summary_file, key)
    if record is not None:
        # timed again from the log, in case --warmup-iters changed
        parsed = parse_run(
            read_scalars(work_dir), args.iters, args.eval_interval, args.warmup_iters, args.task)
        record['cost'].update(parsed['cost'])
        return dict(record, cached=True)
    # an outdated run starts afresh; an interrupted one goes on from its last checkpoint
    resume = start_or_resume(work_dir, key)
    log = osp.join(work_dir, 'train.log')
    run = train(cfg_file, work_dir, options, log, resume)
    run.update(run_segments(work_dir, run))
    try:
        if run['returncode'] != 0:
            raise RuntimeError(f'exit code {run["returncode"]}')
        parsed = parse_run(
            read_scalars(work_dir), args.iters, args.eval_interval, args.warmup_iters, args.task)
    except (RuntimeError, ValueError, FileNotFoundError) as err:
        return dict(method=name, seed=seed, failed=True, log=log, error=str(err))
    record = dict(
        method=name,
        seed=seed,
        key=key,
        work_dir=work_dir,
        config=cfg_file,
        metrics=parsed['metrics'],
        curve=parsed['curve'],
        no_detections=parsed['no_detections'],
        policy_history=_policy_history(work_dir),
        cost=_cost(parsed, run))
    with open(summary_file, 'w') as f:
        json.dump(record, f, indent=1)
    if args.drop_checkpoints:
        for ckpt in glob.glob(osp.join(work_dir, 'iter_*.pth')):
            os.remove(ckpt)
    return dict(record, cached=False)
