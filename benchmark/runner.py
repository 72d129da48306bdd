"""One benchmark command: the data, the teacher, every run in turn, ``results.json``, the page.

Each run (the data, the teacher, one method with one seed) is locked by the process that
makes it, so several benchmark processes can share one ``--out``: the others skip a locked
run and reuse its result once it is written.
"""
import collections
import json
import os.path as osp
import sys
import tempfile
import time

from . import REPO_ROOT
from .locks import RunLock, claim_in_turn, held
from .machine import machine_info
from .methods import task_methods
from .planning import (data_root_of, done_jobs, dry_run, plan_jobs, plan_pretraining, plan_teacher,
                       run_lock, teacher_data_root_of)
from .pretraining import (PRETRAIN_IMG, generate_pretrain_data, pretrain_backbone,
                          pretrain_configs, pretrain_data_root)
from .process import exit_on_termination
from .progress import duration, estimate_left, headline, log_tail
from .report import write_outputs
from .run_config import load_config
from .runs import run_method, train_teacher
from .shipped import shipped_for
from .side_by_side import attach_side_by_side

SETTINGS = ('num_train', 'num_val', 'img_size', 'data_seed', 'teacher_data_seed', 'iters',
            'teacher_iters', 'eval_interval', 'seeds', 'ablation_seeds', 'warmup_iters',
            'score_thr', 'quick', 'models', 'pretrain_iters', 'pretrain_num_train',
            'pretrain_num_val')
ROW_FIELDS = ('config', 'base', 'about', 'ablation')


def print_dry_run(args, data_root: str) -> None:
    """Print what the command would do, run by run, and a count per state."""
    rows = dry_run(args, data_root)
    for name, seed, state, work_dir in rows:
        label = name if seed is None else f'{name} seed {seed}'
        print(f'{label:<36} {state:<14} {work_dir}')
    counts = collections.Counter(state.split(' ')[0] for _, _, state, _ in rows)
    print('dry run, nothing trained: ' +
          ', '.join(f'{counts[k]} {k}'
                    for k in ('done', 'shipped', 'running', 'resume', 'new', 'redo') if counts[k]))


def _generate_data(args, data_root: str, seed: int) -> None:
    """The built-in data set of the task, generator seed ``seed`` (the generator skips what
    is already there)."""
    from sokd_mmdet.datasets import generate_classification_dataset, generate_detection_dataset
    if args.task == 'classification':
        generate_classification_dataset(
            data_root,
            num_train=args.num_train,
            num_val=args.num_val,
            img_size=args.img_size,
            seed=seed,
            progress=False)
    else:
        generate_detection_dataset(
            data_root,
            num_train=args.num_train,
            num_val=args.num_val,
            img_size=(args.img_size, args.img_size),
            seed=seed,
            progress=False)


def needs_teacher(spec: dict) -> bool:
    """Whether a row's config distils from the benchmark's teacher (its model has one)."""
    return 'teacher' in load_config(osp.join(REPO_ROOT, spec['config'])).model


def teacher_free_jobs(jobs: list, table: dict) -> list:
    """The jobs whose rows need no teacher (the student alone), in their order."""
    free = {name for name in {job[0] for job in jobs} if not needs_teacher(table[name])}
    return [job for job in jobs if job[0] in free]


