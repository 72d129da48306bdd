"""The benchmark page (benchmark/report.py) and what it is made of: the statistics
(summary.py), the verdicts (sentences.py), the tables (markdown.py) and the plots (plots.py)."""
import copy
import math
import os

import pytest

from benchmark.markdown import render_markdown
from benchmark.plots import plot_map_curves, plot_policies
from benchmark.report import write_report
from benchmark.summary import summarise

OPS = ('Rotate', 'Cutout')


def _run(method, seed, ap, iter_time, wall, rss, policy=False):
    metrics = dict(AP=ap, AP50=ap + 0.2, AP75=ap - 0.1, APs=ap / 2, APm=ap, APl=None)
    history = None
    if policy:
        history = [
            dict(
                iter=it,
                apply_prob={op: 0.1 * it + 0.01 * seed
                            for op in OPS},
                magnitude={op: 0.5 - 0.01 * it
                           for op in OPS}) for it in (2, 4)
        ]
    return dict(
        method=method,
        seed=seed,
        metrics=metrics,
        curve=[dict(iter=2, AP=ap / 2), dict(iter=4, AP=ap)],
        cost=dict(iter_time_s=iter_time, run_s=wall, peak_rss_mib=rss),
        policy_history=history)


def synthetic(sokd_aps=(0.35, 0.36, 0.37)):
    """student / cwd / sokd_cwd over 3 seeds; cwd AP 0.30, 0.32, 0.34 (mean .32, std .02)."""
    runs = []
    for seed in range(3):
        runs.append(_run('student', seed, 0.25 + 0.01 * seed, 0.5, 100.0, 1000.0))
        runs.append(
            _run('cwd', seed, (0.30, 0.32, 0.34)[seed], (1.0, 1.2, 1.1)[seed],
                 (200.0, 220.0, 240.0)[seed], 1200.0))
        runs.append(
            _run(
                'sokd_cwd',
                seed,
                sokd_aps[seed],
                3.3,
                660.0, (1500.0, 1560.0, 1620.0)[seed],
                policy=True))
    return dict(
        schema=1,
        command='python tools/benchmark.py --seeds 0 1 2',
        machine=dict(cpu_model='Test CPU 9000', logical_cores=2, usable_cores=2, torch='2.14.1'),
        settings=dict(
            num_train=400,
            num_val=100,
            img_size=256,
            data_seed=0,
            iters=4,
            teacher_iters=8,
            eval_interval=2,
            seeds=[0, 1, 2],
            warmup_iters=1,
            quick=False),
        methods={
            'student': dict(config='configs/s.py', base=None, about='alone'),
            'cwd': dict(config='configs/cwd.py', base=None, about='CWD'),
            'sokd_cwd': dict(config='configs/sokd.py', base='cwd', about='SoKD over CWD'),
        },
        teacher=dict(
            config='configs/t.py',
            metrics=dict(AP=0.5, AP50=0.7, AP75=0.45, APs=0.2, APm=0.5, APl=None),
            cost=dict(run_s=900.0, iter_time_s=2.0, peak_rss_mib=1400.0)),
        runs=runs,
        failed=[])


def _method(summary, name):
    return next(m for m in summary['methods'] if m['name'] == name)


def test_summarise_mean_std_and_ratios():
    summary = summarise(synthetic())
    assert [m['name'] for m in summary['methods']] == ['student', 'cwd', 'sokd_cwd']
    cwd, sokd = _method(summary, 'cwd'), _method(summary, 'sokd_cwd')
    assert cwd['seeds'] == [0, 1, 2]
    assert cwd['metrics']['AP']['mean'] == pytest.approx(0.32)
    assert cwd['metrics']['AP']['std'] == pytest.approx(0.02)  # sample std (n - 1)
    assert cwd['metrics']['AP50']['mean'] == pytest.approx(0.52)
    assert cwd['metrics']['APl'] == dict(mean=None, std=None, n=0)  # COCO's -1: no objects
    assert sokd['metrics']['AP']['mean'] == pytest.approx(0.36)
    assert sokd['metrics']['AP']['std'] == pytest.approx(0.01)
    assert cwd['cost']['iter_time_s']['mean'] == pytest.approx(1.1)
    assert cwd['cost']['iter_time_s']['std'] == pytest.approx(0.1)
    assert sokd['cost']['peak_rss_mib']['std'] == pytest.approx(60.0)
    # ratios to the base loss; none for methods without one
    assert sokd['ratio']['iter_time_s'] == pytest.approx(3.0)
    assert sokd['ratio']['run_s'] == pytest.approx(3.0)
    assert sokd['ratio']['peak_rss_mib'] == pytest.approx(1560.0 / 1200.0)
    assert cwd['ratio'] is None and _method(summary, 'student')['ratio'] is None
    # mean curve over seeds, and the policy histories averaged op by op
    assert [p['iter'] for p in cwd['curve']] == [2, 4]
    assert cwd['curve'][0]['mean'] == pytest.approx(0.16)
    assert [h['iter'] for h in sokd['policy']] == [2, 4]
    assert sokd['policy'][1]['apply_prob']['Rotate'] == pytest.approx(0.41)
    assert sokd['policy'][0]['magnitude']['Cutout'] == pytest.approx(0.48)
    assert cwd['policy'] is None
    (comparison, ) = summary['comparisons']
    assert (comparison['method'], comparison['base']) == ('sokd_cwd', 'cwd')
    assert comparison['delta'] == pytest.approx(0.04)
    assert comparison['spread'] == pytest.approx(0.02)
    assert comparison['beats'] and comparison['within_std'] is False


