"""TSTAugmenterLoggerHook: scalars, history (continued on resume) and the plot."""
import json
import os.path as osp
from types import SimpleNamespace

import pytest
from mmengine.logging import MessageHub
from mmrazor.registry import MODELS
from torch import nn

from sokd_mmdet.engine import TSTAugmenterLoggerHook


class _Model(nn.Module):

    def __init__(self):
        super().__init__()
        self.augmenter = MODELS.build(dict(_scope_='mmrazor', type='TSTAugmenter'))


def _runner(tmp_path, model, it, max_iters=4):
    images = []
    visualizer = SimpleNamespace(
        add_image=lambda name, image, step: images.append((name, image.shape, step)))
    return SimpleNamespace(
        model=model,
        work_dir=str(tmp_path),
        iter=it,
        max_iters=max_iters,
        message_hub=MessageHub.get_instance('test_augmenter_logger'),
        visualizer=visualizer,
        images=images)


def test_scalars_history_resume_and_plot(tmp_path):
    model = _Model()
    augmenter = model.augmenter
    hook = TSTAugmenterLoggerHook(interval=2)
    hook.before_train(_runner(tmp_path, model, 0))
    for it in range(4):  # records after iterations 2 and 4 (the last)
        runner = _runner(tmp_path, model, it)
        if it == 2:  # the augmenter learns: the next record shows it
            for p in augmenter.parameters():
                p.data.add_(0.5)
        hook.after_train_iter(runner, it)
    summary = augmenter.policy_summary()
    op = augmenter.op_names[0]
    hub = runner.message_hub
    assert hub.get_scalar(f'train/augmenter/prob/{op}').current() == pytest.approx(
        summary['prob'][op])
    assert hub.get_scalar(f'train/augmenter/magnitude/{op}').current() == pytest.approx(
        summary['magnitude'][op])
    with open(osp.join(str(tmp_path), 'augmenter_history.json')) as f:
        history = json.load(f)
    assert [h['iter'] for h in history] == [2, 4]
    assert history[1]['apply_prob'] == pytest.approx(summary['prob'])
    assert history[0]['apply_prob'][op] != pytest.approx(history[1]['apply_prob'][op])
    # a run resumed at iteration 2 keeps the records up to it
    resumed = TSTAugmenterLoggerHook(interval=2)
    resumed.before_train(_runner(tmp_path, model, 2))
    assert [h['iter'] for h in resumed.history] == [2]
    hook.after_train(runner)
    assert osp.getsize(osp.join(str(tmp_path), 'augmenter.png')) > 1000
    ((name, shape, step), ) = runner.images
    assert name == 'tst_augmenter' and shape[2] == 3 and step == 3


def test_models_without_an_augmenter_are_ignored(tmp_path):
    hook = TSTAugmenterLoggerHook(interval=1)
    hook.after_train_iter(_runner(tmp_path, nn.Linear(1, 1), 0), 0)
    assert not osp.exists(osp.join(str(tmp_path), 'augmenter_history.json'))
