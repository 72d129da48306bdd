"""tools/benchmark.py end to end (--quick): data, the pretrained backbones and the teacher
(each cached), students, the page, the committed records that outlive the work dir."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

from conftest import ROOT


def _bench(out, report, *extra):
    cmd = [
        sys.executable,
        osp.join(ROOT, 'tools', 'benchmark.py'), '--quick', '--out', out, '--report', report,
        '--methods', 'student', 'sokd_cwd', *extra
    ]
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1', MPLBACKEND='Agg')
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_quick_benchmark_trains_evaluates_reports_and_reuses(tmp_path):
    out, report = str(tmp_path / 'bench'), str(tmp_path / 'docs' / 'benchmark.md')
    records = str(tmp_path / 'records')
    os.makedirs(osp.dirname(report))
    first = _bench(out, report, '--records', records)
    with open(osp.join(out, 'results.json')) as f:
        results = json.load(f)
    assert results['settings']['iters'] == 4 and results['settings']['seeds'] == [0]
    assert osp.isfile(results['teacher']['checkpoint'])
    # both backbones pretrained on the classification images (top-1 on record), and every
    # detector run starts from them through its init_cfg
    pretrained = results['pretrained']
    assert set(pretrained) == {'student', 'teacher'}
    for role, backbone in pretrained.items():
        assert osp.isfile(backbone['checkpoint']) and 'top1' in backbone['metrics'], role
    with open(osp.join(results['teacher']['work_dir'], 'train.log')) as f:
        assert 'init_cfg.checkpoint=' + pretrained['teacher']['checkpoint'] in f.read()
    runs = {r['method']: r for r in results['runs']}
    assert set(runs) == {'student', 'sokd_cwd'} and not results['failed']
    for run in runs.values():
        with open(osp.join(run['work_dir'], 'train.log')) as f:
            assert 'init_cfg.checkpoint=' + pretrained['student']['checkpoint'] in f.read()
        assert set(run['metrics']) == {'AP', 'AP50', 'AP75', 'APs', 'APm', 'APl'}
        assert [point['iter'] for point in run['curve']] == [2, 4]
        cost = run['cost']
        assert cost['peak_rss_mib'] > 100 and cost['run_s'] > 0
        assert cost['iters_timed'] == 2  # iterations 2 and 4 (1: warm-up, 3: after an eval)
    # SoKD's learned policy is on record, one entry per logged step, every op in it
    policy = runs['sokd_cwd']['policy_history']
    assert runs['student']['policy_history'] is None and policy
    assert len(policy[-1]['apply_prob']) == len(policy[-1]['magnitude']) > 0
    # its training log's diagnosis per quarter: every policy step of the 4 iterations seen
    diagnosis = runs['sokd_cwd']['diagnosis']
    assert runs['student']['diagnosis'] is None
    assert [(p['start'], p['end']) for p in diagnosis] == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert sum(p['reward']['steps'] for p in diagnosis) >= 1
    assert all(p['losses']['task'] > 0 and p['losses']['base'] > 0 for p in diagnosis)
    with open(report) as f:
        page = f.read()
    assert 'SoKD over CWD' in page and 'student' in page
    assert '### sokd_cwd (1 seed)' in page and '| 0-1 |' in page
    images = osp.join(osp.dirname(report), 'images')
    assert any(name.endswith('.png') for name in os.listdir(images))
    # run again: the backbones, the teacher and both runs are reused, nothing is trained
    second = _bench(out, report, '--records', records)
    assert 'training...' in first and 'pretraining' in first
    assert second.count('reused') == 2, second
    assert second.count('backbone: reusing') == 2 and 'teacher: reusing' in second
    # every finished run's record is in the records folder, with its key
    for name in ('student', 'sokd_cwd'):
        with open(osp.join(records, name, 'seed0.json')) as f:
            kept = json.load(f)
        assert kept['key'] == runs[name]['key'] and kept['metrics'] == runs[name]['metrics']
        assert kept['curve'] == runs[name]['curve'] and 'cached' not in kept
    with open(osp.join(records, 'teacher.json')) as f:
        assert json.load(f)['key'] == results['teacher']['key']
    assert len([n for n in os.listdir(records) if n.startswith('pretrain-')]) == 2
    # the machine is gone (its work dir with it): the page comes back from the records alone
    shutil.rmtree(out)
    os.remove(report)
    third = _bench(out, report, '--records', records, '--done-only')
    assert 'its committed record' in third and 'not trained' in third, third
    assert not osp.isdir(osp.join(out, 'runs', 'student', 'seed0'))  # nothing trained
    with open(osp.join(out, 'results.json')) as f:
        again = json.load(f)
    assert {r['method']: r['metrics'] for r in again['runs']} == \
        {name: run['metrics'] for name, run in runs.items()}
    assert all(r['archived'] for r in again['runs']) and again['teacher']['archived']
    with open(report) as f:
        assert '### sokd_cwd (1 seed)' in f.read()