def test_single_seed_has_no_std_and_no_claim():
    results = synthetic()
    results['runs'] = [r for r in results['runs'] if r['seed'] == 0]
    summary = summarise(results)
    ap = _method(summary, 'sokd_cwd')['metrics']['AP']
    assert ap['mean'] == pytest.approx(0.35) and ap['std'] is None and ap['n'] == 1
    (comparison, ) = summary['comparisons']
    assert comparison['within_std'] is None and not comparison['beats']
    page = render_markdown(summary)
    assert 'single seed the seed-to-seed spread is unknown' in page
    assert 'sokd_cwd beats cwd in this run' not in page


def test_markdown_tables_and_verdict():
    page = render_markdown(summarise(synthetic()))
    assert '| teacher (R34) | 1 | 50.0 | 70.0 | 45.0 | 20.0 | 50.0 | n/a | — | — |' in page
    assert '| cwd | 3 | 32.0 ± 2.0 | 52.0 ± 2.0 | 22.0 ± 2.0 | 16.0 ± 1.0 | 32.0 ± 2.0 | ' \
           'n/a | +6.00 | 30.0 / 32.0 / 34.0 |' in page
    assert '| sokd_cwd | 3 | 36.0 ± 1.0 |' in page
    assert ('| sokd_cwd | cwd | 3.300 ± 0.000 | 3.00× | 660 ± 0 | 3.00× | 1560 ± 60 | '
            '1.30× |') in page
    assert '| cwd | — | 1.100 ± 0.100 | — |' in page
    assert 'mean AP 36.0 vs 32.0 (+4.00 points, 3 vs 3 seeds)' in page
    assert 'sokd_cwd beats cwd in this run' in page
    assert 'Caution' not in page
    assert 'Test CPU 9000' in page and 'python tools/benchmark.py --seeds 0 1 2' in page
    assert '](images/benchmark_map_curve.png)' in page
    assert '](images/benchmark_policy.png)' in page


@pytest.mark.parametrize('aps, expected, absent', [
    ((0.28, 0.29, 0.30), 'sokd_cwd does not beat cwd in this run: it scores lower by more '
     'than the seed standard deviation', 'sokd_cwd beats cwd'),
    ((0.30, 0.31, 0.32), 'sokd_cwd does not beat cwd in this run: it scores lower on '
     'average, within the seed standard deviation', 'sokd_cwd beats cwd'),
    ((0.31, 0.33, 0.35), 'sokd_cwd scores higher than cwd on average, but the difference '
     'is within the seed standard deviation', 'sokd_cwd beats cwd in this run'),
    ((0.35, 0.36, 0.37), 'sokd_cwd beats cwd in this run: the difference is larger than '
     'the seed standard deviation (2.00 points)', 'does not beat'),
])
def test_verdict_follows_the_numbers(aps, expected, absent):
    summary = summarise(synthetic(aps))
    (comparison, ) = summary['comparisons']
    assert comparison['delta'] == pytest.approx(sum(aps) / 3 - 0.32)
    page = render_markdown(summary)
    assert expected in page
    assert absent not in page


