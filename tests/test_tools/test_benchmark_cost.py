"""tools/benchmark_cost.py: rows timed side by side, the search schedule in the whole-run
ratio, peak memory per entry."""
import importlib.util
import os.path as osp

import pytest

from conftest import ROOT

spec = importlib.util.spec_from_file_location('benchmark_cost',
                                              osp.join(ROOT, 'tools', 'benchmark_cost.py'))
cost = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cost)


@pytest.mark.parametrize('model,iters,share', [
    (dict(search_interval=1), 100, 1.0),
    (dict(search_interval=5), 1000, 0.2),
    (dict(search_interval=1, search_end=250), 1000, 0.25),
    (dict(search_interval=10, search_begin=5, search_end=50), 100, 0.05),
    (dict(search_interval=2, search_end=10**6), 10, 0.5),
])
def test_search_share_follows_the_schedule(model, iters, share):
    assert cost.search_share(model, iters) == pytest.approx(share)


def test_search_rows_are_timed_with_and_without_the_policy_step():
    specs = cost.entries(['student', 'cwd', 'sokd_cwd'], before=True)
    assert specs == {
        'student': ('student', None, None),
        'cwd': ('cwd', None, None),
        'sokd_cwd:normal': ('sokd_cwd', False, None),
        'sokd_cwd:search': ('sokd_cwd', True, None),
        'sokd_cwd:search_before': ('sokd_cwd', True, cost.SEARCH_BEFORE),
    }


def test_cost_of_two_rows_side_by_side(tiny_data, tmp_path):
    out = str(tmp_path / 'cost.json')
    result = cost.main([
        '--methods', 'cwd', 'sokd_cwd', '--iters', '10', '--data-root', tiny_data, '--img-size',
        '64', '--batch-size', '2', '--rounds', '2', '--steps', '1', '--warmup', '0', '--device',
        'cpu', '--out', out
    ])
    assert osp.isfile(out)
    rows = result['rows']
    assert set(rows['cwd']['entries']) == {'cwd'}
    assert set(rows['sokd_cwd']['entries']) == {'sokd_cwd:normal', 'sokd_cwd:search'}
    assert result['steps_per_entry'] == 2
    sokd, base = rows['sokd_cwd'], rows['cwd']
    # the quickstart SoKD config searches every 5th iteration: 2 of the 10 (0 and 5)
    assert sokd['search_share'] == 0.2
    entry = sokd['entries']
    assert sokd['whole_run_s_per_iter'] == pytest.approx(0.2 * entry['sokd_cwd:search']['mean'] +
                                                         0.8 * entry['sokd_cwd:normal']['mean'])
    assert sokd['base'] == 'cwd' and 'base' not in base
    assert sokd['whole_run_ratio'] == pytest.approx(sokd['whole_run_s_per_iter'] /
                                                    base['whole_run_s_per_iter'])
    for row in rows.values():
        for entry in row['entries'].values():
            assert entry['mean'] > 0 and entry['std'] >= 0 and entry['peak_mib'] > 100
    assert sokd['memory_ratio'] == pytest.approx(sokd['peak_mib'] / base['peak_mib'])
