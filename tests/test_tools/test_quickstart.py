"""tools/quickstart.py (``make demo``): its progress arithmetic, its table, and a tiny run
end to end with the shipped weights."""
import importlib.util
import math
import os.path as osp
import re
import subprocess
import sys

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


def test_eta_of_running_runs_is_their_own_pace_and_queued_ones_go_to_the_first_free():
    # a: 100 of 200 in 50 s (0.5 s/it, 50 s left); b: 50 of 200 in 50 s (1 s/it, 150 s
    # left); c queued at the mean pace 0.75 s/it (150 s), on a's worker once a ends
    progress = {'a': (100, 50.0, 'running'), 'b': (50, 50.0, 'running'), 'c': (0, 0.0, 'queued')}
    assert math.isclose(quickstart.eta_seconds(progress, 200, 2), max(50 + 150, 150))
    assert math.isnan(quickstart.eta_seconds({'a': (0, 3.0, 'running')}, 200, 2))


def test_eta_does_not_grow_with_finished_runs_nor_halve_for_the_last_one():
    # the last run left, with 2 workers: its own iterations left at its own pace
    progress = {'a': (200, 100.0, 'finished'), 'b': (150, 300.0, 'running')}
    assert math.isclose(quickstart.eta_seconds(progress, 200, 2), 50 * 2.0)
    # all finished: nothing left, whatever the seconds say
    done = {'a': (200, 100.0, 'finished'), 'b': (200, 400.0, 'finished')}
    assert quickstart.eta_seconds(done, 200, 2) == 0.0


def test_results_table_lists_students_then_the_teacher():
    rows = [('alone', {'AP': 9.04, 'AP50': 20.0}), ('CWD', {'AP': 12.0, 'AP50': 25.5})]
    table = quickstart.results_table(rows, {'AP': 23.6, 'AP50': 37.4}).splitlines()
    assert table[0] == '| RetinaNet | backbone | AP | AP50 |'
    assert table[2] == '| student: alone | ResNet-18-w16 | 9.0 | 20.0 |'
    assert table[3] == '| student: CWD | ResNet-18-w16 | 12.0 | 25.5 |'
    assert table[4] == '| teacher (shipped, not trained here) | ResNet-34-w32 | 23.6 | 37.4 |'


def test_demo_end_to_end_on_a_tiny_draw(tmp_path):
    """As ``make demo`` runs it (its own process: its signal handlers and thread settings
    stay out of the test process), on 8 / 4 images for 2 iterations."""
    work = tmp_path / 'demo'
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'quickstart.py'), '--work-dir',
        str(work), '--data-root',
        str(tmp_path / 'data'), '--iters', '2', '--num-train', '8', '--num-val', '4'
    ],
                          cwd=str(tmp_path),
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = (work / 'results.md').read_text()
    assert summary.strip() in proc.stdout
    rows = re.findall(
        r'^\| (student: [^|]+|teacher[^|]+) \| ResNet-\S+ \| (\d+\.\d) \| (\d+\.\d) \|$', summary,
        re.M)
    assert [r[0].strip() for r in rows] == [
        'student: alone', 'student: CWD', 'student: SoKD over CWD',
        'teacher (shipped, not trained here)'
    ]
    # each row is its own run's final evaluation
    for (label, ap, ap50), name in zip(rows, ('student', 'cwd', 'sokd_cwd')):
        metrics = quickstart.final_metrics(str(work / name), 2)
        assert (ap, ap50) == (f'{metrics["AP"]:.1f}', f'{metrics["AP50"]:.1f}'), label
    teacher = quickstart.teacher_metrics(str(work / 'teacher_test'))
    assert rows[-1][1] == f'{teacher["AP"]:.1f}'
    # the shipped teacher detects on images it never saw (4 images: a coarse check)
    assert teacher['AP'] > 5
    assert (work / 'sokd_cwd' / 'policy.png').is_file()
    assert list((work / 'pictures').glob('regions_img0_lvl*.png'))
    assert str(work / 'sokd_cwd' / 'policy.png') in summary
