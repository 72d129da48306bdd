"""The benchmark's rows (benchmark/methods.py): each names a config, and a run of it builds."""
import os.path as osp

import pytest

from benchmark.methods import CLS_METHODS, METHODS, task_methods
from benchmark.run_config import load_config, write_run_config
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
    # the run changes its schedule and logging, never the model
    assert cfg.model.to_dict() == load_config(osp.join(ROOT, spec['config'])).model.to_dict()
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
