"""The regime figures on the benchmark page (benchmark/regime.py): teacher against the
students, the student alone's convergence, the seed noise of the core rows."""
import copy

import pytest

from benchmark.markdown import render_markdown
from benchmark.regime import last_fifth_change, regime, regime_lines
from benchmark.summary import summarise
from test_report import synthetic


def test_last_fifth_change_reads_the_mean_curve():
    curve = [
        dict(iter=i, mean=a) for i, a in ((200, 0.10), (400, 0.120), (800, 0.130), (1000, 0.134))
    ]
    # 80 % of 1000 is 800: from there to the end, +0.4 points
    assert last_fifth_change(curve, 1000) == pytest.approx(
        dict(start=800, end=1000, change=0.4, ok=True))
    assert not last_fifth_change(curve[:2] + [dict(iter=1000, mean=0.13)], 1000)['ok']  # +1.0
    assert last_fifth_change(curve[:3], 1000) is None  # the run did not reach its end


def test_regime_figures_and_what_the_page_says():
    results = synthetic()
    # the student alone's mean curve: 0.13 at iteration 2 (50 %: the last evaluation at or
    # before 80 % of 4), 0.26 at 4
    results['pretrained'] = dict(
        student=dict(metrics=dict(top1=75.2)), teacher=dict(metrics=dict(top1=95.2)))
    summary = summarise(results)
    r = regime(summary, summary['pretrained'])
    # teacher 50.0; best distilled: sokd_cwd at 36.0 (cwd 32.0); student alone 26.0
    assert r['teacher_ap'] == pytest.approx(50.0) and r['student_ap'] == pytest.approx(26.0)
    assert r['best']['name'] == 'sokd_cwd' and r['best']['ap'] == pytest.approx(36.0)
    assert r['margin'] == pytest.approx(14.0) and r['ratio'] == pytest.approx(50 / 26)
    assert r['converged']['change'] == pytest.approx(13.0) and not r['converged']['ok']
    # seed stds: student 1.0, cwd 2.0, sokd_cwd 1.0 points
    assert r['noise'] == pytest.approx(dict(std=2.0, method='cwd', rows=3, ok=False))
    assert r['ok'] == dict(margin=True, ratio=True, converged=False, noise=False)
    assert r['backbones'] == dict(student=75.2, teacher=95.2)
    lines = regime_lines(r)
    assert lines[0] == ('- Pretrained backbones (top-1 on the held-out classification images): '
                        'student 75.2 %, teacher 95.2 %.')
    assert lines[1] == ('- Teacher 50.0 AP; best distilled student (sokd_cwd) 36.0: +14.0 '
                        'points (required at least +5: met).')
    assert '= 1.92x (required at least 1.5x: met)' in lines[2]
    assert '+13.00 AP from iteration 2 to 4' in lines[3] and '**not met**' in lines[3]
    assert 'is 2.00 (cwd; required at most 0.3: **not met**)' in lines[4]
    page = render_markdown(summary)
    assert page.index('## The regime') < page.index('## Does SoKD beat its base loss?')
    assert '\n'.join(lines) in page
    # an ablation row's spread is not the core rows' noise
    results['methods']['cwd']['ablation'] = True
    noise = regime(summarise(results))['noise']
    assert noise['std'] == pytest.approx(1.0) and noise['rows'] == 2 and noise['method'] != 'cwd'


def test_budget_line_sums_the_core_rows_cpu_time():
    results = synthetic()
    assert regime(summarise(results))['budget']['runs'] == 0  # none recorded: no line
    assert not any('Budget' in line for line in regime_lines(regime(summarise(results))))
    for r in results['runs']:  # 8 of the 9 runs with 1800 CPU-s each, one before recording
        r['cost']['cpu_s'] = None if (r['method'], r['seed']) == ('cwd', 2) else 1800.0
    b = regime(summarise(results))['budget']
    assert b == pytest.approx(dict(cpu_h=4.0, runs=8, scaled=0, unknown=1, rows=3))
    line = regime_lines(regime(summarise(results)))[-1]
    assert line == ('- Budget: the 8 runs of the 3 core rows with a recorded CPU time took '
                    '4.0 CPU-hours (user + system); 1 more ran before CPU time was recorded, '
                    'so the total is higher (aimed at about 8).')
    results['methods']['sokd_cwd']['ablation'] = True  # an ablation is not a core row
    assert regime(summarise(results))['budget'] == pytest.approx(
        dict(cpu_h=2.5, runs=5, scaled=0, unknown=1, rows=2))


def test_budget_scales_a_run_measured_over_part_of_it():
    results = synthetic()
    iters = results['settings']['iters']
    for r in results['runs']:
        r['cost']['cpu_s'] = 1800.0
    # one run's recorded segments cover three quarters of it: its CPU time x 4/3
    results['runs'][0]['cost']['cpu_iters'] = iters * 3 // 4
    results['runs'][1]['cost']['cpu_iters'] = iters  # covered in full: as recorded
    b = regime(summarise(results))['budget']
    assert b['cpu_h'] == pytest.approx((8 * 1800.0 + 2400.0) / 3600) and b['scaled'] == 1
    line = regime_lines(regime(summarise(results)))[-1]
    assert ('(user + system; 1 of them measured over part of the run (a segment killed mid-way '
            'records none) and scaled to the whole run by its iterations)') in line


def test_no_regime_without_a_teacher_or_the_student_alone():
    results = synthetic()
    no_teacher = copy.deepcopy(results)
    no_teacher['teacher'] = {}
    assert regime(summarise(no_teacher)) is None
    assert '## The regime' not in render_markdown(summarise(no_teacher))
    results['runs'] = [r for r in results['runs'] if r['method'] != 'student']
    assert regime(summarise(results)) is None
