"""The classification part of the benchmark page (benchmark/classification.py, page.py):
top-1 statistics, its section, and each task rewriting only its own part of the page."""
import pytest

from benchmark.classification import render_classification, summarise_classification
from benchmark.page import BEGIN, END, keep_block, replace_block


def _results(sokd=(60.0, 62.0, 64.0)):
    runs = []
    for seed in range(3):
        for name, top1, t in (('student', 50.0 + seed, 0.2), ('kd', (55.0, 56.0, 57.0)[seed], 0.4),
                              ('sokd_kd', sokd[seed], 0.6)):
            runs.append(
                dict(
                    method=name,
                    seed=seed,
                    metrics=dict(top1=top1),
                    cost=dict(iter_time_s=t, run_s=100 * t, peak_rss_mib=1000.0)))
    return dict(
        task='classification',
        command='python tools/benchmark.py --task classification',
        machine=dict(cpu_model='CPU', usable_cores=2),
        settings=dict(
            num_train=600, num_val=200, img_size=32, iters=400, teacher_iters=600, seeds=[0, 1,
                                                                                          2]),
        methods={
            n: dict(base=b, about=n)
            for n, b in (('student', None), ('kd', None), ('sokd_kd', 'kd'))
        },
        teacher=dict(metrics=dict(top1=70.0)),
        runs=runs)


def test_summary_means_stds_and_ratios():
    summary = summarise_classification(_results())
    kd = next(m for m in summary['methods'] if m['name'] == 'kd')
    assert kd['top1']['mean'] == pytest.approx(56.0) and kd['top1']['std'] == pytest.approx(1.0)
    (c, ) = summary['comparisons']
    assert (c['method'], c['base']) == ('sokd_kd', 'kd')
    assert c['delta'] == pytest.approx(6.0) and c['spread'] == pytest.approx(2.0)
    assert c['beats'] and not c['loses']
    assert c['ratios']['iter_time_s'] == pytest.approx(1.5)
    assert summary['teacher_top1'] == 70.0


def test_section_table_and_verdicts():
    text = render_classification(_results())
    assert text.startswith(BEGIN) and text.rstrip().endswith(END)
    assert '| kd | 3 | 56.0 ± 1.0 | +5.0 | 55.0, 56.0, 57.0 | 0.400 | 1000 |' in text
    assert '**sokd_kd** vs **kd**: top-1 +6.0 points (more than the seed spread, 2.0)' in text
    assert 'time per iteration 1.50x' in text
    # within the spread: no claim either way
    even = render_classification(_results(sokd=(54.0, 56.5, 58.0)))
    assert 'no difference that these seeds can show' in even
    # one seed: no spread, so no claim
    one = _results()
    one['runs'] = [r for r in one['runs'] if r['seed'] == 0]
    (c, ) = summarise_classification(one)['comparisons']
    assert not c['beats'] and not c['loses'] and c['spread'] is None
    assert 'one seed: no spread to compare with, no claim' in render_classification(one)
    # the machine's load is stated, as on the detection page
    assert 'The machine load was not recorded.' in text
    for run in one['runs']:
        run['cost']['load5'] = 2.0
    assert ('load average at the end of each run was 2.0-2.0 (3 runs) on 2 usable cores.'
            in render_classification(one))


def test_each_task_rewrites_only_its_section():
    detection = '# Distillation benchmark\n\ndetection table v1\n'
    page = replace_block(detection, render_classification(_results()))
    assert page.startswith(detection.rstrip('\n')) and page.count(BEGIN) == 1
    # a new classification run replaces its section, the detection part stays
    page2 = replace_block(page, render_classification(_results(sokd=(50.0, 50.0, 50.0))))
    assert 'detection table v1' in page2 and page2.count(BEGIN) == 1
    assert '50.0 ± 0.0' in page2 and '62.0 ± 2.0' not in page2
    # a new detection page keeps the classification section
    page3 = keep_block(page2, '# Distillation benchmark\n\ndetection table v2\n')
    assert 'detection table v2' in page3 and 'v1' not in page3
    assert page3[page3.index(BEGIN):] == page2[page2.index(BEGIN):]
