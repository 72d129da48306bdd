"""ATF's registered loss: shapes of classifier logits and dense-head maps, weights, errors."""
import pytest
import torch
from mmrazor.registry import MODELS

from sokd_mmdet.models.atf import (AlphaDivergenceLoss, bernoulli_alpha_divergence,
                                   categorical_alpha_divergence, standardize_logits)


def _maps(seed=0, n=2, a=3, c=4, h=5, w=6):
    g = torch.Generator().manual_seed(seed)
    return (2 * torch.randn(n, a * c, h, w, generator=g) - 3,
            2 * torch.randn(n, a * c, h, w, generator=g) - 3)


def _mmdet_rows(maps, c):
    """(N*H*W*A, C): the rows mmdet's AnchorHead scores with its classification loss."""
    return maps.permute(0, 2, 3, 1).reshape(-1, c)


def test_built_from_the_registry():
    loss = MODELS.build(
        dict(
            _scope_='mmrazor',
            type='AlphaDivergenceLoss',
            alpha=0.3,
            kind='bernoulli',
            normalize=None,
            num_classes=4))
    assert isinstance(loss, AlphaDivergenceLoss) and loss.alpha == 0.3


@pytest.mark.parametrize('kind,divergence', [('bernoulli', bernoulli_alpha_divergence),
                                             ('categorical', categorical_alpha_divergence)])
def test_dense_map_is_the_mean_over_anchors_of_the_per_anchor_divergence(kind, divergence):
    s, t = _maps()
    loss = AlphaDivergenceLoss(
        alpha=0.7, tau=2.0, kind=kind, normalize=None, num_classes=4, loss_weight=3.0)
    value = loss(s, t)
    assert value.shape == ()
    per_anchor = divergence(_mmdet_rows(t, 4) / 2.0, _mmdet_rows(s, 4) / 2.0, 0.7)
    assert per_anchor.shape == (2 * 5 * 6 * 3, )
    torch.testing.assert_close(value, 3.0 * 2.0**2 * per_anchor.mean())


def test_forward_is_the_divergence_from_the_teacher_to_the_student():
    s, t = _maps(1)
    loss = AlphaDivergenceLoss(alpha=1.0, kind='bernoulli', normalize=None, num_classes=4)
    ps, pt = torch.sigmoid(_mmdet_rows(s, 4)), torch.sigmoid(_mmdet_rows(t, 4))
    kl_t_s = (pt * (pt / ps).log() + (1 - pt) * ((1 - pt) / (1 - ps)).log()).sum(-1).mean()
    torch.testing.assert_close(loss(preds_S=s, preds_T=t), kl_t_s)
    assert abs(float(loss(preds_S=t, preds_T=s) - kl_t_s)) > 1e-3  # KL is asymmetric here
    # divergence(target, pred, alpha) with another order: alpha=0 is KL(pred || target)
    torch.testing.assert_close(loss.divergence(s, t, alpha=0.0), kl_t_s)


def test_classifier_logits_with_zscore():
    g = torch.Generator().manual_seed(2)
    s, t = torch.randn(8, 10, generator=g), 5 * torch.randn(8, 10, generator=g) + 2
    loss = AlphaDivergenceLoss(
        alpha=0.5, tau=4.0, kind='categorical', normalize='zscore', num_classes=10)
    expected = 16.0 * categorical_alpha_divergence(
        standardize_logits(t, 4.0), standardize_logits(s, 4.0), 0.5).mean()
    torch.testing.assert_close(loss(s, t), expected)
    # standardisation: a teacher that is only more confident (scaled, shifted logits)
    # teaches the same thing
    torch.testing.assert_close(loss(s, 3 * t + 1), loss(s, t), rtol=1e-5, atol=1e-6)
    # without it, it does not
    plain = AlphaDivergenceLoss(alpha=0.5, tau=4.0, normalize=None)
    assert abs(float(plain(s, 3 * t + 1) - plain(s, t))) > 1e-2


def test_no_side_is_detached_by_the_loss():
    s, t = _maps(3)
    s.requires_grad_()
    t.requires_grad_()
    AlphaDivergenceLoss(kind='bernoulli', normalize=None, num_classes=4)(s, t).backward()
    assert s.grad.abs().sum() > 0 and t.grad.abs().sum() > 0


def test_user_errors_are_named():
    s, t = _maps()
    with pytest.raises(ValueError, match='objectness'):
        AlphaDivergenceLoss(kind='bernoulli', normalize='zscore')
    with pytest.raises(ValueError, match='kind'):
        AlphaDivergenceLoss(kind='softmax')
    with pytest.raises(ValueError, match='set num_classes'):
        AlphaDivergenceLoss(kind='bernoulli', normalize=None)(s, t)
    with pytest.raises(ValueError, match='differ in shape'):
        AlphaDivergenceLoss(kind='bernoulli', normalize=None, num_classes=4)(s, t[:, :8])