def _run_jobs(args,
              jobs: list,
              data_root: str,
              teacher: dict,
              pretrained: dict,
              t0: float,
              wait_deferred: bool = True) -> tuple:
    """Every job once, in turn, each under its lock; the records and the failures (with
    ``wait_deferred=False`` only those no other process holds)."""
    runs, failed, spent, left = [], [], {}, list(jobs)
    claimed = claim_in_turn(
        jobs,
        lambda job: RunLock(run_lock(args.out, *job)),
        on_wait=lambda job: print(
            f'{job[0]} seed {job[1]}: another benchmark process is '
            'training it; waiting for its result',
            flush=True),
        wait_deferred=wait_deferred)
    for k, ((name, seed), _) in enumerate(claimed, 1):
        start = time.time()
        print(
            f'[{k}/{len(jobs)}] {name} seed {seed}: '
            f'{"reading its result" if args.done_only else "training"}...',
            flush=True)
        record = run_method(args, name, seed, data_root, teacher, pretrained)
        took = time.time() - start
        if record.get('failed'):
            failed.append({k: record[k] for k in ('method', 'seed', 'log')})
            print(
                f'[{k}/{len(jobs)}] {name} seed {seed}: FAILED ({record["error"]}), see '
                f'{record["log"]}:\n{log_tail(record["log"], 15)}',
                flush=True)
        else:
            runs.append(record)
        # a resumed or reused run counts with its whole logged time
        spent.setdefault(name, []).append(record.get('cost', {}).get('run_s', took))
        left.remove((name, seed))
        eta = estimate_left(
            left, spent, lambda job: osp.isfile(
                osp.join(args.out, 'runs', job[0], f'seed{job[1]}', 'metrics.json')))
        status = 'reused' if record.get('cached') else f'{took:.0f} s'
        if not record.get('failed'):
            print(
                f'[{k}/{len(jobs)}] {name} seed {seed}: {headline(record["metrics"])} '
                f'({status}), elapsed {duration(time.time() - t0)}, ETA {duration(eta)}',
                flush=True)
    return runs, failed


def prepare_teacher(args, data_root: str, while_waiting=None) -> tuple:
    """What every run of the benchmark needs, each made once per key or reused: the data,
    the pretrained backbones (detection) and the teacher.

    ``while_waiting(pretrained)``: work to do when another process is making the teacher
    or the teacher's backbone, called once each time with the backbones made so far (the
    student's is made first).

    Returns:
        tuple: ``(pretrained, teacher)``: the backbones' records by role (empty for
        classification) and the teacher's, as :func:`.training.train_once` returns them.
    """
    print(
        f'data: {args.num_train} train / {args.num_val} held-out images of '
        f'{args.img_size} px -> {data_root}',
        flush=True)
    # another benchmark process on the same --out may be writing the same data
    with held(RunLock(osp.join(args.out, 'locks', 'data.lock')), 'data'):
        _generate_data(args, data_root, args.data_seed)
    teacher_root = teacher_data_root_of(args)
    pretrained = {}
    configs = pretrain_configs(args.task)
    with tempfile.TemporaryDirectory() as tmp:
        plans = plan_pretraining(args, tmp)
        shipped_teacher = shipped_for(
            args, plan_teacher(args, teacher_root, osp.join(tmp, 'teacher.py'), plans))
        shipped = {role: shipped_for(args, plan) for role, plan in plans.items()}
    if shipped_teacher is not None:
        configs.pop('teacher', None)  # the teacher's backbone only makes the teacher
    for label, record in [(f'{role} backbone', shipped[role])
                          for role in configs] + [('teacher', shipped_teacher)]:
        if record is not None:
            # no record written: the records folder holds what was trained (the manifest
            # is the shipped files' record)
            print(
                f'{label}: the shipped {record["checkpoint"]} ({headline(record["metrics"])}, '
                'sha256 checked)',
                flush=True)
    if any(shipped[role] is None for role in configs):
        print(
            f'pretraining data: {args.pretrain_num_train} train / {args.pretrain_num_val} '
            f'held-out images of {PRETRAIN_IMG} px -> {pretrain_data_root(args)}',
            flush=True)
        with held(RunLock(osp.join(args.out, 'locks', 'pretrain-data.lock')), 'pretrain data'):
            generate_pretrain_data(args)

    def meanwhile():
        if while_waiting is not None and (not configs or 'student' in pretrained):
            while_waiting(dict(pretrained))

    for role, config in configs.items():
        if shipped[role] is not None:
            pretrained[role] = shipped[role]
            continue
        with held(
                RunLock(run_lock(args.out, f'pretrain-{role}', None)), f'{role} backbone',
                meanwhile if role != 'student' else None):
            pretrained[role] = pretrain_backbone(args, role, config)
    if shipped_teacher is not None:
        return pretrained, shipped_teacher
    if teacher_root != data_root:
        # the students train on another draw (the tuning draw) than the teacher's
        print(
            f'teacher data: generator seed {args.teacher_data_seed} -> {teacher_root}', flush=True)
        with held(RunLock(osp.join(args.out, 'locks', 'data.lock')), 'data'):
            _generate_data(args, teacher_root, args.teacher_data_seed)
    with held(RunLock(run_lock(args.out, 'teacher', None)), 'teacher', meanwhile):
        teacher = train_teacher(args, teacher_root, pretrained)
    return pretrained, teacher


