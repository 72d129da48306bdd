"""tools/benchmark.py's planning: run keys, the dry run, the ETA, every method's config."""
import importlib.util
import json
import os.path as osp

import pytest

from conftest import ROOT

spec = importlib.util.spec_from_file_location('benchmark_tool',
                                              osp.join(ROOT, 'tools', 'benchmark.py'))
benchmark = importlib.util.module_from_spec(spec)
spec.loader.exec_module(benchmark)

RESOLVED = ("model = dict(type='X', lr=0.1)\n"
            "train_cfg = dict(\n    max_iters=10,\n    val_interval=5)\n")


def test_private_helpers_do_not_change_the_key():
    helper = ("_paramwise = dict(\n    custom_keys=dict(m=dict(decay_mult=0.0)))\n" + RESOLVED
              + "_lr = 0.1\n")
    assert benchmark.semantic_text(helper) == RESOLVED
    assert benchmark.semantic_text(RESOLVED) is RESOLVED  # no helper: the text as it was
    # a real change still changes the text
    assert benchmark.semantic_text(RESOLVED.replace('0.1', '0.2')) != RESOLVED


def test_run_state_reads_what_a_run_left_behind(tmp_path):
    work_dir = str(tmp_path / 'run')
    assert benchmark.run_state(work_dir, 'k', done=False) == 'new'
    assert benchmark.run_state(work_dir, 'k', done=True) == 'done'
    benchmark.start_or_resume(work_dir, 'k')
    assert benchmark.run_state(work_dir, 'k', done=False) == 'redo'  # nothing to resume
    (tmp_path / 'run' / 'last_checkpoint').write_text(str(tmp_path / 'run' / 'iter_750.pth'))
    assert benchmark.run_state(work_dir, 'k', done=False) == 'resume at 750'
    assert benchmark.run_state(work_dir, 'other', done=False) == 'redo'
    # another process holds the run: this one would wait for it, whatever it left so far
    assert benchmark.run_state(work_dir, 'k', done=False, running=True) == 'running'
    assert benchmark.run_state(work_dir, 'k', done=True, running=True) == 'done'


def test_dry_run_says_what_would_be_reused_resumed_or_trained(tmp_path, capsys):
    out = tmp_path / 'bench'
    argv = ['--out', str(out), '--methods', 'student', 'cwd', '--seeds', '0', '1',
            '--iters', '40', '--teacher-iters', '60']
    args = benchmark.parse_args(argv)
    args.out = str(out)
    data_root = benchmark.data_root_of(args)
    rows = benchmark.dry_run(args, data_root)
    assert [(n, s, st) for n, s, st, _ in rows] == [
        ('teacher', None, 'new'), ('student', 0, 'new'), ('cwd', 0, 'new'),
        ('student', 1, 'new'), ('cwd', 1, 'new')]
    assert not out.exists()  # nothing written
    # student seed 0 finished, cwd seed 0 stopped at a checkpoint, student seed 1 was made
    # with another config; the keys are the ones the dry run computed
    teacher_ckpt = benchmark.plan_teacher(args, data_root, str(tmp_path / 't.py'))['checkpoint']
    assert teacher_ckpt.startswith(rows[0][3])
    keys = {}
    for name, seed, _, work_dir in rows[1:]:
        plan = benchmark.plan_run(args, name, seed, data_root, teacher_ckpt,
                                  str(tmp_path / f'{name}{seed}.py'))
        assert plan['work_dir'] == work_dir
        keys[name, seed] = plan['key']
    student0 = out / 'runs' / 'student' / 'seed0'
    student0.mkdir(parents=True)
    (student0 / 'metrics.json').write_text(json.dumps(dict(key=keys['student', 0])))
    benchmark.start_or_resume(str(out / 'runs' / 'cwd' / 'seed0'), keys['cwd', 0])
    (out / 'runs' / 'cwd' / 'seed0' / 'last_checkpoint').write_text('iter_250.pth')
    benchmark.start_or_resume(str(out / 'runs' / 'student' / 'seed1'), 'an older config')
    capsys.readouterr()
    benchmark.main(argv + ['--dry-run'])
    printed = capsys.readouterr().out
    assert [line.split()[-2] for line in printed.splitlines()[:5]] == [
        'new', 'done', '250', 'redo', 'new']
    assert printed.splitlines()[-1] == \
        'dry run, nothing trained: 1 done, 1 resume, 2 new, 1 redo'
    # --done-only keeps the finished run and names the others with their state
    jobs = benchmark.plan_jobs(args.methods, args.seeds, benchmark.METHODS, 1)
    done, not_run = benchmark.done_jobs(benchmark.dry_run(args, data_root), jobs)
    assert done == [('student', 0)]
    assert [(r['method'], r['seed'], r['state']) for r in not_run] == [
        ('cwd', 0, 'resume at 250'), ('student', 1, 'redo'), ('cwd', 1, 'new')]
    assert 'cwd seed 0: not done (resume at 250), left out' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='the teacher is not trained yet'):
        benchmark.main(argv + ['--done-only'])
    assert not (out / 'data').exists()  # refused before anything was written
    # a run another process is training (its lock held) is 'running', not 'redo' or 'new'
    from sokd_mmdet.benchmark.locks import RunLock
    with RunLock(benchmark.run_lock(str(out), 'cwd', 1)), \
            RunLock(benchmark.run_lock(str(out), 'teacher', None)):
        assert [st for _, _, st, _ in benchmark.dry_run(args, data_root)] == [
            'running', 'done', 'resume at 250', 'redo', 'running']
        benchmark.main(argv + ['--dry-run'])
        assert capsys.readouterr().out.splitlines()[-1] == \
            'dry run, nothing trained: 1 done, 2 running, 1 resume, 1 redo'
    # another student length is another run
    args.iters = 50
    assert benchmark.dry_run(args, data_root)[1][2] == 'redo'


