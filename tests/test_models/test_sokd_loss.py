"""The SoKD loss wrapper and the masked distillation loss (L_DA)."""
import pytest
import torch
from mmrazor.models import ChannelWiseDivergence, L2Loss
from mmrazor.registry import MODELS

from sokd_mmdet.models.losses import masked_distill_loss


def _feats(seed=0, n=2, c=4, h=6, w=5):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, c, h, w, generator=g), torch.randn(n, c, h, w, generator=g),
            (torch.rand(n, 1, h, w, generator=g) > 0.6).float())


def test_masked_l2_is_the_mean_over_the_masked_positions():
    s, t, mask = _feats()
    l2 = L2Loss(normalize=False, div_element=True)
    got = masked_distill_loss(l2, s, t, mask, area_normalize=True)
    sq = ((s - t)**2) * mask  # (N, C, H, W), zero outside the mask
    expected = sq.sum() / (mask.sum() * s.shape[1])
    torch.testing.assert_close(got, expected)
    # without normalisation it is the whole-map mean of the masked error
    got_raw = masked_distill_loss(l2, s, t, mask, area_normalize=False)
    torch.testing.assert_close(got_raw, sq.sum() / s.numel())


def test_masked_loss_has_no_gradient_outside_the_mask_and_none_into_it():
    s, t, mask = _feats(1)
    s.requires_grad_()
    mask.requires_grad_()
    masked_distill_loss(L2Loss(normalize=False, div_element=True), s, t, mask).backward()
    outside = (mask == 0).expand_as(s)
    assert torch.all(s.grad[outside] == 0)
    assert torch.any(s.grad[~outside] != 0)
    assert mask.grad is None


def test_empty_mask_gives_zero():
    s, t, _ = _feats(2)
    out = masked_distill_loss(L2Loss(normalize=False, div_element=True), s, t,
                              torch.zeros(2, 1, 6, 5))
    assert out.item() == 0.0


def test_wrapper_without_dam_is_the_base_loss():
    s, t, _ = _feats(3)
    wrapped = MODELS.build(dict(_scope_='mmrazor', type='SoKDLoss', full_weight=1.0,
                                base_loss=dict(type='ChannelWiseDivergence', tau=1,
                                               loss_weight=10)))
    out = wrapped(s, t)
    assert set(out) == {'loss'}
    torch.testing.assert_close(out['loss'], ChannelWiseDivergence(tau=1, loss_weight=10)(s, t))
    torch.testing.assert_close(wrapped.base_forward(s, t), out['loss'])


@pytest.mark.parametrize('supervision', ['mutual', 'gt'])
def test_wrapper_with_dam_terms(supervision):
    torch.manual_seed(0)
    s, t, _ = _feats(4, c=8, h=16, w=16)
    dam = MODELS.build(dict(_scope_='mmrazor', type='DAM', in_channels=8, feat_channels=4, topk=3,
                            supervision=supervision))
    wrapped = MODELS.build(dict(_scope_='mmrazor', type='SoKDLoss', masked_weight=2.0, align_weight=0.5,
                                base_loss=dict(type='L2Loss', normalize=False,
                                               div_element=True)))
    gt = [torch.tensor([[10., 10., 40., 50.]]), torch.zeros(0, 4)]
    out = wrapped(s, t, dam=dam, gt_bboxes=gt, stride=4.0)
    expected = {'masked', 'align'} | ({'dam_gt_heatmap', 'dam_gt_wh', 'dam_gt_offset'}
                                      if supervision == 'gt' else set())
    assert set(out) == expected
    out_s, out_t = dam(s), dam(t)
    torch.testing.assert_close(out['align'], 0.5 * dam.loss_align(out_s, out_t))
    mask = dam.masks(out_s, out_t)
    torch.testing.assert_close(
        out['masked'],
        2.0 * masked_distill_loss(L2Loss(normalize=False, div_element=True), s, t, mask))
    total = sum(out.values())
    total.backward()
    assert all(p.grad is not None for p in dam.parameters())
