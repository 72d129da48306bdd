"""tools/analysis_tools/schedule_plot.py: AP against the whole-run cost of a search schedule."""
import importlib.util
import json
import os
import os.path as osp

import pytest

from conftest import ROOT

spec = importlib.util.spec_from_file_location(
    'schedule_plot', osp.join(ROOT, 'tools', 'analysis_tools', 'schedule_plot.py'))
schedule_plot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(schedule_plot)

COST = {
    'rows': {
        'cwd': {
            'entries': {
                'cwd': {
                    'mean': 1.0
                }
            },
            'whole_run_s_per_iter': 2.0
        },
        'sokd_cwd': {
            'base': 'cwd',
            'entries': {
                'sokd_cwd:normal': {
                    'mean': 3.0
                },
                'sokd_cwd:search': {
                    'mean': 9.0
                }
            }
        },
    }
}


def test_whole_run_ratio_weights_the_two_steps_by_the_share():
    assert schedule_plot.whole_run_ratio(COST, 'sokd_cwd', 0.0) == 1.5
    assert schedule_plot.whole_run_ratio(COST, 'sokd_cwd', 0.25) == pytest.approx(
        (0.75 * 3 + 0.25 * 9) / 2)
    with pytest.raises(KeyError, match='time it with tools/benchmark_cost.py'):
        schedule_plot.whole_run_ratio(COST, 'sokd_pkd', 0.1)


def _run(work_dir, model, ap, last_eval=20):
    os.makedirs(osp.join(work_dir, '20260101_000000', 'vis_data'))
    with open(osp.join(work_dir, 'run.py'), 'w') as f:
        f.write(f'model = {model!r}\ntrain_cfg = dict(max_iters=20)\n')
    with open(osp.join(work_dir, '20260101_000000', 'vis_data', 'scalars.json'), 'w') as f:
        for step in range(1, last_eval + 1):
            f.write(json.dumps({'step': step, 'loss': 1.0}) + '\n')
            if step % 10 == 0:
                f.write(json.dumps({'step': step, 'coco/bbox_mAP': ap * step / 20}) + '\n')
    return work_dir


def test_a_run_point_reads_the_schedule_and_the_final_ap(tmp_path):
    run = _run(str(tmp_path / 'a'), dict(search_interval=5, search_end=10), 0.18)
    point = schedule_plot.run_point(run)
    # policy steps at iterations 0 and 5 of the 20 (the search ends at 10)
    assert point['search_share'] == pytest.approx(2 / 20)
    assert point['ap'] == pytest.approx(18.0) and point['iters'] == 20
    unfinished = _run(str(tmp_path / 'b'), dict(search_interval=5), 0.1, last_eval=15)
    with pytest.raises(ValueError, match='no evaluation at iteration 20'):
        schedule_plot.run_point(unfinished)
    with pytest.raises(FileNotFoundError, match='pass a tools/train.py work dir'):
        schedule_plot.run_point(str(tmp_path))


def test_the_command_writes_the_table_the_plot_and_the_points(tmp_path, capsys):
    cost = tmp_path / 'cost.json'
    cost.write_text(json.dumps(COST))
    base = _run(str(tmp_path / 'base'), dict(type='X'), 0.17)
    run = _run(str(tmp_path / 'a'), dict(search_interval=5, search_end=10), 0.18)
    out, points = str(tmp_path / 'p.png'), str(tmp_path / 'p.json')
    schedule_plot.main([
        '--cost',
        str(cost), '--base', f'cwd={base}', '--run', f'to half={run}', '--out', out, '--json',
        points
    ])
    printed = capsys.readouterr().out
    assert '| to half | 5 | 10 | 0.100 | 1.80 | 18.0 |' in printed
    assert '| cwd | - | - | 0.000 | 1.00 | 17.0 |' in printed
    assert osp.getsize(out) > 1000
    with open(points) as f:
        assert json.load(f)['runs'][0]['ratio'] == pytest.approx(1.8)
