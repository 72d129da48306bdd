"""The ATF algorithm on a tiny RetinaNet pair: who updates what, BN, schedule, errors."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapperDict, build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmrazor.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from conftest import config_path, shrink_retinanet, tiny_options
from sokd_mmdet.models.atf import anchor_class_logits, bernoulli_alpha_divergence

ATF_CFG = 'quickstart/atf_retinanet_r34_r18_shapes.py'
IMG = 64
WIDTH = 8  # ResNet base channels: stages of 8/16/32/64, FPN and head of 16

pytestmark = pytest.mark.usefixtures('one_thread')


def _config(tiny_data, tmp_path, **model):
    init_default_scope('mmdet')
    cfg = Config.fromfile(config_path(ATF_CFG))
    cfg.merge_from_dict(tiny_options(tiny_data, str(tmp_path)))
    cfg.train_dataloader.dataset.pipeline[2].scale = (IMG, IMG)
    cfg.model.teacher_ckpt = None
    shrink_retinanet(cfg.model.architecture, WIDTH)
    shrink_retinanet(cfg.model.teacher, WIDTH)
    # the teacher learns at the student's rate here, so that one step is plainly visible
    cfg.optim_wrapper.teacher.optimizer.lr = 1e-3
    cfg.model.update(model)
    return cfg


def _build(cfg, optim_cfg=None):
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    optim = build_optim_wrapper(model, optim_cfg or cfg.optim_wrapper)
    return model, optim


@pytest.fixture(scope='module')
def batch(tiny_data, tmp_path_factory):
    cfg = _config(tiny_data, tmp_path_factory.mktemp('atf'))
    return next(iter(Runner.build_dataloader(cfg.train_dataloader, seed=0)))


def _snapshot(module):
    return {n: t.detach().clone() for n, t in module.state_dict().items()}


def _changed(before, module):
    """Names of the state entries of ``module`` that differ from ``before``."""
    return {n for n, t in module.state_dict().items() if not torch.equal(before[n], t)}


def _bn_stats(module):
    return {
        f'{n}.{s}'
        for n, m in module.named_modules() if isinstance(m, _BatchNorm)
        for s in ('running_mean', 'running_var', 'num_batches_tracked')
    }


def test_atf_step_updates_teacher_and_student(tiny_data, tmp_path, batch):
    model, optim = _build(_config(tiny_data, tmp_path))
    teacher, student = _snapshot(model.teacher), _snapshot(model.architecture)
    log = model.train_step(copy.deepcopy(batch), optim)
    moved_teacher = _changed(teacher, model.teacher)
    # the teacher's head, neck and backbone all moved: task loss and divergence both reach it
    # (all but the stem and first stage, which the configs freeze: frozen_stages=1)
    for part in ('bbox_head.retina_cls.weight', 'bbox_head.retina_reg.weight',
                 'neck.fpn_convs.0.conv.weight', 'backbone.layer2.0.conv1.weight'):
        assert part in moved_teacher
    assert not any(k.startswith(('backbone.conv1.', 'backbone.layer1.')) for k in moved_teacher)
    assert 'bbox_head.retina_cls.weight' in _changed(student, model.architecture)
    for key in ('teacher.loss', 'teacher.loss_cls', 'teacher.distill.loss_atf0',
                'distill.loss_atf0', 'distill.loss_fpn0', 'student.loss_cls'):
        assert torch.isfinite(torch.as_tensor(log[key])), key
    # BN: statistics frozen (eval mode), affine parameters fine-tuned
    assert not (moved_teacher & _bn_stats(model.teacher))
    assert 'backbone.layer2.0.bn1.weight' in moved_teacher
    assert all(not m.training for m in model.teacher.modules() if isinstance(m, _BatchNorm))
    # and the student's as its config says: statistics kept (norm_eval=True, pretrained)
    assert not (_changed(student, model.architecture) & _bn_stats(model.architecture))

    # the same step without a teacher update: the teacher stays, and the student's step is
    # exactly the same (nothing of the teacher's objective reaches the student)
    idle, idle_optim = _build(_config(tiny_data, tmp_path, teacher_begin=10**9))
    log = idle.train_step(copy.deepcopy(batch), idle_optim)
    assert 'teacher.loss' not in log
    assert not _changed(teacher, idle.teacher)
    for name, value in _snapshot(idle.architecture).items():
        torch.testing.assert_close(
            value, model.architecture.state_dict()[name], rtol=0, atol=0, msg=name)


def test_plain_distillation_step_leaves_the_teacher_unchanged(tiny_data, tmp_path, batch):
    """The same losses with MMRazor's SingleTeacherDistill and its frozen teacher."""
    cfg = _config(tiny_data, tmp_path)
    for key in ('teacher_weight', 'teacher_task_weight', 'teacher_alpha'):
        cfg.model.pop(key)
    cfg.model.type = 'SingleTeacherDistill'
    model, optim = _build(cfg, dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3)))
    teacher, student = _snapshot(model.teacher), _snapshot(model.architecture)
    log = model.train_step(copy.deepcopy(batch), optim)
    assert torch.isfinite(log['distill.loss_atf0'])
    assert not _changed(teacher, model.teacher)
    assert 'bbox_head.retina_cls.weight' in _changed(student, model.architecture)


