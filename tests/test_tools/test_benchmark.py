"""tools/benchmark.py, the command line: its settings, its errors, and what --dry-run and
--done-only say, run by run."""
import importlib.util
import json
import os.path as osp

import pytest

from benchmark.locks import RunLock
from benchmark.methods import CLS_METHODS, METHODS
from benchmark.planning import (data_root_of, done_jobs, dry_run, plan_jobs, plan_pretraining,
                                plan_run, plan_teacher, run_lock)
from benchmark.training import start_or_resume
from conftest import ROOT

spec = importlib.util.spec_from_file_location('benchmark_tool',
                                              osp.join(ROOT, 'tools', 'benchmark.py'))
benchmark = importlib.util.module_from_spec(spec)
spec.loader.exec_module(benchmark)


def test_task_picks_its_methods_and_defaults(capsys):
    args = benchmark.parse_args(['--task', 'classification'])
    assert args.methods == list(CLS_METHODS) and args.img_size == 32 and args.iters == 1500
    args = benchmark.parse_args([])
    assert args.methods == list(METHODS) and args.img_size == 128 and args.iters == 6000
    assert args.num_val == 1000 and args.data_seed == 1 and args.pretrain_iters == 2000
    args = benchmark.parse_args(['--quick', '--iters', '6'])
    assert (args.iters, args.teacher_iters, args.score_thr) == (6, 4, 0.0)  # the flag wins


@pytest.mark.parametrize('argv, message', [
    (['--task', 'classification', '--methods', 'cwd'], 'not a classification method'),
    (['--ablation-seeds', '0'], '--ablation-seeds must be positive'),
    (['--iters', '0'], '--iters, --teacher-iters and --eval-interval must be positive'),
])
def test_settings_errors_name_the_flag(argv, message, capsys):
    with pytest.raises(SystemExit):
        benchmark.parse_args(argv)
    assert message in capsys.readouterr().err


def test_dry_run_says_what_would_be_reused_resumed_or_trained(tmp_path, capsys):
    out = tmp_path / 'bench'
    argv = [
        '--out',
        str(out), '--methods', 'student', 'cwd', '--seeds', '0', '1', '--iters', '40',
        '--teacher-iters', '60', '--own-weights'
    ]
    args = benchmark.parse_args(argv)
    args.out = str(out)
    data_root = data_root_of(args)
    rows = dry_run(args, data_root)
    assert [(n, s, st) for n, s, st, _ in rows] == [('pretrain-student', None, 'new'),
                                                    ('pretrain-teacher', None, 'new'),
                                                    ('teacher', None, 'new'),
                                                    ('student', 0, 'new'), ('cwd', 0, 'new'),
                                                    ('student', 1, 'new'), ('cwd', 1, 'new')]
    assert not out.exists()  # nothing written
    # student seed 0 finished, cwd seed 0 stopped at a checkpoint, student seed 1 was made
    # with another config; the keys are the ones the dry run computed
    pretrained = plan_pretraining(args, str(tmp_path))
    teacher = plan_teacher(args, data_root, str(tmp_path / 't.py'), pretrained)
    assert teacher['checkpoint'].startswith(rows[2][3])
    keys = {}
    for name, seed, _, work_dir in rows[3:]:
        plan = plan_run(args, name, seed, data_root, teacher, str(tmp_path / f'{name}{seed}.py'),
                        pretrained)
        assert plan['work_dir'] == work_dir
        keys[name, seed] = plan['key']
    student0 = out / 'runs' / 'student' / 'seed0'
    student0.mkdir(parents=True)
    (student0 / 'metrics.json').write_text(json.dumps(dict(key=keys['student', 0])))
    start_or_resume(str(out / 'runs' / 'cwd' / 'seed0'), keys['cwd', 0])
    (out / 'runs' / 'cwd' / 'seed0' / 'last_checkpoint').write_text('iter_250.pth')
    start_or_resume(str(out / 'runs' / 'student' / 'seed1'), 'an older config')
    capsys.readouterr()
    benchmark.main(argv + ['--dry-run'])
    printed = capsys.readouterr().out
    assert [line.split()[-2] for line in printed.splitlines()[:7]
            ] == ['new', 'new', 'new', 'done', '250', 'redo', 'new']
    assert printed.splitlines()[-1] == \
        'dry run, nothing trained: 1 done, 1 resume, 4 new, 1 redo'
    # --done-only keeps the finished run and names the others with their state
    jobs = plan_jobs(args.methods, args.seeds, METHODS, 1)
    done, not_run = done_jobs(dry_run(args, data_root), jobs)
    assert done == [('student', 0)]
    assert [(r['method'], r['seed'], r['state']) for r in not_run] == [('cwd', 0, 'resume at 250'),
                                                                       ('student', 1, 'redo'),
                                                                       ('cwd', 1, 'new')]
    assert 'cwd seed 0: not done (resume at 250), left out' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='the teacher or a pretrained backbone is not trained'):
        benchmark.main(argv + ['--done-only'])
    assert not (out / 'data').exists()  # refused before anything was written
    # a run another process is training (its lock held) is 'running', not 'redo' or 'new'
    with RunLock(run_lock(str(out), 'cwd', 1)), RunLock(run_lock(str(out), 'teacher', None)):
        assert [st for _, _, st, _ in dry_run(args, data_root)
                ] == ['new', 'new', 'running', 'done', 'resume at 250', 'redo', 'running']
        benchmark.main(argv + ['--dry-run'])
        assert capsys.readouterr().out.splitlines()[-1] == \
            'dry run, nothing trained: 1 done, 2 running, 1 resume, 2 new, 1 redo'
    # another student length is another run
    args.iters = 50
    assert dry_run(args, data_root)[3][2] == 'redo'


def test_recorded_command_has_no_path_of_this_machine():
    inside = osp.join(ROOT, 'docs', 'benchmark.md')
    assert benchmark.portable_argument(inside) == osp.join('docs', 'benchmark.md')
    assert benchmark.portable_argument(f'--report={inside}') == '--report=docs/benchmark.md'
    # paths outside the checkout, relative paths and other arguments are kept as typed
    assert benchmark.portable_argument('/data/other/out') == '/data/other/out'
    assert benchmark.portable_argument('work_dirs/benchmark') == 'work_dirs/benchmark'
    assert benchmark.portable_argument('--seeds') == '--seeds'
    assert benchmark.portable_argument(osp.dirname(ROOT) + '/x') == osp.dirname(ROOT) + '/x'
