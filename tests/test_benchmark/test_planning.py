"""What a benchmark command would run (benchmark/planning.py): jobs, keys, states."""
import importlib.util
import json
import os.path as osp

from benchmark.planning import (data_root_of, dry_run, plan_jobs, plan_pretraining, plan_run,
                                plan_teacher, recorded, run_state, teacher_data_root_of)
from benchmark.training import start_or_resume
from conftest import ROOT

spec = importlib.util.spec_from_file_location('benchmark_tool',
                                              osp.join(ROOT, 'tools', 'benchmark.py'))
benchmark_tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(benchmark_tool)


def test_ablations_run_after_the_main_rows_on_fewer_seeds():
    table = dict(a=dict(), b=dict(ablation=True), c=dict())
    jobs = plan_jobs(['a', 'b', 'c'], [0, 1, 2], table, ablation_seeds=1)
    assert jobs == [('a', 0), ('c', 0), ('a', 1), ('c', 1), ('a', 2), ('c', 2), ('b', 0)]
    jobs = plan_jobs(['b', 'a'], [3, 4], table, ablation_seeds=5)
    assert jobs == [('a', 3), ('a', 4), ('b', 3), ('b', 4)]


def test_run_state_reads_what_a_run_left_behind(tmp_path):
    work_dir = str(tmp_path / 'run')
    assert run_state(work_dir, 'k', done=False) == 'new'
    assert run_state(work_dir, 'k', done=True) == 'done'
    start_or_resume(work_dir, 'k')
    assert run_state(work_dir, 'k', done=False) == 'redo'  # nothing to resume
    (tmp_path / 'run' / 'last_checkpoint').write_text(str(tmp_path / 'run' / 'iter_750.pth'))
    assert run_state(work_dir, 'k', done=False) == 'resume at 750'
    assert run_state(work_dir, 'other', done=False) == 'redo'
    # another process holds the run: this one would wait for it, whatever it left so far
    assert run_state(work_dir, 'k', done=False, running=True) == 'running'
    assert run_state(work_dir, 'k', done=True, running=True) == 'done'


def test_a_record_counts_only_for_its_own_key(tmp_path):
    summary = tmp_path / 'metrics.json'
    assert recorded(str(summary), 'k') is None
    summary.write_text(json.dumps(dict(key='k', metrics=dict(AP=0.1))))
    assert recorded(str(summary), 'k') == dict(key='k', metrics=dict(AP=0.1))
    assert recorded(str(summary), 'another') is None


def test_plans_are_keyed_by_what_the_run_does(tmp_path):
    out = tmp_path / 'bench'
    args = benchmark_tool.parse_args(
        ['--out', str(out), '--iters', '40', '--teacher-iters', '60', '--own-weights'])
    data_root = data_root_of(args)
    assert data_root == osp.join(str(out), 'data', 'shapes-2000-1000-128px-seed1')
    pretrained = plan_pretraining(args, str(tmp_path))
    # the two backbones the quickstart configs load, each pretrained once per key
    assert {
        role: p['config']
        for role, p in pretrained.items()
    } == dict(
        student='configs/pretrain/resnet18-w16_shapes-cls64.py',
        teacher='configs/pretrain/resnet34-w32_shapes-cls64.py')
    student_bb = pretrained['student']
    assert student_bb['work_dir'] == osp.join(
        str(out), f'pretrain-resnet18-w16_shapes-cls64-{student_bb["key"]}')
    assert student_bb['checkpoint'] == osp.join(student_bb['work_dir'], 'iter_2000.pth')
    assert 'train_cfg.max_iters=2000' in student_bb['options']
    assert f'train_dataloader.dataset.data_root={out}/data/shapes_cls-12000-600-64px-seed1/' \
        in student_bb['options']
    longer = benchmark_tool.parse_args(['--out', str(out), '--pretrain-iters', '3000'])
    assert plan_pretraining(longer, str(tmp_path))['student']['key'] != student_bb['key']
    teacher = plan_teacher(args, data_root, str(tmp_path / 't.py'), pretrained)
    assert 'model.backbone.init_cfg.checkpoint=' + pretrained['teacher']['checkpoint'] in \
        teacher['options']
    # another pretrained backbone is another teacher
    assert plan_teacher(args, data_root, str(tmp_path / 't.py'))['key'] != teacher['key']
    assert teacher['work_dir'] == osp.join(str(out), f'teacher-{teacher["key"]}')
    assert teacher['checkpoint'] == osp.join(teacher['work_dir'], 'iter_60.pth')
    plans = {
        seed:
        plan_run(args, 'sokd_cwd', seed, data_root, teacher, str(tmp_path / f'run{seed}.py'),
                 pretrained)
        for seed in (0, 1)
    }
    assert plans[0]['work_dir'] == osp.join(str(out), 'runs', 'sokd_cwd', 'seed0')
    options = plans[0]['options']
    assert 'train_dataloader.dataset.pipeline.2.scale=(128,128)' in options
    assert 'train_cfg.max_iters=40' in options and 'model.distiller.dafa.seed=0' in options
    assert options[-1] == f'model.teacher_ckpt={teacher["checkpoint"]}'
    # the student's backbone starts from the benchmark's pretrained one (the teacher's
    # weights come from its checkpoint)
    assert options[-2] == ('model.architecture.backbone.init_cfg.checkpoint=' +
                           student_bb['checkpoint'])
    assert not any(o.startswith('model.teacher.backbone') for o in options)
    assert plans[0]['key'] != plans[1]['key']  # another seed is another run
    # a dry run plans the same keys and writes nothing
    rows = dry_run(args, data_root)
    assert rows[:3] == [('pretrain-student', None, 'new', student_bb['work_dir']),
                        ('pretrain-teacher', None, 'new', pretrained['teacher']['work_dir']),
                        ('teacher', None, 'new', teacher['work_dir'])]
    assert ('sokd_cwd', 1, 'new', plans[1]['work_dir']) in rows
    assert not out.exists()


def test_the_tuning_draw_keeps_the_tables_teacher_and_backbones(tmp_path):
    """--data-seed changes the students' data only: the teacher trains on the setting's own
    draw and the backbones pretrain on its classification draw, under any --out."""
    main = benchmark_tool.parse_args(['--out', str(tmp_path / 'a')])
    tune = benchmark_tool.parse_args(['--out', str(tmp_path / 'b'), '--data-seed', '0'])
    assert (main.teacher_data_seed, tune.teacher_data_seed) == (1, 1)
    assert data_root_of(tune).endswith('seed0') and teacher_data_root_of(tune).endswith('seed1')
    plans = {}
    for name, args in (('main', main), ('tune', tune)):
        pretrained = plan_pretraining(args, str(tmp_path))
        teacher = plan_teacher(args, teacher_data_root_of(args), str(tmp_path / 't.py'),
                               pretrained)
        plans[name] = (pretrained['student']['key'], pretrained['teacher']['key'], teacher['key'])
        # the options still name this --out's folders: only the key leaves them out
        assert f'{args.out}/data/shapes-2000-1000-128px-seed1/' in ' '.join(teacher['options'])
    assert plans['main'] == plans['tune']
    own = benchmark_tool.parse_args(['--out', str(tmp_path / 'b'), '--teacher-data-seed', '0'])
    assert plan_teacher(own, teacher_data_root_of(own), str(tmp_path / 't.py'),
                        plan_pretraining(own, str(tmp_path)))['key'] != plans['main'][2]
