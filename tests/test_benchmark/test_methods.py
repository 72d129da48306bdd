"""The benchmark's rows (benchmark/methods.py): each names a config, and a run of it builds."""
import os.path as osp

import pytest

from benchmark.methods import CLS_METHODS, METHODS, task_methods
from benchmark.run_config import load_config, scaled_search, write_run_config
from conftest import ROOT

ROWS = [('detection', n) for n in METHODS] + [('classification', n) for n in CLS_METHODS]
# rows that combine two methods run on the ablation seeds as well; what each must build
COMBINATIONS = {
    'tst_sokd_cwd':
    lambda m: m.distiller.dafa is not None and m.augmenter is not None,
    'atf_sokd_cwd':
    lambda m: m.distiller.dafa is not None and m.atf_losses and all(
        n.startswith('bbox_head.') for n, p in m.teacher.named_parameters() if p.requires_grad),
}


@pytest.mark.parametrize('table', [METHODS, CLS_METHODS], ids=['detection', 'classification'])
def test_a_row_names_its_config_base_and_description_only(table):
    for name, spec in table.items():
        # a row that changes a method is a config file (configs/**/ablations/), which the
        # config tests parse and build; the row itself holds no config text
        assert set(spec) <= {'config', 'base', 'about', 'ablation'}, name
        assert osp.isfile(osp.join(ROOT, spec['config'])), name
        assert spec['base'] is None or spec['base'] in table, name
        # every ablation of both tasks is marked, and only those
        assert bool(spec.get('ablation')) == (spec['about'].startswith('ablation')
                                              or name in COMBINATIONS), name
        if spec['about'].startswith('ablation'):
            assert '/ablations/' in spec['config'], name


@pytest.mark.parametrize('task, name', ROWS)
def test_every_row_builds_as_the_benchmark_runs_it(task, name, tmp_path):
    """A row whose config does not build would otherwise fail hours into a benchmark."""
    from mmengine.registry import init_default_scope
    from mmrazor.registry import MODELS
    spec = task_methods(task)[name]
    cfg, _ = write_run_config(str(tmp_path / 'run.py'), spec['config'], 40, 5)
    # the run changes its schedule and logging, and of the model only the search bounds,
    # stretched as the schedule
    written = load_config(osp.join(ROOT, spec['config']))
    model = written.model.to_dict()
    model.update(scaled_search(model, written.train_cfg.max_iters, 40))
    assert cfg.model.to_dict() == model
    # the schedule is stretched to the run: every scheduler ends by iteration 40
    schedulers = cfg.param_scheduler
    for sched in (sum(schedulers.values(), []) if isinstance(schedulers, dict) else schedulers):
        assert sched.get('end', 0) <= 40
    if '/ablations/' in spec['config']:
        return  # built, and checked for what it changes, by tests/test_configs
    init_default_scope('mmpretrain' if task == 'classification' else 'mmdet')
    if 'teacher_ckpt' in cfg.model:
        cfg.model.teacher_ckpt = None
    model = MODELS.build(cfg.model)
    if name in COMBINATIONS:
        assert COMBINATIONS[name](model), name


def test_search_bounds_are_stretched_with_the_run():
    """search_begin/search_end are iterations of the config's schedule: a run of another
    length keeps them at the same share of the run; the interval (a rate) and an open end
    stay; a bound never rounds down to 0 (which would mean 'from the start'/'no end')."""
    assert scaled_search(dict(search_interval=10, search_end=1500), 6000,
                         40) == dict(search_end=10)
    assert scaled_search(dict(search_begin=600, search_end=1500), 6000, 12000) == dict(
        search_begin=1200, search_end=3000)
    assert scaled_search(dict(search_end=1500), 6000, 2) == dict(search_end=1)
    assert scaled_search(dict(search_interval=5, search_end=None, search_begin=0), 6000, 40) == {}
    assert scaled_search(None, 6000, 40) == {}


def test_a_run_searches_over_the_same_share_of_its_length(tmp_path):
    """The short-search row searches over its first quarter at any run length: at 40
    iterations it ends at 10, so with its interval of 10 the only policy step is the first;
    at the config's own 6000 it is as written."""
    from mmengine.registry import init_default_scope
    from mmrazor.registry import MODELS
    spec = task_methods('detection')['sokd_cwd_search_short']
    cfg, _ = write_run_config(str(tmp_path / 'run.py'), spec['config'], 40, 5)
    assert (cfg.model.search_interval, cfg.model.search_end) == (10, 10)
    with open(tmp_path / 'run.py') as f:
        assert 'model = dict(search_end=10)' in f.read().splitlines()
    init_default_scope('mmdet')
    cfg.model.teacher_ckpt = None
    model = MODELS.build(cfg.model)
    assert [it for it in range(40) if model.search_at(it)] == [0]
    cfg, _ = write_run_config(str(tmp_path / 'full.py'), spec['config'], 6000, 5)
    assert (cfg.model.search_interval, cfg.model.search_end) == (10, 1500)