def test_plots_write_pngs(tmp_path):
    summary = summarise(synthetic())
    curve = plot_map_curves(summary, str(tmp_path / 'img' / 'curve.png'))
    policy = plot_policies(summary, str(tmp_path / 'img' / 'policy.png'))
    for path in (curve, policy):
        with open(path, 'rb') as f:
            assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    import matplotlib.pyplot as plt
    assert plt.imread(policy).shape[0] > plt.imread(curve).shape[0] / 2
    # no method learned a policy: no file, and the page does not link one
    results = synthetic()
    results['runs'] = [dict(r, policy_history=None) for r in results['runs']]
    summary = summarise(results)
    assert plot_policies(summary, str(tmp_path / 'none.png')) is None
    assert not (tmp_path / 'none.png').exists()
    assert 'benchmark_policy.png' not in render_markdown(summary)


def test_write_report_and_missing_runs(tmp_path):
    results = synthetic()
    results['runs'] = [r for r in results['runs'] if r['method'] != 'cwd']
    results['failed'] = [dict(method='cwd', seed=0, log='runs/cwd/seed0/train.log')]
    page = tmp_path / 'docs' / 'benchmark.md'
    page.parent.mkdir()
    summary = write_report(copy.deepcopy(results), str(page))
    assert summary['comparisons'] == []  # no base loss finished: no verdict
    text = page.read_text()
    assert 'No SoKD method and its base loss both finished' in text
    assert 'cwd seed 0: see `runs/cwd/seed0/train.log`' in text
    assert (tmp_path / 'docs' / 'images' / 'benchmark_map_curve.png').is_file()
    assert (tmp_path / 'docs' / 'images' / 'benchmark_policy.png').is_file()
    assert not math.isnan(_method(summary, 'sokd_cwd')['metrics']['AP']['mean'])
    assert 'Planned runs not on this page' not in text


def test_page_lists_the_runs_a_done_only_page_left_out():
    results = synthetic()
    results['runs'] = [r for r in results['runs'] if (r['method'], r['seed']) != ('sokd_cwd', 2)]
    results['not_run'] = [
        dict(method='sokd_cwd', seed=2, state='running'),
        dict(method='cwd', seed=3, state='resume at 250')
    ]
    summary = summarise(results)
    assert _method(summary, 'sokd_cwd')['seeds'] == [0, 1]
    text = render_markdown(summary)
    section = text.split('## Planned runs not on this page')[1].split('## ')[0]
    assert section.strip().splitlines()[-2:] == [
        '- sokd_cwd seed 2: running', '- cwd seed 3: resume at 250'
    ]
    # an older results.json without the key: no section
    del results['not_run']
    assert 'Planned runs' not in render_markdown(summarise(results))


def test_page_warns_when_nothing_was_learned():
    results = synthetic((0.01, 0.02, 0.03))
    for run in results['runs']:
        run['metrics'] = dict(run['metrics'], AP=0.01 * (run['seed'] + 1))
    results['runs'][0]['no_detections'] = True  # student, seed 0
    page = render_markdown(summarise(results))
    assert 'the best method reaches only 2.0 AP (below 5)' in page
    assert 'final evaluation of: student (seed 0) (counted as AP 0)' in page


def test_page_says_how_loaded_the_machine_was():
    results = synthetic()
    page = render_markdown(summarise(results))
    assert 'The machine load was not recorded.' in page  # runs from before it was
    for k, run in enumerate(results['runs']):
        if k:  # the first run was made before the load was recorded
            run['cost']['load5'] = 1.0 + 0.25 * (k % 3)
    summary = summarise(results)
    assert summary['load'] == dict(min=1.0, max=1.5, n=8, unknown=1)
    page = render_markdown(summary)
    assert ("5-minute load average at the end of each run was 1.0-1.5 (8 runs; 1 runs made "
            'before it was recorded) on 2 usable cores.') in page
    assert 'inflated' not in page
    results['runs'][4]['cost']['load5'] = 3.1  # a third process on two cores
    page = render_markdown(summarise(results))
    assert 'was 1.0-3.1' in page and 'some runs shared the cores' in page


def test_two_pages_in_one_folder_keep_their_own_plots(tmp_path):
    docs = tmp_path / 'docs'
    docs.mkdir()
    write_report(synthetic(), str(docs / 'benchmark.md'))
    write_report(synthetic(), str(docs / 'benchmark-tune.md'))
    images = sorted(os.listdir(docs / 'images'))
    assert images == [
        'benchmark-tune_map_curve.png', 'benchmark-tune_policy.png', 'benchmark_map_curve.png',
        'benchmark_policy.png'
    ]
    assert '](images/benchmark-tune_map_curve.png)' in (docs / 'benchmark-tune.md').read_text()
