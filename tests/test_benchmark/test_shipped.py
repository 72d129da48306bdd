"""The weights the repository ships for the benchmark (benchmark/shipped.py): which run each
stands for, checked by its sum, and a benchmark that starts from them instead of training."""
import importlib.util
import json
import os.path as osp
import tempfile

import pytest
import torch

import benchmark.shipped as shipped_mod
from benchmark.demo_weights import DemoWeightsError, sha256_of, write_sums
from benchmark.planning import (data_root_of, dry_run, plan_pretraining, plan_run, plan_teacher,
                                teacher_data_root_of)
from benchmark.runner import prepare_teacher
from benchmark.shipped import (MANIFEST_FILE, read_manifest, shipped_for, shipped_record,
                               write_manifest)
from conftest import ROOT

spec = importlib.util.spec_from_file_location('benchmark_tool',
                                              osp.join(ROOT, 'tools', 'benchmark.py'))
benchmark_tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(benchmark_tool)


def _ship(folder, entries):
    """Write fake weight files for ``{run name: run key}`` with their sums and manifest."""
    manifest = {}
    for name, key in entries.items():
        file = f'{name}.pth'
        torch.save(
            dict(state_dict={'w': torch.full((2, ), float(len(name)))}), osp.join(folder, file))
        manifest[name] = dict(file=file, run_key=key, metrics=dict(AP=0.3), measured_by='test')
    write_sums(folder, [m['file'] for m in manifest.values()])
    write_manifest(folder, manifest)
    return manifest


def test_a_shipped_file_stands_for_its_run_only(tmp_path):
    _ship(str(tmp_path), {'teacher': 'abc'})
    plan = dict(config='c.py', key='abc', work_dir=str(tmp_path / 'out' / 'teacher-abc'))
    record = shipped_record(plan, 'teacher', str(tmp_path))
    path = str(tmp_path / 'teacher.pth')
    assert record['checkpoint'] == path and record['sha256'] == sha256_of(path)
    assert record['metrics'] == dict(AP=0.3) and record['shipped'] and record['cached']
    assert record['work_dir'] == plan['work_dir'] and record['key'] == 'abc'
    # another key (a changed config or setting), another name, no manifest: not shipped
    assert shipped_record(dict(plan, key='abd'), 'teacher', str(tmp_path)) is None
    assert shipped_record(plan, 'pretrain-x', str(tmp_path)) is None
    assert shipped_record(plan, 'teacher', str(tmp_path / 'nowhere')) is None
    assert read_manifest(str(tmp_path / 'nowhere')) == {}


def test_a_damaged_shipped_file_stops_with_the_fix(tmp_path):
    _ship(str(tmp_path), {'teacher': 'abc'})
    plan = dict(config='c.py', key='abc', work_dir=str(tmp_path / 'teacher-abc'))
    (tmp_path / 'teacher.pth').write_bytes(b'version https://git-lfs.github.com/spec/v1\n')
    with pytest.raises(
            DemoWeightsError,
            match=r'teacher\.pth is not the file SHA256SUMS '
            r'names.*git checkout --'):
        shipped_record(plan, 'teacher', str(tmp_path))
    (tmp_path / 'teacher.pth').unlink()
    with pytest.raises(DemoWeightsError, match='weights .*teacher.pth are missing'):
        shipped_record(plan, 'teacher', str(tmp_path))
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({'teacher': {'file': 'teacher.pth'}}))
    with pytest.raises(DemoWeightsError, match=r"entry 'teacher' has no \['metrics', 'run_key'\]"):
        read_manifest(str(tmp_path))