def test_teacher_bn_statistics_follow_teacher_norm_eval(tiny_data, tmp_path, batch):
    """With teacher_norm_eval=False the teacher's BN re-estimates its statistics on the
    batch (the alternative the docstring argues against); the default keeps them. The
    backbone's own norm_eval (True in the configs, as for pretrained weights) keeps them
    either way, so it is off here."""
    cfg = _config(tiny_data, tmp_path, teacher_norm_eval=False)
    cfg.model.teacher.backbone.norm_eval = False
    model, optim = _build(cfg)
    before = _snapshot(model.teacher)
    model.train_step(copy.deepcopy(batch), optim)
    moved = _changed(before, model.teacher)
    assert 'backbone.layer2.0.bn1.running_mean' in moved
    # the frozen first stage keeps its statistics either way (mmdet's ResNet: frozen_stages)
    assert 'backbone.layer1.0.bn1.running_mean' not in moved


def test_objectives_are_separated(tiny_data, tmp_path, batch):
    """The student's objective has no gradient into the teacher and the teacher's none into
    the student; the teacher's divergence term is D_alpha'(p_S || p_T) with alpha' =
    teacher_alpha, weighted by teacher_weight; its task loss is weighted by
    teacher_task_weight."""
    model, _ = _build(
        _config(
            tiny_data, tmp_path, teacher_alpha=0.8, teacher_weight=0.5, teacher_task_weight=0.25))
    # two random detectors give almost the same class probabilities, and divergences of any
    # order agree to second order near p_S = p_T: shifting the teacher's class biases (up to
    # +-2 logits) puts the two far enough apart for the orders to differ plainly
    bias = model.teacher.bbox_head.retina_cls.bias
    with torch.no_grad():
        bias.add_(torch.linspace(-2.0, 2.0, bias.numel()))
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    losses = model._losses(data['inputs'], data['data_samples'], update_teacher=True)
    teacher_terms = {k: v for k, v in losses.items() if k.startswith('teacher.')}
    student_loss = model.parse_losses({
        k: v
        for k, v in losses.items() if k not in teacher_terms
    })[0]
    teacher_loss = model.parse_losses(teacher_terms)[0]
    t_params = [p for p in model.teacher.parameters() if p.requires_grad]
    s_params = [p for p in model.architecture.parameters() if p.requires_grad]
    grads = torch.autograd.grad(student_loss, t_params, allow_unused=True, retain_graph=True)
    assert all(g is None for g in grads)
    grads = torch.autograd.grad(teacher_loss, s_params, allow_unused=True, retain_graph=True)
    assert all(g is None for g in grads)
    cls_grad = torch.autograd.grad(teacher_terms['teacher.distill.loss_atf0'],
                                   model.teacher.bbox_head.retina_cls.weight)[0]
    assert cls_grad.abs().sum() > 0
    # the value, from the recorded logits of level 0
    get = model.distiller.get_record
    s = get(recorder='cls', from_student=True, record_idx=0)
    t = get(recorder='cls', from_student=False, record_idx=0)
    loss = model.distiller.distill_losses['loss_atf0']
    expected = 0.5 * loss.loss_weight * bernoulli_alpha_divergence(
        anchor_class_logits(s, 6), anchor_class_logits(t, 6), 0.8).mean()
    torch.testing.assert_close(
        teacher_terms['teacher.distill.loss_atf0'], expected, rtol=1e-5, atol=0)
    # another order than the student's side, and the check above tells them apart: with the
    # shifted biases the student's order gives a value more than 1% away
    assert not torch.allclose(expected.detach(), 0.5 * loss(s, t).detach(), rtol=1e-2, atol=0)
    with torch.no_grad():
        task = model.teacher(data['inputs'], data['data_samples'], mode='loss')
    for key in ('loss_cls', 'loss_bbox'):
        torch.testing.assert_close(
            sum(losses[f'teacher.{key}']).detach(), 0.25 * sum(task[key]), rtol=1e-5, atol=0)


