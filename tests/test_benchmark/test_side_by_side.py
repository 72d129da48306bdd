"""The page's side-by-side cost table (tools/benchmark_cost.py's JSON in the output folder)."""
import json

import pytest

from benchmark.markdown import render_markdown
from benchmark.side_by_side import (attach_side_by_side, load_side_by_side, side_by_side_lines,
                                    suggested_command)
from benchmark.summary import summarise
from test_report import synthetic


def measurement():
    """cwd 0.5 s; sokd_cwd 0.6 s without and 2.0 s with a policy step, one in five."""
    return {
        'command': 'python tools/benchmark_cost.py --methods cwd sokd_cwd --iters 6000',
        'device': 'cpu',
        'threads': 1,
        'img_size': 128,
        'batch_size': 4,
        'iters': 6000,
        'steps_per_entry': 20,
        'rows': {
            'cwd': {
                'entries': {
                    'cwd': dict(mean=0.5, std=0.05, peak_mib=1000.0)
                },
                'search_share': 0.0,
                'whole_run_s_per_iter': 0.5,
                'peak_mib': 1000.0
            },
            'sokd_cwd': {
                'entries': {
                    'sokd_cwd:normal': dict(mean=0.6, std=0.06, peak_mib=1010.0),
                    'sokd_cwd:search': dict(mean=2.0, std=0.2, peak_mib=1200.0)
                },
                'search_share': 0.2,
                'whole_run_s_per_iter': 0.88,
                'peak_mib': 1200.0,
                'base': 'cwd',
                'whole_run_ratio': 1.76,
                'memory_ratio': 1.2
            }
        }
    }


def test_table_rows_carry_times_spreads_and_ratios():
    lines = side_by_side_lines(measurement())
    assert '| cwd | — | 0.500 ± 0.050 | — | 0.00 | 0.500 | — | 1000 | — |' in lines
    # the normal step 0.6 / 0.5, the policy step 2.0 / 0.5, whole run 0.8 * 0.6 + 0.2 * 2.0
    assert ('| sokd_cwd | cwd | 0.600 ± 0.060 (1.20x) | 2.000 ± 0.200 (4.00x) | 0.20 | '
            '0.880 | 1.76x | 1200 | 1.20x |') in lines
    assert measurement()['command'] in lines  # the command that measured it, on the page
    assert any('peak RSS' in line for line in lines)
    gpu = dict(measurement(), device='NVIDIA H200')
    assert any('peak GPU memory (MiB)' in line for line in side_by_side_lines(gpu))


def test_ratio_spreads_over_the_rounds_are_shown_where_measured():
    """A measurement with the paired per-round ratios shows their spread beside each
    ratio; the older one above (without them) shows none."""
    m = measurement()
    m['rows']['sokd_cwd'].update(whole_run_ratio_std=0.031, normal_ratio_std=0.012)
    assert ('| sokd_cwd | cwd | 0.600 ± 0.060 (1.20x ± 0.01) | 2.000 ± 0.200 (4.00x) | 0.20 | '
            '0.880 | 1.76x ± 0.03 | 1200 | 1.20x |') in side_by_side_lines(m)


def test_page_shows_the_side_by_side_table_first_or_says_how_to_measure_it():
    results = synthetic()
    page = render_markdown(summarise(results))
    assert 'Not measured side by side for this page yet: run `python tools/benchmark_cost.py ' \
           '--methods cwd sokd_cwd --iters 4 --img-size 256 --batch-size 4 --out cost.json`' \
           in page
    results['side_by_side'] = measurement()
    page = render_markdown(summarise(results))
    assert 'Not measured side by side' not in page
    table = page.index('| sokd_cwd | cwd | 0.600 ± 0.060 (1.20x)')
    assert page.index('## Cost') < table < page.index('### Per run (secondary)')


def test_suggested_command_lists_each_row_with_its_base_once():
    command = suggested_command(['student', 'cwd', 'sokd_cwd', 'fitnet', 'sokd_fitnet'], {
        'sokd_cwd': 'cwd',
        'sokd_fitnet': 'fitnet'
    }, dict(iters=6000, img_size=128), 'out/cost.json')
    assert command == ('python tools/benchmark_cost.py --methods cwd sokd_cwd fitnet '
                       'sokd_fitnet --iters 6000 --img-size 128 --batch-size 4 '
                       '--out out/cost.json')


def test_load_side_by_side(tmp_path):
    assert load_side_by_side(str(tmp_path)) is None  # not measured: no table
    (tmp_path / 'cost.json').write_text(json.dumps(measurement()))
    assert load_side_by_side(str(tmp_path))['rows']['sokd_cwd']['whole_run_ratio'] == 1.76
    (tmp_path / 'cost.json').write_text('{"device": "cpu"}')
    with pytest.raises(ValueError, match='cost.json has no "rows".*--out'):
        load_side_by_side(str(tmp_path))
    (tmp_path / 'cost.json').write_text('{')
    with pytest.raises(ValueError, match='cost.json is not JSON'):
        load_side_by_side(str(tmp_path))


def test_attach_takes_the_folder_measurement_or_keeps_the_one_recorded(tmp_path):
    out = str(tmp_path)
    kept = attach_side_by_side(dict(task='detection', side_by_side={'rows': {}}), out)
    assert kept['side_by_side'] == {'rows': {}}  # no cost.json: what the results had
    assert kept['side_by_side_file'] == str(tmp_path / 'cost.json')
    (tmp_path / 'cost.json').write_text(json.dumps(measurement()))
    fresh = attach_side_by_side(dict(task='detection', side_by_side={'rows': {}}), out)
    assert fresh['side_by_side']['rows']['sokd_cwd']['memory_ratio'] == 1.2
    assert 'side_by_side' not in attach_side_by_side(dict(task='classification'), out)