def run_benchmark(args, command: str) -> None:
    """Run the benchmark that ``args`` (resolved by :func:`.settings.resolve`) describes.

    Args:
        args (argparse.Namespace): the command line of ``tools/benchmark.py``, ``out``
            absolute.
        command (str): the command as typed, for the page.
    """
    if args.report_only:
        with open(osp.join(args.out, 'results.json')) as f:
            results = json.load(f)
        # a cost.json written since the results were
        write_outputs(args, attach_side_by_side(results, args.out, args.records))
        return
    t0 = time.time()
    started = time.strftime('%Y-%m-%d %H:%M:%S %Z')
    exit_on_termination()  # `kill` of this process also ends the training it runs
    data_root = data_root_of(args)
    if args.dry_run:
        print_dry_run(args, data_root)
        return
    planned = dry_run(args, data_root) if args.done_only else None
    if args.done_only and any(
            seed is None and state not in ('done', 'recorded', 'shipped', 'not needed')
            for _, seed, state, _ in planned):
        sys.exit('benchmark --done-only: the teacher or a pretrained backbone is not trained '
                 'yet; nothing to report')
    table = task_methods(args.task)
    jobs = plan_jobs(args.methods, args.seeds, table, args.ablation_seeds)
    early = dict(runs=[], failed=[])

    def early_done():
        return [(r['method'], r['seed']) for r in early['runs'] + early['failed']]

    def teacher_free_first(pretrained):
        """While another process makes the teacher: the runs that need none (once their
        backbone is there), those no other process holds."""
        todo = [j for j in teacher_free_jobs(jobs, table) if j not in early_done()]
        if todo:
            print(
                f'while another benchmark process makes the teacher: {len(todo)} run(s) '
                'that need none',
                flush=True)
            runs, failed = _run_jobs(args, todo, data_root, None, pretrained, t0, False)
            early['runs'] += runs
            early['failed'] += failed

    pretrained, teacher = prepare_teacher(args, data_root,
                                          None if args.done_only else teacher_free_first)
    not_run = []
    if args.done_only:
        jobs, not_run = done_jobs(planned, jobs)
        args.methods = [m for m in args.methods if any(job[0] == m for job in jobs)]
    runs, failed = _run_jobs(args, [j for j in jobs if j not in early_done()], data_root, teacher,
                             pretrained, t0)
    runs, failed = early['runs'] + runs, early['failed'] + failed

    machine = dict(machine_info(), started=started, finished=time.strftime('%Y-%m-%d %H:%M:%S %Z'))
    settings = {k: getattr(args, k) for k in SETTINGS}
    # what the page says of each row; the config names everything the row changes
    rows = {n: {k: table[n].get(k) for k in ROW_FIELDS} for n in args.methods}
    results = dict(
        schema=1,
        task=args.task,
        command=command,
        machine=machine,
        settings=settings,
        methods=rows,
        teacher=teacher,
        pretrained=pretrained,
        runs=runs,
        failed=failed,
        not_run=not_run,
        total_wall_s=time.time() - t0)
    # the rows' cost measured side by side (tools/benchmark_cost.py --out <out>/cost.json)
    write_outputs(args, attach_side_by_side(results, args.out, args.records))
    print(f'benchmark finished in {duration(time.time() - t0)}', flush=True)
    if failed:
        sys.exit(f'benchmark: {len(failed)} run(s) failed: ' +
                 ', '.join(f'{f["method"]} seed {f["seed"]}' for f in failed))
