"""tools/benchmark_cost.py: rows timed side by side, the search schedule in the whole-run
ratio, peak memory per entry."""
import importlib.util
import os.path as osp
import statistics

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


def test_a_row_searches_over_the_same_share_at_any_run_length():
    """The whole-run price uses the schedule the benchmark runs: search bounds stretched."""
    short = 'configs/quickstart/ablations/sokd_cwd_search_short.py'  # every 10th, to 1500/6000
    for iters in (6000, 1000, 400):
        assert cost.row_search_share(short, iters) == pytest.approx(0.025)
    # the default (every 5th, no end) is a share of any length as it is
    assert cost.row_search_share('configs/quickstart/sokd_cwd_retinanet_r34_r18_shapes.py',
                                 1000) == pytest.approx(0.2)


def test_search_rows_are_timed_with_and_without_the_policy_step():
    variant = cost.parse_variant('cheap:reward_baseline=before_step,search_interval=1')
    specs = cost.entries(['student', 'cwd', 'sokd_cwd'], before=True, variants=[variant])
    assert specs == {
        'student': ('student', None, None),
        'cwd': ('cwd', None, None),
        'sokd_cwd:normal': ('sokd_cwd', False, None),
        'sokd_cwd:search': ('sokd_cwd', True, None),
        'sokd_cwd:search_before': ('sokd_cwd', True, cost.SEARCH_BEFORE),
        'sokd_cwd:search@cheap':
        ('sokd_cwd', True, dict(reward_baseline='before_step', search_interval=1)),
    }


@pytest.mark.parametrize('text,parsed', [
    ('a:hvp=finite_difference', ('a', dict(hvp='finite_difference'))),
    ('b:virtual_lr=None,hvp_eps=0.001', ('b', dict(virtual_lr=None, hvp_eps=0.001))),
    ("c:reward_baseline='before_step'", ('c', dict(reward_baseline='before_step'))),
])
def test_variants_parse_literals_and_strings(text, parsed):
    assert cost.parse_variant(text) == parsed


@pytest.mark.parametrize('text', ['nolabel', ':hvp=exact', 'a:', 'a:hvp'])
def test_a_malformed_variant_is_refused_with_the_expected_form(text):
    with pytest.raises(cost.argparse.ArgumentTypeError, match='LABEL:key=value|key=value'):
        cost.parse_variant(text)


def test_schedule_table_prices_interval_and_end():
    # a normal step of 1 s, a search step of 3 s, the base 0.8 s; 100 iterations
    table = cost.schedule_table(1.0, 3.0, 0.8, 100, [1, 5], [0.25, 1.0])
    got = {(t['search_interval'], t['search_end']): t for t in table}
    assert got[(1, 1.0)]['search_share'] == 1.0
    assert got[(1, 1.0)]['whole_run_ratio'] == pytest.approx(3.0 / 0.8)
    assert got[(5, 0.25)]['search_share'] == pytest.approx(0.05)  # 0, 5, ..., 20
    assert got[(5, 0.25)]['whole_run_ratio'] == pytest.approx((0.95 + 0.05 * 3) / 0.8)
    assert got[(1, 0.25)]['whole_run_ratio'] == pytest.approx((0.75 + 0.25 * 3) / 0.8)


def test_round_means_are_each_rounds_steps():
    assert cost.round_means([1.0, 3.0, 2.0, 4.0, 5.0, 7.0], 2) == [2.0, 3.0, 6.0]


def test_paired_ratios_divide_round_by_round():
    """A machine twice as slow in round 2 slows both rows: the per-round ratio stays."""
    got = cost.paired_ratios(([1.2, 2.4], None), [1.0, 2.0])
    assert got['rounds'] == pytest.approx([1.2, 1.2]) and got['std'] == pytest.approx(0.0)
    assert got['mean'] == pytest.approx(1.2)
    # with a policy-step share: (1 - f) normal + f search of the same round, over the base's
    got = cost.paired_ratios(([1.0, 1.5], [5.0, 4.0]), [1.0, 1.0], share=0.25)
    assert got['rounds'] == pytest.approx([0.75 + 1.25, 1.125 + 1.0])
    assert got['std'] == pytest.approx(statistics.stdev([2.0, 2.125]))
    assert cost.paired_ratios(([3.0], None), [2.0]) == dict(rounds=[1.5], mean=1.5, std=0.0)