def test_teacher_update_schedule(tiny_data, tmp_path):
    model, _ = _build(
        _config(tiny_data, tmp_path, teacher_interval=2, teacher_begin=1, teacher_end=6))
    assert [model.teacher_update_at(i)
            for i in range(8)] == [False, True, False, True, False, True, False, False]


def test_missing_teacher_optimiser_and_frozen_teacher_are_clear_errors(tiny_data, tmp_path, batch):
    cfg = _config(tiny_data, tmp_path)
    model, optim = _build(cfg)
    with pytest.raises(
            KeyError, match='ATF needs an optim_wrapper entry named "teacher" .it fine-tunes'):
        model.train_step(copy.deepcopy(batch), OptimWrapperDict(student=optim['student']))
    with pytest.raises(
            KeyError, match='ATF needs an optim_wrapper entry named "teacher" .it fine-tunes'):
        model.train_step(copy.deepcopy(batch), optim['student'])
    with pytest.raises(ValueError, match='teacher_trainable must be True'):
        MODELS.build(dict(cfg.model, teacher_trainable=False))
    frozen = MODELS.build(cfg.model.teacher)
    frozen.requires_grad_(False)
    with pytest.raises(ValueError, match='every teacher parameter has requires_grad=False'):
        MODELS.build(dict(cfg.model, teacher=frozen))
    no_atf = copy.deepcopy(cfg.model)
    for i in range(5):
        no_atf.distiller.distill_losses.pop(f'loss_atf{i}')
        no_atf.distiller.loss_forward_mappings.pop(f'loss_atf{i}')
    with pytest.raises(ValueError, match='at least one AlphaDivergenceLoss'):
        MODELS.build(no_atf)


def test_head_only_fine_tuning(tiny_data, tmp_path, batch):
    """teacher_trainable_modules=('bbox_head',): only the head moves, as in ATF + SoKD."""
    model, optim = _build(_config(tiny_data, tmp_path, teacher_trainable_modules=('bbox_head', )))
    assert {n.split('.')[0]
            for n, p in model.teacher.named_parameters() if p.requires_grad} == {'bbox_head'}
    teacher = _snapshot(model.teacher)
    log = model.train_step(copy.deepcopy(batch), optim)
    moved = _changed(teacher, model.teacher)
    assert {'bbox_head.retina_cls.weight', 'bbox_head.retina_reg.weight'} <= moved
    assert all(n.startswith('bbox_head.') for n in moved)
    assert torch.isfinite(log['teacher.loss'])
    cfg = _config(tiny_data, tmp_path)
    with pytest.raises(ValueError, match="the teacher has no module 'head'"):
        MODELS.build(dict(cfg.model, teacher_trainable_modules=('head', )))
    with pytest.raises(ValueError, match='teacher_trainable_modules is empty'):
        MODELS.build(dict(cfg.model, teacher_trainable_modules=()))