def _shipped_of(argv):
    args = benchmark_tool.parse_args(argv)
    args.out = osp.abspath(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        plans = plan_pretraining(args, tmp)
        teacher = plan_teacher(args, teacher_data_root_of(args), osp.join(tmp, 't.py'), plans)
        return shipped_for(args, teacher), shipped_for(args, plans['student'])


@pytest.mark.parametrize(
    'argv',
    [
        [],
        ['--data-seed', '0'],  # the tuning draw: other students' data, the table's teacher
        ['--out', '/scratch/elsewhere'],
    ])
def test_the_shipped_weights_serve_the_default_setting_and_its_tuning_draw(argv):
    teacher, backbone = _shipped_of(['--methods', 'cwd'] + argv)
    assert teacher is not None and backbone is not None


def test_another_teacher_recipe_trains_its_own():
    for argv in (['--teacher-iters', '3000'], ['--teacher-data-seed', '0'], ['--num-val',
                                                                             '500'], ['--large']):
        teacher, _ = _shipped_of(['--methods', 'cwd'] + argv)
        assert teacher is None, argv
    _, backbone = _shipped_of(['--methods', 'cwd', '--pretrain-iters', '1000'])
    assert backbone is None


def test_the_repository_ships_the_default_settings_teacher_and_student_backbone():
    """A change of the configs (or of the default setting) that the shipped weights no
    longer match fails here, not silently in a benchmark that trains its own."""
    args = benchmark_tool.parse_args(['--methods', 'student', 'cwd'])
    args.out = osp.abspath(args.out)
    data_root = data_root_of(args)
    with tempfile.TemporaryDirectory() as tmp:
        plans = plan_pretraining(args, tmp)
        teacher = shipped_for(args, plan_teacher(args, data_root, osp.join(tmp, 't.py'), plans))
        backbone = shipped_for(args, plans['student'])
        assert teacher is not None and backbone is not None, (
            'demo/weights/manifest.json no longer matches the default setting: remake the '
            'weights with `python tools/make_demo_weights.py`')
        assert shipped_for(args, plans['teacher']) is None  # only needed to make the teacher
        # the students start from these bytes, named by their sums
        plan = plan_run(args, 'cwd', 0, data_root, teacher, osp.join(tmp, 'cwd.py'),
                        dict(student=backbone))
        assert f'model.teacher_ckpt={teacher["checkpoint"]}' in plan['options']
        assert teacher['checkpoint'].startswith(osp.join(ROOT, 'demo', 'weights'))
        args.own_weights = True
        assert shipped_for(args, plans['student']) is None
    args.own_weights = False
    rows = {name: state for name, seed, state, _ in dry_run(args, data_root) if seed is None}
    assert rows == {
        'pretrain-student': 'shipped',
        'pretrain-teacher': 'not needed',
        'teacher': 'shipped'
    }


def test_the_benchmark_starts_from_shipped_weights_without_training(tmp_path, monkeypatch):
    out = tmp_path / 'bench'
    args = benchmark_tool.parse_args(['--quick', '--out', str(out), '--methods', 'student'])
    args.records = str(tmp_path / 'records')
    data_root = data_root_of(args)
    plans = plan_pretraining(args, str(tmp_path))
    teacher_plan = plan_teacher(args, teacher_data_root_of(args), str(tmp_path / 't.py'), plans)
    folder = tmp_path / 'shipped'
    folder.mkdir()
    _ship(
        str(folder), {
            'teacher': teacher_plan['key'],
            'pretrain-resnet18-w16_shapes-cls64': plans['student']['key']
        })
    monkeypatch.setattr(shipped_mod, 'SHIPPED_DIR', str(folder))
    pretrained, teacher = prepare_teacher(args, data_root)
    assert teacher['checkpoint'] == str(folder / 'teacher.pth') and teacher['shipped']
    assert list(pretrained) == ['student']  # the teacher's backbone is not made at all
    assert pretrained['student']['checkpoint'] == str(folder /
                                                      'pretrain-resnet18-w16_shapes-cls64.pth')
    # nothing trained: no pretraining data, no teacher or backbone work dir
    assert sorted(p.name for p in out.iterdir()) == ['data', 'locks']
    assert sorted(p.name for p in (out / 'data').iterdir()) == [osp.basename(data_root)]
    assert teacher['sha256'] == sha256_of(str(folder / 'teacher.pth'))
    assert not (tmp_path / 'records').exists()  # the records are of what was trained
    # --own-weights: this machine's own (here: its pretraining first, the teacher after)
    args.own_weights = True
    rows = {name: state for name, seed, state, _ in dry_run(args, data_root) if seed is None}
    assert rows == {'pretrain-student': 'new', 'pretrain-teacher': 'new', 'teacher': 'new'}


def test_make_demo_weights_writes_the_entry_the_benchmark_reads(tmp_path):
    spec = importlib.util.spec_from_file_location('make_demo_weights',
                                                  osp.join(ROOT, 'tools', 'make_demo_weights.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    record = dict(
        key='k1',
        config='configs/quickstart/retinanet_r34_shapes_teacher.py',
        metrics=dict(AP=0.25),
        cost=dict(run_s=3132.6, iter_time_s=0.52, peak_rss_mib=1160.5, segments=1),
        work_dir=str(tmp_path / 'out' / 'teacher-k1'))
    entry = tool.manifest_entry(record, 'teacher.pth')
    assert entry['run_key'] == 'k1' and entry['metrics'] == dict(AP=0.25)
    assert entry['cost'] == dict(run_s=3132.6, iter_time_s=0.52, peak_rss_mib=1160.5)
    assert entry['made_by'] == 'python tools/make_demo_weights.py'
    torch.save(dict(state_dict={'w': torch.ones(1)}), tmp_path / 'teacher.pth')
    write_sums(str(tmp_path), ['teacher.pth'])
    write_manifest(str(tmp_path), {'teacher': entry})
    got = shipped_record(dict(record, key='k1'), 'teacher', str(tmp_path))
    assert got['cost'] == entry['cost'] and got['metrics'] == dict(AP=0.25)
