"""TST and TST + SoKD on tiny RetinaNets (64 px): the augmenter step touches only the
augmenter, a training step moves the student and the augmenter but not the teacher, and the
student trains on the original plus the augmented batch."""
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from mmrazor.registry import MODELS

from conftest import config_path

TST_CWD = 'quickstart/tst_cwd_retinanet_r34_r18_shapes.py'
TST_SOKD = 'quickstart/tst_sokd_cwd_retinanet_r34_r18_shapes.py'
SIZE = 64


def _build(name, **overrides):
    init_default_scope('mmdet')
    cfg = Config.fromfile(config_path(name))
    cfg.model.teacher_ckpt = None  # a random teacher is enough here
    cfg.model.update(overrides)
    assert cfg.model._scope_ == 'mmrazor'
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.train()
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def _batch(n=2):
    """Raw (un-preprocessed) images with two boxes each, as the data loader gives them."""
    g = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(n):
        inputs.append(torch.randint(0, 256, (3, SIZE, SIZE), generator=g, dtype=torch.uint8))
        s = DetDataSample(
            metainfo=dict(img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE), scale_factor=(1.0, 1.0)))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[8.0, 8.0, 30.0, 40.0], [30.0, 20.0, 60.0, 50.0]]),
            labels=torch.tensor([1, 3]))
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def _state(module):
    return {n: t.detach().clone() for n, t in module.state_dict().items()}


def _changed(before, module):
    return {n for n, t in module.state_dict().items() if not torch.equal(before[n], t)}


def _moved_params(before, module):
    return {n for n, p in module.named_parameters() if not torch.equal(before[n], p)}


def test_augmenter_step_updates_only_the_augmenter():
    model, optim = _build(TST_CWD)
    dp = model.data_preprocessor  # the augmenter un-normalises with the preprocessor's stats
    torch.testing.assert_close(model.augmenter.mean, dp.mean.flatten())
    torch.testing.assert_close(model.augmenter.std, dp.std.flatten())
    assert model.augmenter.rgb  # bgr_to_rgb=True in the quickstart preprocessor
    data = model.data_preprocessor(_batch(), True)
    student, teacher = _state(model.architecture), _state(model.teacher)
    augmenter = _state(model.augmenter)
    model.augmenter.resample(2)
    log = model.augmenter_step(data['inputs'], data['data_samples'], optim['augmenter'])
    # nothing of the student or the teacher moved: weights, BN statistics, gradients, optimiser
    assert not _changed(student, model.architecture)
    assert not _changed(teacher, model.teacher)
    assert all(p.grad is None for p in model.architecture.parameters())
    assert all(p.grad is None for p in model.teacher.parameters())
    assert not optim['student'].optimizer.state
    assert _moved_params(augmenter, model.augmenter) == {'prob_offsets', 'magnitude_offsets'}
    # the objective is "teacher right, student wrong"
    for key in ('augmenter/teacher_loss', 'augmenter/student_loss'):
        assert torch.isfinite(log[key]) and log[key] > 0
    torch.testing.assert_close(log['augmenter/objective'],
                               log['augmenter/teacher_loss'] - log['augmenter/student_loss'])


def test_tst_train_step_trains_student_and_augmenter_on_both_batches():
    model, optim = _build(TST_CWD)
    seen = []
    loss = model.loss

    def recording_loss(inputs, samples):
        seen.append((inputs.detach().clone(), samples))
        return loss(inputs, samples)

    model.loss = recording_loss
    student, teacher = _state(model.architecture), _state(model.teacher)
    augmenter = _state(model.augmenter)
    log = model.train_step(_batch(), optim)
    assert _changed(student, model.architecture)
    assert not _changed(teacher, model.teacher)
    assert _moved_params(augmenter, model.augmenter) == {'prob_offsets', 'magnitude_offsets'}
    assert all(torch.isfinite(v) for v in log.values())
    assert {'augmenter/objective', 'augmenter/applied_ops', 'distill.loss_fpn0'} <= set(log)

    # the distillation step saw the preprocessed batch followed by its augmented copy
    (inputs, samples), = seen
    original = model.data_preprocessor(_batch(), True)
    assert inputs.shape == (4, 3, SIZE, SIZE) and len(samples) == 4
    torch.testing.assert_close(inputs[:2], original['inputs'])
    for i in range(2):
        assert samples[i].gt_instances is not None
        torch.testing.assert_close(samples[i].gt_instances.bboxes,
                                   original['data_samples'][i].gt_instances.bboxes)
    assert log['augmenter/applied_ops'] > 0  # 11 ops at p = 0.2: the copy differs
    assert not torch.allclose(inputs[2:], inputs[:2], atol=1e-3)


def test_augment_interval_schedules_the_augmenter_steps():
    model, optim = _build(TST_CWD, augment_interval=2)
    stepped = []
    for _ in range(3):
        before = _state(model.augmenter)
        log = model.train_step(_batch(), optim)
        stepped.append('augmenter/objective' in log)
        assert bool(_moved_params(before, model.augmenter)) == stepped[-1]
    assert stepped == [True, False, True]
    assert int(model.augment_iter) == 3


def test_missing_augmenter_optimiser_is_a_clear_error():
    model, optim = _build(TST_CWD)
    with pytest.raises(KeyError, match='"augmenter"'):
        model.train_step(_batch(), optim['student'])


def test_tst_sokd_train_step_trains_student_policy_and_augmenter_not_teacher():
    model, optim = _build(TST_SOKD)
    assert not any(n.startswith('augmenter.') for n in model.student_side_parameters())
    seen = []
    loss = model.loss
    model.loss = lambda inputs, samples: seen.append(len(samples)) or loss(inputs, samples)
    student, teacher = _state(model.architecture), _state(model.teacher)
    augmenter, dafa = _state(model.augmenter), _state(model.distiller.dafa)
    log = model.train_step(_batch(), optim)
    assert _changed(student, model.architecture)
    assert not _changed(teacher, model.teacher)
    assert _moved_params(augmenter, model.augmenter) == {'prob_offsets', 'magnitude_offsets'}
    assert {'weights', 'probs'} <= _changed(dafa, model.distiller.dafa)  # SoKD's policy step
    assert torch.isfinite(log['policy/reward']) and torch.isfinite(log['augmenter/objective'])
    assert seen == [4]  # SoKD's step ran on the original + augmented batch
    assert int(model.train_iter) == 1 and int(model.augment_iter) == 1
