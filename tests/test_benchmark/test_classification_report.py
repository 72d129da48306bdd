"""The classification part of the benchmark: top-1 statistics, its page section, run parsing."""
import importlib.util
import os.path as osp

import pytest

from conftest import ROOT
from sokd_mmdet.benchmark import (keep_block, render_classification, replace_block,
                                  summarise_classification)
from sokd_mmdet.benchmark.page import BEGIN, END

spec = importlib.util.spec_from_file_location('benchmark_tool',
                                              osp.join(ROOT, 'tools', 'benchmark.py'))
benchmark = importlib.util.module_from_spec(spec)
spec.loader.exec_module(benchmark)


def _results(sokd=(60.0, 62.0, 64.0)):
    runs = []
    for seed in range(3):
        for name, top1, t in (('student', 50.0 + seed, 0.2), ('kd', (55.0, 56.0, 57.0)[seed], 0.4),
                              ('sokd_kd', sokd[seed], 0.6)):
            runs.append(dict(method=name, seed=seed, metrics=dict(top1=top1),
                             cost=dict(iter_time_s=t, run_s=100 * t, peak_rss_mib=1000.0)))
    return dict(task='classification', command='python tools/benchmark.py --task classification',
                machine=dict(cpu_model='CPU', usable_cores=2),
                settings=dict(num_train=600, num_val=200, img_size=32, iters=400,
                              teacher_iters=600, seeds=[0, 1, 2]),
                methods={n: dict(base=b, about=n) for n, b in
                         (('student', None), ('kd', None), ('sokd_kd', 'kd'))},
                teacher=dict(metrics=dict(top1=70.0)), runs=runs)


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


def test_classification_runs_are_parsed_for_top1():
    records = [dict(step=i, loss=1.0, time=0.5 if i != 3 else 9.0, data_time=0.01)
               for i in range(1, 5)]
    records.insert(2, {'accuracy/top1': 40.0, 'step': 2})
    records.append({'accuracy/top1': 55.0, 'step': 4})
    parsed = benchmark.parse_run(records, iters=4, eval_interval=2, warmup=0,
                                 task='classification')
    assert parsed['metrics'] == {'top1': 55.0}
    assert [p['iter'] for p in parsed['curve']] == [2, 4]
    assert [p['top1'] for p in parsed['curve']] == [40.0, 55.0]
    # iteration 3 follows an evaluation: its time (with the evaluation) is left out
    assert parsed['cost']['iter_time_s'] == pytest.approx(0.5)
    assert parsed['cost']['iters_timed'] == 3
    # the run's time has every iteration, the evaluation-timing one too
    assert parsed['cost']['run_s'] == pytest.approx(0.5 * 3 + 9.0)


def test_task_picks_its_methods_and_defaults(capsys):
    args = benchmark.parse_args(['--task', 'classification'])
    assert args.methods == list(benchmark.CLS_METHODS) and args.img_size == 32
    args = benchmark.parse_args([])
    assert args.methods == list(benchmark.METHODS) and args.img_size == 128
    with pytest.raises(SystemExit):
        benchmark.parse_args(['--task', 'classification', '--methods', 'cwd'])
    assert 'not a classification method' in capsys.readouterr().err


# rows that combine two methods run on the ablation seeds as well
COMBINATIONS = ('tst_sokd_cwd', 'atf_sokd_cwd')


def test_ablations_run_after_the_main_rows_on_fewer_seeds(capsys):
    table = dict(a=dict(), b=dict(ablation=True), c=dict())
    jobs = benchmark.plan_jobs(['a', 'b', 'c'], [0, 1, 2], table, ablation_seeds=1)
    assert jobs == [('a', 0), ('c', 0), ('a', 1), ('c', 1), ('a', 2), ('c', 2), ('b', 0)]
    jobs = benchmark.plan_jobs(['b', 'a'], [3, 4], table, ablation_seeds=5)
    assert jobs == [('a', 3), ('a', 4), ('b', 3), ('b', 4)]
    # every ablation of both tasks is marked, and only those
    for table in (benchmark.METHODS, benchmark.CLS_METHODS):
        for name, spec in table.items():
            assert bool(spec.get('ablation')) == (spec['about'].startswith('ablation')
                                                  or name in COMBINATIONS), name
    with pytest.raises(SystemExit):
        benchmark.parse_args(['--ablation-seeds', '0'])
    assert '--ablation-seeds must be positive' in capsys.readouterr().err


def test_interrupted_runs_resume_and_their_logs_merge(tmp_path):
    work_dir = str(tmp_path / 'run')
    assert not benchmark.start_or_resume(work_dir, 'key1')  # a new run
    (tmp_path / 'run' / 'stale.txt').write_text('x')
    # no checkpoint yet: afresh (the folder is emptied)
    assert not benchmark.start_or_resume(work_dir, 'key1')
    assert not (tmp_path / 'run' / 'stale.txt').exists()
    (tmp_path / 'run' / 'last_checkpoint').write_text('iter_250.pth')
    assert benchmark.start_or_resume(work_dir, 'key1')  # same run, with a checkpoint
    assert not benchmark.start_or_resume(work_dir, 'key2')  # another config: afresh
    assert not (tmp_path / 'run' / 'last_checkpoint').exists()

    # a segment written before the load was recorded has none
    first = benchmark.run_segments(work_dir, dict(wall_s=100.0, peak_rss_mib=900.0,
                                                  returncode=-9))
    assert first == dict(wall_s=100.0, peak_rss_mib=900.0, segments=1, load5=None)
    total = benchmark.run_segments(work_dir, dict(wall_s=50.0, peak_rss_mib=800.0,
                                                  returncode=0, load5=2.5))
    assert total == dict(wall_s=150.0, peak_rss_mib=900.0, segments=2, load5=2.5)

    # segment 1 logged up to step 4 but checkpointed at 2; segment 2 re-runs 3 and 4
    seg1 = [dict(step=1, loss=1.0), dict(step=2, loss=0.9), {'step': 2, 'accuracy/top1': 10.0},
            dict(step=3, loss=5.0), dict(step=4, loss=5.0)]
    seg2 = [dict(step=3, loss=0.8), dict(step=4, loss=0.7), {'step': 4, 'accuracy/top1': 30.0}]
    merged = benchmark.merge_segments([seg1, seg2])
    assert [(r['step'], r.get('loss')) for r in merged] == [
        (1, 1.0), (2, 0.9), (2, None), (3, 0.8), (4, 0.7), (4, None)]
    # the resumed run's time counts each iteration once: not segment 1's lost steps 3 and 4
    for r in seg1 + seg2:
        if 'loss' in r:
            r['time'] = 10.0 if r['loss'] == 5.0 else 1.0
    parsed = benchmark.parse_run(benchmark.merge_segments([seg1, seg2]), iters=4,
                                 eval_interval=2, warmup=0, task='classification')
    assert parsed['cost']['run_s'] == pytest.approx(4.0)