def test_eta_counts_each_method_at_its_own_pace_and_skips_finished_runs():
    spent = dict(student=[100.0, 200.0], sokd_cwd=[600.0])
    left = [('student', 2), ('sokd_cwd', 1), ('cwd', 0), ('sokd_cwd', 2)]
    # student 150, sokd_cwd 600 each, cwd (not run yet) the mean of all runs: 300
    assert benchmark.estimate_left(left, spent, lambda job: False) == 150 + 600 + 300 + 600
    # sokd_cwd seed 2 was made by another process: nothing left to spend on it
    assert benchmark.estimate_left(left, spent, lambda job: job == ('sokd_cwd', 2)) == 1050
    assert benchmark.estimate_left(left, {}, lambda job: False) == 0.0


# what each ablation's overrides must have changed in the built model
ABLATION_EFFECT = {
    'sokd_cwd_dafa_only': lambda m, c: m.distiller.dam is None,
    'sokd_cwd_dam_only': lambda m, c: (m.distiller.dafa is None
                                       and set(c.optim_wrapper) == {'constructor', 'student'}),
    'sokd_cwd_dam_mutual': lambda m, c: m.distiller.dam.supervision == 'mutual',
    'sokd_cwd_dam_gt_heads': lambda m, c: all(
        not loss.gt_to_features for loss in m.distiller.distill_losses.values()),
    'sokd_cwd_keep_base': lambda m, c: all(
        loss.full_weight == 1.0 and loss.masked_weight == 1.0 and m.distiller.dam is not None
        for loss in m.distiller.distill_losses.values()),
    'sokd_cwd_policy_lr3e-4': lambda m, c: c.optim_wrapper.policy.optimizer.lr == 3e-4,
    'sokd_cwd_interval5': lambda m, c: m.search_interval == 5,
    'atf_cwd_frozen_teacher': lambda m, c: m.teacher_end == 0,
    'tst_sokd_cwd': lambda m, c: m.distiller.dafa is not None and m.augmenter is not None,
    'atf_cwd_head_only': lambda m, c: {n.split('.')[0] for n, p in m.teacher.named_parameters()
                                       if p.requires_grad} == {'bbox_head'},
    'atf_sokd_cwd': lambda m, c: m.distiller.dafa is not None and m.atf_losses and all(
        n.startswith('bbox_head.') for n, p in m.teacher.named_parameters() if p.requires_grad),
    'sokd_kd_dafa_only': lambda m, c: m.distiller.dam is None,
    'sokd_kd_dam_only': lambda m, c: m.distiller.dafa is None,
    'sokd_kd_policy_lr3e-4': lambda m, c: c.optim_wrapper.policy.optimizer.lr == 3e-4,
}


@pytest.mark.parametrize('task, name', [('detection', n) for n in benchmark.METHODS]
                         + [('classification', n) for n in benchmark.CLS_METHODS])
def test_every_benchmark_method_builds_with_its_overrides(task, name, tmp_path):
    """A typo in a method's overrides would otherwise surface hours into a benchmark."""
    import sokd_mmdet  # noqa: F401  (registers the modules)
    from mmengine.registry import init_default_scope
    from mmrazor.registry import MODELS
    spec = benchmark.task_methods(task)[name]
    cfg, _ = benchmark.write_run_config(str(tmp_path / 'run.py'), spec['config'],
                                        spec.get('overrides'), 40, 5)
    init_default_scope('mmpretrain' if task == 'classification' else 'mmdet')
    if 'teacher_ckpt' in cfg.model:
        cfg.model.teacher_ckpt = None
    model = MODELS.build(cfg.model)
    # the schedule is stretched to the run: every scheduler ends by iteration 40
    schedulers = cfg.param_scheduler
    for sched in (sum(schedulers.values(), []) if isinstance(schedulers, dict)
                  else schedulers):
        assert sched.get('end', 0) <= 40
    if spec.get('ablation') or name in ABLATION_EFFECT:
        assert ABLATION_EFFECT[name](model, cfg), name
