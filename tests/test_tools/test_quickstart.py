"""tools/quickstart.py (``make demo``): its progress arithmetic, its table, and a tiny run
end to end with the shipped weights."""
import importlib.util
import math
import os.path as osp
import re

from conftest import ROOT

spec = importlib.util.spec_from_file_location('quickstart', osp.join(ROOT, 'tools',
                                                                     'quickstart.py'))
quickstart = importlib.util.module_from_spec(spec)
spec.loader.exec_module(quickstart)


def test_last_iter_reads_mmengine_log_lines():
    log = ('12/01 19:34:07 - mmengine - INFO - Iter(train) [  20/1200]  lr: 1e-4\n'
           '12/01 19:34:20 - mmengine - INFO - Iter(train) [ 40/1200]  lr: 1e-4\n'
           '12/01 19:34:21 - mmengine - INFO - Iter(val) [ 50/63]\n')
    assert quickstart.last_iter(log) == 40
    assert quickstart.last_iter('no progress yet') == 0


def test_eta_spreads_what_is_left_over_the_workers():
    # run a: 100 of 200 done in 50 s (0.5 s/it), b: 50 of 200 in 50 s (1 s/it), c waiting
    done, elapsed = {'a': 100, 'b': 50, 'c': 0}, {'a': 50.0, 'b': 50.0}
    left = (100 + 150 + 200) * 0.75 / 2
    assert math.isclose(quickstart.eta_seconds(done, elapsed, 200, 2), left)
    assert math.isnan(quickstart.eta_seconds({'a': 0}, {}, 200, 2))


def test_results_table_lists_students_then_the_teacher():
    rows = [('alone', {'AP': 9.04, 'AP50': 20.0}, 61), ('CWD', {'AP': 12.0, 'AP50': 25.5}, 3661)]
    table = quickstart.results_table(rows, {'AP': 23.6, 'AP50': 37.4}).splitlines()
    assert table[2] == '| student: alone | ResNet-18-w16 | 9.0 | 20.0 | 0h01m01s |'
    assert table[3] == '| student: CWD | ResNet-18-w16 | 12.0 | 25.5 | 1h01m01s |'
    assert table[4].startswith('| teacher (shipped, not trained here) | ResNet-34-w32 | 23.6 |')


def test_demo_end_to_end_on_a_tiny_draw(tmp_path, capsys):
    quickstart.main([
        '--work-dir',
        str(tmp_path / 'demo'), '--data-root',
        str(tmp_path / 'data'), '--iters', '2', '--num-train', '8', '--num-val', '4'
    ])
    out = capsys.readouterr().out
    summary = (tmp_path / 'demo' / 'results.md').read_text()
    assert summary.strip() in out
    rows = re.findall(r'^\| (student: [^|]+|teacher[^|]+) \| ResNet-\S+ \| (\d+\.\d) \|', summary,
                      re.M)
    assert [r[0].strip() for r in rows] == [
        'student: alone', 'student: CWD', 'student: SoKD over CWD',
        'teacher (shipped, not trained here)'
    ]
    # the shipped teacher detects on images it never saw (4 images: a coarse check)
    assert float(rows[-1][1]) > 5
    assert (tmp_path / 'demo' / 'sokd_cwd' / 'policy.png').is_file()
    assert list((tmp_path / 'demo' / 'pictures').glob('regions_img0_lvl*.png'))
    assert str(tmp_path / 'demo' / 'sokd_cwd' / 'policy.png') in summary
