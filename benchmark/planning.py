"""What a benchmark command runs: its jobs, each run's config, options, key and work dir.

Planning writes only the per-run config it is given a path for and trains nothing, so the
dry run (:func:`dry_run`) and the real run compute the same keys.
"""
import os.path as osp
import tempfile
from typing import List, Optional

from .archive import load_record, once_name, recorded
from .locks import locked_elsewhere
from .methods import task_methods, teacher_config
from .options import common_options
from .pretraining import backbone_options, plan_pretrain, pretrain_configs
from .run_config import write_run_config
from .run_key import run_key, semantic_text, weighed_options, weights_digest
from .shipped import shipped_for
from .training import once_plan


def plan_jobs(methods: list, seeds: list, table: dict, ablation_seeds: int) -> list:
    """``(method, seed)`` in running order: the main rows seed by seed, then the ablations.

    Ablation rows (``ablation=True`` in ``table``) run on the first ``ablation_seeds`` seeds;
    the main rows come first, so that the table's core is complete as early as possible.
    """
    main = [m for m in methods if not table[m].get('ablation')]
    extra = [m for m in methods if table[m].get('ablation')]
    return ([(m, s) for s in seeds for m in main] + [(m, s) for s in seeds[:ablation_seeds]
                                                     for m in extra])


def data_root_of(args, seed: Optional[int] = None) -> str:
    """The built-in data set's folder under ``--out``: one per task, size and generator seed
    (``seed``, default ``--data-seed``)."""
    cls = args.task == 'classification'
    seed = args.data_seed if seed is None else seed
    return osp.join(
        args.out, 'data', f'shapes{"_cls" if cls else ""}-{args.num_train}-'
        f'{args.num_val}-{args.img_size}px-seed{seed}')


def teacher_data_root_of(args) -> str:
    """The data the teacher trains on: the setting's own draw (``--teacher-data-seed``)
    whatever draw the students train on, so that the tuning draw's students learn from the
    table's teacher (and its shipped weights serve both)."""
    return data_root_of(args, args.teacher_data_seed)


def plan_pretraining(args, tmp: str) -> dict:
    """``{role: plan}`` of the backbones' pretraining (:func:`.pretraining.plan_pretrain`),
    its per-run configs written under ``tmp``; empty for a task without it."""
    return {
        role: plan_pretrain(args, role, config, osp.join(tmp, f'pretrain-{role}.py'))
        for role, config in pretrain_configs(args.task).items()
    }


def plan_teacher(args, data_root: str, probe: str, pretrained: Optional[dict] = None) -> dict:
    """The teacher's config (written to ``probe``), options, key, work dir and checkpoint.

    The work dir carries the key (``teacher-<key>``): a teacher of another config, data,
    length or pretrained backbone is another teacher, and each one is trained once.
    ``pretrained``: ``{role: {'checkpoint': ...}}`` of the benchmark's backbones.
    """
    n = args.teacher_iters
    teacher_cfg = teacher_config(args.task)
    cfg, text = write_run_config(probe, teacher_cfg, n, 1)
    # evaluated once, at its end; one teacher (seed 0) for every seed of the students; sized
    # as the teacher of --models
    options = common_options(data_root, args.img_size, n, n, 0, args.score_thr, cfg, args.task,
                             args.models, 'teacher')
    options += backbone_options(cfg.model, pretrained or {}, 'teacher')
    return once_plan(args.out, 'teacher', teacher_cfg, text, options, n)


