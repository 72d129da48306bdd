"""Making a run, or reusing it: the teacher (trained once per key) and each method's run.

A run that finished wrote ``metrics.json`` with its key; a planned run with the same key
reuses it (its time read again from the log), an interrupted one goes on from its last
checkpoint, anything else is trained afresh.
"""
import glob
import json
import os
import os.path as osp

from sokd_mmdet.analysis.training_log import diagnose
from .archive import load_record, recorded, save_record
from .planning import plan_run, plan_teacher
from .scalars import parse_run, read_scalars
from .training import run_segments, start_or_resume, train, train_once, training_cost


def train_teacher(args, data_root: str, pretrained: dict = None) -> dict:
    """Train the teacher once per (resolved config, data, iterations, pretrained backbone);
    reuse it after (:func:`.training.train_once`).

    Args:
        pretrained (dict, optional): the benchmark's pretrained backbones
            (:func:`.pretraining.pretrain_backbone` records by role).
    """
    os.makedirs(args.out, exist_ok=True)
    probe = osp.join(args.out, 'teacher.py')
    plan = plan_teacher(args, data_root, probe, pretrained)
    return train_once('teacher', plan, probe, args.teacher_iters, args.warmup_iters, args.task,
                      args.records, args.done_only)


def _policy_history(work_dir: str):
    """The DAFA policy the run logged (``policy_history.json``), or None without DAFA."""
    history = osp.join(work_dir, 'policy_history.json')
    if not osp.isfile(history):
        return None
    with open(history) as f:
        return [{k: h[k] for k in ('iter', 'apply_prob', 'magnitude')} for h in json.load(f)]


def _diagnosis(records: list, history, iters: int):
    """The run's per-quarter diagnosis (:func:`sokd_mmdet.analysis.training_log.diagnose`)
    for a run with a policy search (``history``), else None."""
    return diagnose(records, iters) if history else None


def run_method(args,
               name: str,
               seed: int,
               data_root: str,
               teacher: dict,
               pretrained: dict = None) -> dict:
    """Train (or reuse) one method with one seed; its record for ``results.json``.

    ``teacher``: the teacher's record (None for a run without one); ``pretrained``: the
    benchmark's pretrained backbones' records by role (detection), or None.

    Returns:
        dict: the record (``cached`` says whether it was reused), or ``failed=True`` with
        the ``log`` and the ``error`` of a run that did not finish.
    """
    work_dir = osp.join(args.out, 'runs', name, f'seed{seed}')
    os.makedirs(osp.dirname(work_dir), exist_ok=True)
    # beside the work dir: the Runner writes the resolved config into the work dir
    cfg_file = osp.join(osp.dirname(work_dir), f'seed{seed}.py')
    plan = plan_run(args, name, seed, data_root, teacher, cfg_file, pretrained)
    options, key = plan['options'], plan['key']
    summary_file = osp.join(work_dir, 'metrics.json')
    record = recorded(summary_file, key)
    if record is not None:
        # timed (and diagnosed) again from the log, in case --warmup-iters changed
        records = read_scalars(work_dir)
        parsed = parse_run(records, args.iters, args.eval_interval, args.warmup_iters, args.task)
        record['cost'].update(parsed['cost'])
        record['diagnosis'] = _diagnosis(records, record.get('policy_history'), args.iters)
        save_record(args.records, name, seed, record)
        return dict(record, cached=True)
    archived = load_record(args.records, name, seed, key)
    if archived is not None:
        # made on another machine (or before its work dir was lost): its committed record
        return dict(archived, cached=True, archived=True)
    # an outdated run starts afresh; an interrupted one goes on from its last checkpoint
    resume = start_or_resume(work_dir, key,
                             lambda n: n == args.iters or n % args.eval_interval == 0)
    log = osp.join(work_dir, 'train.log')
    run = train(cfg_file, work_dir, options, log, resume)
    run.update(run_segments(work_dir, run))
    try:
        if run['returncode'] != 0:
            raise RuntimeError(f'exit code {run["returncode"]}')
        records = read_scalars(work_dir)
        parsed = parse_run(records, args.iters, args.eval_interval, args.warmup_iters, args.task)
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
        cost=training_cost(parsed, run))
    record['diagnosis'] = _diagnosis(records, record['policy_history'], args.iters)
    with open(summary_file, 'w') as f:
        json.dump(record, f, indent=1)
    save_record(args.records, name, seed, record)
    if args.drop_checkpoints:
        for ckpt in glob.glob(osp.join(work_dir, 'iter_*.pth')):
            os.remove(ckpt)
    return dict(record, cached=False)
