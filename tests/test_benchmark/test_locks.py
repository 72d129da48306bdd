"""Run locks: benchmark processes sharing one output folder never make the same run twice."""
import importlib.util
import os.path as osp
import subprocess
import sys
import textwrap
import threading

import sokd_mmdet.datasets
from benchmark import locks, runner
from benchmark.locks import RunLock, claim_in_turn, held, locked_elsewhere
from conftest import ROOT

spec = importlib.util.spec_from_file_location('benchmark_tool',
                                              osp.join(ROOT, 'tools', 'benchmark.py'))
benchmark_tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(benchmark_tool)

# another process: take the lock, say so, hold it until a line arrives on stdin (the module
# is loaded from its file: that process does not have the checkout on its path)
HOLDER = textwrap.dedent("""
    import importlib.util, sys
    spec = importlib.util.spec_from_file_location('locks', sys.argv[2])
    locks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(locks)
    lock = locks.RunLock(sys.argv[1])
    print(lock.acquire(block=False), flush=True)
    sys.stdin.readline()
""")


def _holder_cmd(path):
    return [sys.executable, '-c', HOLDER, str(path), osp.abspath(locks.__file__)]


def _hold(path):
    """Another process that holds the lock until a line is written to its stdin."""
    proc = subprocess.Popen(
        _holder_cmd(path), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == 'True'
    return proc


def _free_elsewhere(path) -> bool:
    """Whether a fresh process can take the lock now."""
    out = subprocess.run(_holder_cmd(path), input='\n', capture_output=True, text=True, check=True)
    return out.stdout.strip() == 'True'


def test_a_lock_excludes_other_processes_and_dies_with_its_holder(tmp_path):
    path = tmp_path / 'locks' / 'teacher.lock'  # the folder is created
    holder = _hold(path)
    lock = RunLock(str(path))
    assert not lock.acquire(block=False) and not lock.held
    holder.kill()  # killed, not released: the kernel drops the lock
    holder.wait()
    assert lock.acquire(block=False) and lock.held
    assert not _free_elsewhere(path)
    lock.release()
    assert _free_elsewhere(path)
    assert path.exists()  # never deleted: every process locks the same file


def test_locked_elsewhere_sees_other_holders_and_creates_nothing(tmp_path):
    path = tmp_path / 'runs' / 'cwd' / 'seed0.lock'
    assert not locked_elsewhere(str(path))
    assert not path.parent.exists()  # a free, absent lock stays absent
    holder = _hold(path)
    assert locked_elsewhere(str(path))
    assert locked_elsewhere(str(path))  # looking does not take it
    holder.stdin.write('\n')
    holder.stdin.flush()
    holder.wait()
    assert not locked_elsewhere(str(path))
    lock = RunLock(str(path))  # held by this process through another open file: busy too
    lock.acquire()
    assert locked_elsewhere(str(path))
    lock.release()
    assert _free_elsewhere(path)  # the look left no lock behind


def test_free_jobs_go_first_and_held_ones_are_waited_for(tmp_path):

    def lock_for(job):
        return RunLock(str(tmp_path / f'{job}.lock'))

    holder = _hold(tmp_path / 'b.lock')
    waited = []

    def on_wait(job):
        waited.append(job)
        holder.stdin.write('\n')  # the other process finishes b
        holder.stdin.flush()

    order = []
    for job, lock in claim_in_turn(['a', 'b', 'c'], lock_for, on_wait):
        assert lock.held
        assert not _free_elsewhere(tmp_path / f'{job}.lock')  # held while the job runs
        order.append(job)
    assert order == ['a', 'c', 'b'] and waited == ['b']
    holder.wait()
    # all given back once the loop moved on
    assert all(_free_elsewhere(tmp_path / f'{j}.lock') for j in 'abc')


def test_a_job_freed_before_its_turn_comes_is_taken_without_waiting(tmp_path):
    holder = _hold(tmp_path / 'a.lock')
    claimed = claim_in_turn(['a', 'b'],
                            lambda j: RunLock(str(tmp_path / f'{j}.lock')),
                            on_wait=lambda job: (_ for _ in ()).throw(AssertionError(job)))
    assert next(claimed)[0] == 'b'
    holder.communicate('\n')  # released while b ran
    assert next(claimed)[0] == 'a'


def test_held_says_when_it_waits(tmp_path, capsys):
    path = tmp_path / 'data.lock'
    with held(RunLock(str(path)), 'data') as lock:
        assert lock.held and not _free_elsewhere(path)
    assert capsys.readouterr().out == '' and _free_elsewhere(path)
    holder = _hold(path)
    lock = RunLock(str(path))
    # the holder lets go half a second later, while this process waits
    timer = threading.Timer(0.5, lambda: holder.communicate('\n'))
    timer.start()
    with held(lock, 'data'):
        assert lock.held
    timer.join()
    assert 'data: another benchmark process on this --out is making it; waiting' in \
        capsys.readouterr().out


def test_the_benchmark_skips_a_run_another_process_holds_and_reuses_it(tmp_path, monkeypatch):
    """The runner's loop (benchmark/runner.py): the free runs first, then the held one, once
    free; the results keep that order."""
    out = tmp_path / 'bench'
    holder = _hold(out / 'runs' / 'cwd' / 'seed0.lock')  # another process trains it
    calls = []

    def run_method(args, name, seed, data_root, teacher_ckpt, pretrained):
        assert pretrained == backbones
        assert not _free_elsewhere(out / 'runs' / name / f'seed{seed}.lock')
        calls.append((name, seed))
        if len(calls) == 3:
            holder.communicate('\n')  # the other process is done with cwd seed 0
        return dict(
            method=name,
            seed=seed,
            metrics=dict(AP=0.1),
            cost=dict(wall_s=1.0),
            cached=(name, seed) == ('cwd', 0))

    def train_teacher(args, data_root, pretrained):
        assert not _free_elsewhere(out / 'locks' / 'teacher.lock')
        assert pretrained == backbones
        return dict(checkpoint='teacher.pth', metrics=dict(AP=0.2))

    backbones = {}

    def pretrain_backbone(args, role, config):
        assert not _free_elsewhere(out / 'locks' / f'pretrain-{role}.lock')
        backbones[role] = dict(checkpoint=f'{role}.pth', config=config)
        return backbones[role]

    written = {}
    monkeypatch.setattr(sokd_mmdet.datasets, 'generate_detection_dataset', lambda *a, **k: None)
    monkeypatch.setattr(runner, 'generate_pretrain_data', lambda args: None)
    monkeypatch.setattr(runner, 'pretrain_backbone', pretrain_backbone)
    monkeypatch.setattr(runner, 'train_teacher', train_teacher)
    monkeypatch.setattr(runner, 'run_method', run_method)
    monkeypatch.setattr(runner, 'write_outputs', lambda args, res: written.update(res))
    monkeypatch.setattr(runner, 'machine_info', lambda: dict(cpu_model='test'))
    # this machine's own weights: the shipped ones would leave nothing to lock
    benchmark_tool.main(
        ['--out',
         str(out), '--methods', 'student', 'cwd', '--seeds', '0', '1', '--own-weights'])
    assert calls == [('student', 0), ('student', 1), ('cwd', 1), ('cwd', 0)]
    assert [(r['method'], r['seed']) for r in written['runs']] == calls
    # the rows on record name their config, base and description (and ablation flag)
    assert written['methods']['cwd'] == dict(
        config='configs/quickstart/cwd_retinanet_r34_r18_shapes.py',
        base=None,
        about='channel-wise distillation (CWD) on FPN levels P3-P5',
        ablation=None)
    assert written['command'] == ('python tools/benchmark.py --out ' + str(out) +
                                  ' --methods student cwd --seeds 0 1 --own-weights')
    assert written['settings']['seeds'] == [0, 1] and written['failed'] == []
    # both backbones pretrained (under their locks) before the teacher, and on record
    assert written['pretrained'] == backbones and backbones['student']['config'] == \
        'configs/pretrain/resnet18-w16_shapes-cls64.py'
    assert backbones['teacher']['config'] == 'configs/pretrain/resnet34-w32_shapes-cls64.py'


def test_held_does_other_work_first_when_another_process_has_the_lock(tmp_path, capsys):
    """``while_waiting`` runs once, only when the lock is taken elsewhere, before any wait;
    a lock freed in the meantime is then taken without waiting."""
    path = tmp_path / 'teacher.lock'
    calls = []
    with held(RunLock(str(path)), 'teacher', lambda: calls.append('free')):
        pass
    assert calls == []  # the lock was free: nothing else to do first
    holder = _hold(path)

    def meanwhile():
        calls.append('meanwhile')
        holder.communicate('\n')  # the other process finishes while this one works

    lock = RunLock(str(path))
    with held(lock, 'teacher', meanwhile):
        assert lock.held
    assert calls == ['meanwhile'] and 'waiting' not in capsys.readouterr().out


def test_claim_in_turn_can_leave_the_held_jobs_out(tmp_path):
    holder = _hold(tmp_path / 'b.lock')
    got = [
        job for job, _ in claim_in_turn(
            ['a', 'b', 'c'], lambda j: RunLock(str(tmp_path / f'{j}.lock')), wait_deferred=False)
    ]
    assert got == ['a', 'c']
    holder.communicate('\n')


def test_runs_without_a_teacher_go_first_while_another_process_makes_it(tmp_path, monkeypatch):
    """A second process on the same --out trains the student-alone runs while the first
    makes the teacher, then waits for the teacher and trains the rest; the results hold all."""
    out = tmp_path / 'bench'
    holder = _hold(out / 'locks' / 'teacher.lock')  # another process trains the teacher
    calls, trained = [], []

    def run_method(args, name, seed, data_root, teacher, pretrained):
        calls.append((name, seed, (teacher or {}).get('checkpoint')))
        assert 'student' in pretrained
        if name == 'student' and seed == 1:
            holder.communicate('\n')  # the other process has finished the teacher meanwhile
        return dict(method=name, seed=seed, metrics=dict(AP=0.1), cost=dict(wall_s=1.0))

    def train_teacher(args, data_root, pretrained):
        trained.append(len(calls))
        return dict(checkpoint='teacher.pth', metrics=dict(AP=0.2))

    written = {}
    monkeypatch.setattr(sokd_mmdet.datasets, 'generate_detection_dataset', lambda *a, **k: None)
    monkeypatch.setattr(runner, 'generate_pretrain_data', lambda args: None)
    monkeypatch.setattr(runner, 'pretrain_backbone',
                        lambda args, role, config: dict(checkpoint=f'{role}.pth'))
    monkeypatch.setattr(runner, 'train_teacher', train_teacher)
    monkeypatch.setattr(runner, 'run_method', run_method)
    monkeypatch.setattr(runner, 'write_outputs', lambda args, res: written.update(res))
    monkeypatch.setattr(runner, 'machine_info', lambda: dict(cpu_model='test'))
    # this machine's own weights: the shipped ones would leave nothing to lock
    benchmark_tool.main(
        ['--out',
         str(out), '--methods', 'student', 'cwd', '--seeds', '0', '1', '--own-weights'])
    # the student-alone runs (no teacher checkpoint) before the teacher was read, cwd after
    assert calls == [('student', 0, None), ('student', 1, None), ('cwd', 0, 'teacher.pth'),
                     ('cwd', 1, 'teacher.pth')]
    assert trained == [2]
    assert [(r['method'], r['seed']) for r in written['runs']] == [c[:2] for c in calls]
    assert runner.teacher_free_jobs([('student', 0), ('cwd', 0), ('student', 1)],
                                    runner.task_methods('detection')) == [('student', 0),
                                                                          ('student', 1)]