def plan_run(args,
             name: str,
             seed: int,
             data_root: str,
             teacher: Optional[dict],
             cfg_file: str,
             pretrained: Optional[dict] = None) -> dict:
    """One method's run with one seed: its config (written to ``cfg_file``), options, key.

    ``teacher`` and ``pretrained`` (``{role: ...}``, the benchmark's backbones): the records
    (or plans) of the weights the run starts from, each with its ``checkpoint`` and, where
    known, its ``sha256``; the key names them by their contents
    (:func:`.run_key.weighed_options`). ``teacher`` None: a run without one.
    """
    spec = task_methods(args.task)[name]
    policy_interval = max(1, min(20, args.iters // 15))
    cfg, text = write_run_config(cfg_file, spec['config'], args.iters, policy_interval)
    options = common_options(data_root, args.img_size, args.iters, args.eval_interval, seed,
                             args.score_thr, cfg, args.task, args.models)
    options += backbone_options(cfg.model, pretrained or {}, 'student')
    if 'teacher' in cfg.model:
        options.append(f'model.teacher_ckpt={(teacher or {}).get("checkpoint")}')
    weights = [teacher] + list((pretrained or {}).values())
    digests = {w['checkpoint']: weights_digest(w) for w in weights if w}
    return dict(
        options=options,
        key=run_key(semantic_text(text), weighed_options(options, digests)),
        work_dir=osp.join(args.out, 'runs', name, f'seed{seed}'))


def run_lock(out: str, name: str, seed: Optional[int]) -> str:
    """The lock file of the teacher or a backbone's pretraining (``seed`` None, ``name``
    ``'teacher'`` or ``'pretrain-<role>'``) or of one method's run with one seed."""
    return osp.join(out, 'locks', f'{name}.lock') if seed is None else \
        osp.join(out, 'runs', name, f'seed{seed}.lock')


def run_state(work_dir: str, key: str, done: bool, running: bool = False) -> str:
    """What running a planned run would do: ``done``, ``running`` (another process holds
    its lock: this one would wait for its result), ``resume at N``, ``new``, ``redo``;
    :func:`dry_run` adds ``recorded`` for a teacher or backbone known only by its committed
    record (:mod:`.archive`)."""
    if done:
        return 'done'
    if running:
        return 'running'
    key_file, last = osp.join(work_dir, 'run_key.txt'), osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(key_file) and osp.isfile(last):
        with open(key_file) as f:
            if f.read().strip() == key:
                with open(last) as f:
                    ckpt = osp.basename(f.read().strip())
                return f'resume at {ckpt[len("iter_"):-len(".pth")]}' \
                    if ckpt.startswith('iter_') else 'resume'
    return 'redo' if osp.isdir(work_dir) else 'new'


def dry_run(args, data_root: str) -> List[tuple]:
    """What the command would do, run by run, without training or writing under ``--out``.

    Returns:
        list: ``(name, seed, state, work_dir)`` for the backbones' pretraining
        (``pretrain-<role>``, seed None), the teacher (seed None) and each job in running
        order; ``state`` as in :func:`run_state`, or ``shipped`` for a teacher or backbone
        that the repository ships (:mod:`.shipped`; its path in place of the work dir) and
        ``not needed`` for the teacher's backbone when the teacher is shipped. The teacher
        is always the row before the first job.
    """

    def once(name: str, plan: dict) -> tuple:
        """The row of a once-per-key run and what stands for its weights here."""
        shipped = shipped_for(args, plan)
        if shipped is not None:
            return (name, None, 'shipped', shipped['checkpoint']), shipped
        summary = osp.join(plan['work_dir'], 'metrics.json')
        done = osp.isfile(plan['checkpoint']) and osp.isfile(summary)
        running = locked_elsewhere(run_lock(args.out, name, None))
        state = run_state(plan['work_dir'], plan['key'], done, running)
        weights = dict(plan, **(recorded(summary, plan['key']) or {})) if done else plan
        archived = None if done else load_record(args.records, once_name(plan), None, plan['key'])
        if archived is not None:
            # measured elsewhere: its record serves --done-only (and names its weights'
            # digest), its checkpoint is not here
            state, weights = 'recorded', archived
        return (name, None, state, plan['work_dir']), weights

    with tempfile.TemporaryDirectory() as tmp:
        plans = plan_pretraining(args, tmp)
        teacher_plan = plan_teacher(args, teacher_data_root_of(args), osp.join(tmp, 'teacher.py'),
                                    plans)
        teacher_row, teacher = once('teacher', teacher_plan)
        rows, pretrained = [], {}
        for role, plan in plans.items():
            if role == 'teacher' and teacher_row[2] == 'shipped':
                # the teacher's backbone only makes the teacher
                rows.append((f'pretrain-{role}', None, 'not needed', plan['work_dir']))
                continue
            row, pretrained[role] = once(f'pretrain-{role}', plan)
            rows.append(row)
        rows.append(teacher_row)
        for name, seed in plan_jobs(args.methods, args.seeds, task_methods(args.task),
                                    args.ablation_seeds):
            plan = plan_run(args, name, seed, data_root, teacher,
                            osp.join(tmp, f'{name}-seed{seed}.py'), pretrained)
            done = recorded(osp.join(plan['work_dir'], 'metrics.json'),
                            plan['key']) or load_record(args.records, name, seed, plan['key'])
            running = locked_elsewhere(run_lock(args.out, name, seed))
            rows.append(
                (name, seed, run_state(plan['work_dir'], plan['key'], done is not None,
                                       running), plan['work_dir']))
    return rows


def done_jobs(rows: list, jobs: list) -> tuple:
    """``jobs`` split into those already done and the rest (``--done-only``), by the
    states of :func:`dry_run`'s ``rows``.

    Returns:
        tuple[list, list]: the done ``(name, seed)`` jobs; the others as ``{'method',
        'seed', 'state'}`` (state as in :func:`run_state`), each also printed.
    """
    states = {(name, seed): state for name, seed, state, _ in rows if seed is not None}
    done = [job for job in jobs if states[job] == 'done']
    not_run = [
        dict(method=name, seed=seed, state=states[(name, seed)]) for name, seed in jobs
        if states[(name, seed)] != 'done'
    ]
    for job in not_run:
        print(
            f'{job["method"]} seed {job["seed"]}: not done ({job["state"]}), left out '
            '(--done-only)',
            flush=True)
    return done, not_run
