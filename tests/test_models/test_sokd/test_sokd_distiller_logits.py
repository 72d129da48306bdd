"""The distiller on a classifier: logits pass DAFA untouched unless refined through the head."""
import pytest
import torch
from mmpretrain.structures import DataSample
from mmrazor.registry import MODELS


def _classifier(width):
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(
            type='ResNet_CIFAR', depth=18, base_channels=width, num_stages=4, out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=6, in_channels=8 * width))


def _sokd(refine=True, **distiller):
    cfg = dict(
        _scope_='mmrazor',
        type='SoKD',
        teacher_forward='loss',
        data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=6),
        architecture=_classifier(4),
        teacher=_classifier(8),
        distiller=dict(
            type='SoKDDistiller',
            # Noise only, applied with probability ~1: a draw always changes the stage
            dafa=dict(type='DAFA', ops=('Noise', ), num_ops=1, init_prob=1 - 1e-3),
            student_recorders=dict(
                bb=dict(type='ModuleOutputs', source='backbone.layer4'),
                fc=dict(type='ModuleOutputs', source='head.fc')),
            teacher_recorders=dict(
                bb=dict(type='ModuleOutputs', source='backbone.layer4'),
                fc=dict(type='ModuleOutputs', source='head.fc')),
            distill_losses=dict(loss_kl=dict(type='KLDivergence', tau=4, teacher_detach=False)),
            loss_forward_mappings=dict(
                loss_kl=dict(
                    preds_S=dict(from_student=True, recorder='fc'),
                    preds_T=dict(from_student=False, recorder='fc')))))
    if refine:
        cfg['distiller']['refine_logits'] = dict(fc=dict(feature='bb', head=('neck', 'head.fc')))
    cfg['distiller'].update(distiller)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def _batch(n=4):
    samples = [DataSample().set_gt_label(i % 6) for i in range(n)]
    return torch.rand(n, 3, 32, 32), samples


def _teacher_records(model):
    recorders = model.distiller.teacher_recorders
    return recorders.get_recorder('bb').get_record_data(), \
        recorders.get_recorder('fc').get_record_data()


def test_refined_logits_are_the_teacher_head_on_the_refined_stage():
    model = _sokd()
    inputs, samples = _batch()
    model.loss(inputs, samples)
    distiller, teacher = model.distiller, model.teacher
    feat, logits = _teacher_records(model)
    refined_feat = distiller.get_record('bb', from_student=False)
    refined = distiller.get_record('fc', from_student=False)
    assert not torch.allclose(refined_feat, feat)  # the draw applied Noise
    expected = teacher.head.fc(teacher.neck(refined_feat))
    torch.testing.assert_close(refined, expected)
    assert refined.shape == logits.shape == (4, 6)
    assert not torch.allclose(refined, logits)
    # the outer objective reads the teacher's own logits
    torch.testing.assert_close(
        distiller.get_record('fc', from_student=False, augment=False), logits)
    # and the raw logits are what the teacher's head gives on the raw stage
    torch.testing.assert_close(teacher.head.fc(teacher.neck(feat)), logits)


def test_kd_on_refined_logits_sends_a_gradient_to_the_magnitudes():
    model = _sokd()
    inputs, samples = _batch()
    losses = model.loss(inputs, samples)
    (grad, ) = torch.autograd.grad(losses['distill.loss_kl'], [model.distiller.dafa.magnitudes])
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_unrefined_logits_pass_dafa_untouched():
    model = _sokd(refine=False)
    inputs, samples = _batch()
    losses = model.loss(inputs, samples)
    _, logits = _teacher_records(model)
    assert model.distiller.get_record('fc', from_student=False) is logits
    assert not losses['distill.loss_kl'].requires_grad or torch.autograd.grad(
        losses['distill.loss_kl'], [model.distiller.dafa.magnitudes], allow_unused=True)[0] is None
    # without a draw that changes anything, refined and raw logits agree
    model = _sokd()
    model.distiller.dafa.enabled = False
    model.loss(inputs, samples)
    _, logits = _teacher_records(model)
    torch.testing.assert_close(model.distiller.get_record('fc', from_student=False), logits)


@pytest.mark.parametrize('refine, match', [
    (dict(fc=dict(feature='stage4', head='head.fc')), "'stage4' is not a teacher recorder"),
    (dict(logits=dict(feature='bb', head='head.fc')), "'logits' is not a teacher recorder"),
    (dict(fc=dict(feature='bb')), 'takes feature=, head='),
    (dict(fc=dict(feature='bb', head=('neck', 'head.classifier'))),
     "the teacher has no module 'head.classifier'"),
])
def test_refine_logits_config_errors(refine, match):
    with pytest.raises(ValueError, match=match):
        _sokd(refine=False, refine_logits=refine)


def test_a_detached_kd_target_is_refused():
    with pytest.raises(ValueError, match='loss_kl reads refined teacher logits but detaches'):
        _sokd(distill_losses=dict(loss_kl=dict(type='KLDivergence', tau=4)))
