"""tools/analysis_tools/sokd_diagnosis.py: a run's diagnosis from its work dir."""
import importlib.util
import json
import os
import os.path as osp

import pytest

from conftest import ROOT

spec = importlib.util.spec_from_file_location(
    'sokd_diagnosis', osp.join(ROOT, 'tools', 'analysis_tools', 'sokd_diagnosis.py'))
sokd_diagnosis = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sokd_diagnosis)


def _write_run(work_dir):
    """A resumed run: segment 1 logged iterations 1-4, segment 2 restarted after 2."""
    segments = {
        '20260101_000000': [(1, 1.0), (2, 1.0), (3, -1.0), (4, -1.0)],
        '20260101_010000': [(3, 0.5), (4, 0.5), (5, 0.25), (6, 0.25)],
    }
    for stamp, rows in segments.items():
        os.makedirs(osp.join(work_dir, stamp, 'vis_data'))
        with open(osp.join(work_dir, stamp, 'vis_data', 'scalars.json'), 'w') as f:
            for step, reward in rows:
                f.write(
                    json.dumps({
                        'step': step,
                        'loss': 2.0,
                        'student.loss_cls': 1.0,
                        'distill.loss_fpn0': 3.0,
                        'grad_norm': 4.0,
                        'policy/reward': reward,
                        'policy/outer_after': 10.0 + reward
                    }) + '\n')
    history = [{
        'iter': 2,
        'apply_prob': {
            'A': 0.1
        },
        'magnitude': {
            'A': 0.1
        }
    }, {
        'iter': 6,
        'apply_prob': {
            'A': 0.05
        },
        'magnitude': {
            'A': 0.02
        }
    }]
    with open(osp.join(work_dir, 'policy_history.json'), 'w') as f:
        json.dump(history, f)


def test_the_diagnosis_of_a_resumed_run(tmp_path, capsys):
    work_dir = str(tmp_path / 'run')
    _write_run(work_dir)
    out = str(tmp_path / 'diagnosis.json')
    sokd_diagnosis.main([work_dir, '--phases', '2', '--iters', '6', '--json', out])
    printed = capsys.readouterr().out
    with open(out) as f:
        result = json.load(f)
    first, second = result['phases']
    # the second segment's iterations 3 and 4 replace the first's
    assert first['reward']['steps'] == 2 and first['reward']['mean'] == pytest.approx(0.75)
    assert second['reward']['steps'] == 1 and second['reward']['mean'] == pytest.approx(0.25)
    assert first['losses']['task'] == 1.0 and first['losses']['base'] == 3.0
    assert result['policy']['last']['apply_prob'] == pytest.approx(0.05)
    assert '| 0-3 | 2 | 7.50e-01 |' in printed
    assert 'iteration 6: apply probability 0.050' in printed


def test_a_work_dir_without_a_log_names_the_fix(tmp_path):
    with pytest.raises(SystemExit, match='pass the work dir of a training run'):
        sokd_diagnosis.main([str(tmp_path)])