def test_cost_of_two_rows_side_by_side(tiny_data, tmp_path):
    out = str(tmp_path / 'cost.json')
    result = cost.main([
        '--methods', 'cwd', 'sokd_cwd', '--iters', '10', '--data-root', tiny_data, '--img-size',
        '64', '--batch-size', '2', '--rounds', '2', '--steps', '1', '--warmup', '0', '--device',
        'cpu', '--out', out, '--variant', 'before_step:reward_baseline=before_step', '--intervals',
        '1', '5', '--search-ends', '0.5', '1'
    ])
    assert osp.isfile(out)
    rows = result['rows']
    assert set(rows['cwd']['entries']) == {'cwd'}
    assert set(rows['sokd_cwd']['entries']) == {
        'sokd_cwd:normal', 'sokd_cwd:search', 'sokd_cwd:search@before_step'
    }
    assert result['steps_per_entry'] == 2
    # the command line, for the benchmark page that shows this measurement
    assert result['command'].startswith('python tools/benchmark_cost.py --methods cwd sokd_cwd')
    assert result['command'].endswith('--search-ends 0.5 1')
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
    # the ratio's spread: one whole-run ratio per interleaved round (2 here), its std
    assert len(sokd['whole_run_ratio_rounds']) == 2
    assert sokd['whole_run_ratio_std'] == pytest.approx(
        statistics.stdev(sokd['whole_run_ratio_rounds']))
    assert sokd['normal_ratio_std'] >= 0 and 'whole_run_ratio_std' not in base
    # the variant's policy step: its own whole-run ratio and schedule table
    normal = sokd['entries']['sokd_cwd:normal']['mean']
    cheap = sokd['entries']['sokd_cwd:search@before_step']['mean']
    assert sokd['variants']['default']['whole_run_ratio'] == pytest.approx(sokd['whole_run_ratio'])
    assert sokd['variants']['before_step']['whole_run_ratio'] == pytest.approx(
        (0.8 * normal + 0.2 * cheap) / base['whole_run_s_per_iter'])
    table = {
        (t['search_interval'], t['search_end']): t['whole_run_ratio']
        for t in sokd['schedules']['before_step']
    }
    assert set(table) == {(1, 0.5), (1, 1.0), (5, 0.5), (5, 1.0)}
    assert table[(1, 1.0)] == pytest.approx(cheap / base['whole_run_s_per_iter'])
    assert table[(1, 0.5)] == pytest.approx(
        (0.5 * normal + 0.5 * cheap) / base['whole_run_s_per_iter'])


def test_coco_rows_are_the_coco_configs_on_the_built_in_images(tiny_data):
    """--coco: the COCO config of each row, its training set read from the built-in data,
    every optimiser at its warm-up's starting rate (random ResNets diverge at SGD's 0.01)."""
    from mmengine.config import Config

    from sokd_mmdet.datasets import SHAPE_CLASSES
    name = cost.row_config('sokd_cwd', coco=True)
    assert name == 'configs/sokd_retinanet_r101_r50_coco.py'
    upstream = Config.fromfile(osp.join(ROOT, name))
    cfg = cost._config(name, tiny_data, 64, 2)
    dataset = cfg.train_dataloader.dataset
    while 'dataset' in dataset:
        dataset = dataset.dataset
    assert dataset.metainfo == dict(classes=SHAPE_CLASSES)
    assert dataset.ann_file == 'annotations/instances_train.json'
    assert dataset.data_root == tiny_data + '/'
    assert cfg.model.teacher_ckpt is None and cfg.train_dataloader.batch_size == 2
    lr = upstream.optim_wrapper.student.optimizer.lr
    assert cfg.optim_wrapper.student.optimizer.lr == pytest.approx(lr * 0.001)
    assert cfg.optim_wrapper.policy.optimizer.lr == pytest.approx(
        upstream.optim_wrapper.policy.optimizer.lr * 0.001)
    # the built-in-data rows are untouched by it
    assert cost.row_config('sokd_cwd') == cost.METHODS['sokd_cwd']['config']
    with pytest.raises(SystemExit, match="no COCO config for the row 'student'"):
        cost.row_config('student', coco=True)
