"""The SoKD loss wrapper and the masked distillation loss (L_DA)."""
import pytest
import torch
from mmrazor.models import ChannelWiseDivergence, L2Loss
from mmrazor.registry import MODELS

from sokd_mmdet.models.sokd import masked_distill_loss


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
    out = masked_distill_loss(
        L2Loss(normalize=False, div_element=True), s, t, torch.zeros(2, 1, 6, 5))
    assert out.item() == 0.0


def test_wrapper_without_dam_is_the_base_loss():
    s, t, _ = _feats(3)
    wrapped = MODELS.build(
        dict(
            _scope_='mmrazor',
            type='SoKDLoss',
            full_weight=1.0,
            base_loss=dict(type='ChannelWiseDivergence', tau=1, loss_weight=10)))
    out = wrapped(s, t)
    assert set(out) == {'loss'}
    assert wrapped.last_mask_area is None  # no DAM, no mask
    torch.testing.assert_close(out['loss'], ChannelWiseDivergence(tau=1, loss_weight=10)(s, t))
    torch.testing.assert_close(wrapped.base_forward(s, t), out['loss'])


@pytest.mark.parametrize('supervision', ['mutual', 'gt'])
def test_wrapper_with_dam_terms(supervision):
    torch.manual_seed(0)
    s, t, _ = _feats(4, c=8, h=16, w=16)
    dam = MODELS.build(
        dict(
            _scope_='mmrazor',
            type='DAM',
            in_channels=8,
            feat_channels=4,
            topk=3,
            supervision=supervision))
    wrapped = MODELS.build(
        dict(
            _scope_='mmrazor',
            type='SoKDLoss',
            masked_weight=2.0,
            align_weight=0.5,
            base_loss=dict(type='L2Loss', normalize=False, div_element=True)))
    gt = [torch.tensor([[10., 10., 40., 50.]]), torch.zeros(0, 4)]
    out = wrapped(s, t, dam=dam, gt_bboxes=gt, stride=4.0)
    expected = {'masked', 'align'} | ({'dam_gt_heatmap', 'dam_gt_wh', 'dam_gt_offset'}
                                      if supervision == 'gt' else set())
    assert set(out) == expected
    out_s, out_t = dam(s), dam(t)
    torch.testing.assert_close(out['align'], 0.5 * dam.loss_align(out_s, out_t))
    mask = dam.masks(out_s, out_t)
    assert 0 < mask.sum() < mask.numel()
    torch.testing.assert_close(wrapped.last_mask_area, mask.mean())  # logged by the algorithm
    torch.testing.assert_close(
        out['masked'],
        2.0 * masked_distill_loss(L2Loss(normalize=False, div_element=True), s, t, mask))
    total = sum(out.values())
    total.backward()
    assert all(p.grad is not None for p in dam.parameters())


@pytest.mark.parametrize('to_features', [True, False])
def test_dam_gt_losses_reach_the_features_only_when_asked(to_features):
    torch.manual_seed(0)
    s, t, _ = _feats(5, c=8, h=16, w=16)
    s.requires_grad_(True)
    t.requires_grad_(True)
    dam = MODELS.build(
        dict(
            _scope_='mmrazor',
            type='DAM',
            in_channels=8,
            feat_channels=4,
            topk=3,
            supervision='gt'))
    wrapped = MODELS.build(
        dict(
            _scope_='mmrazor',
            type='SoKDLoss',
            gt_to_features=to_features,
            base_loss=dict(type='L2Loss', normalize=False, div_element=True)))
    gt = [torch.tensor([[10., 10., 40., 50.]]), torch.tensor([[0., 8., 20., 30.]])]
    out = wrapped(s, t, dam=dam, gt_bboxes=gt, stride=4.0)
    gt_terms = sum(v for k, v in out.items() if k.startswith('dam_gt_'))
    # the same values either way: only where the gradient goes differs
    reference = MODELS.build(
        dict(
            _scope_='mmrazor',
            type='SoKDLoss',
            base_loss=dict(type='L2Loss', normalize=False, div_element=True)))
    ref = reference(s, t, dam=dam, gt_bboxes=gt, stride=4.0)
    torch.testing.assert_close(gt_terms, sum(v for k, v in ref.items() if k.startswith('dam_gt_')))
    grad_s, grad_t, *grad_dam = torch.autograd.grad(
        gt_terms, [s, t, *dam.parameters()], allow_unused=True, retain_graph=True)
    assert all(g is not None and g.abs().sum() > 0 for g in grad_dam[:2])  # the heads learn
    if to_features:
        assert grad_s.abs().sum() > 0 and grad_t.abs().sum() > 0
    else:
        assert grad_s is None and grad_t is None
    # the other terms still reach the student's features
    other = out['masked'] + out['align']
    assert torch.autograd.grad(other, s)[0].abs().sum() > 0


def _slow_masked_cwd(s, t, mask, tau, weight):
    """Reference: per image and channel, KL of the softmaxes over the masked cells."""
    n, c = s.shape[:2]
    total = 0.0
    for i in range(n):
        cells = mask[i, 0].flatten() > 0
        if not cells.any():
            continue
        w = mask[i, 0].flatten()[cells]
        for j in range(c):
            ps = torch.softmax(s[i, j].flatten()[cells] / tau + w.log(), 0)
            pt = torch.softmax(t[i, j].flatten()[cells] / tau + w.log(), 0)
            total = total + (pt * (pt.log() - ps.log())).sum()
    return weight * tau**2 * total / (n * c)


@pytest.mark.parametrize('weighted', [False, True])
def test_masked_softmax_cwd_matches_a_slow_reference(weighted):
    from sokd_mmdet.models.sokd.masked import masked_channel_wise_divergence
    g = torch.Generator().manual_seed(0)
    s = torch.randn(3, 4, 5, 6, generator=g, dtype=torch.float64, requires_grad=True)
    t = torch.randn(3, 4, 5, 6, generator=g, dtype=torch.float64)
    mask = (torch.rand(3, 1, 5, 6, generator=g) > 0.6).double()
    mask[2] = 0  # an empty mask: the image contributes nothing
    if weighted:
        mask = mask * torch.rand(3, 1, 5, 6, generator=g, dtype=torch.float64)
    out = masked_channel_wise_divergence(s, t, mask, tau=2.0, loss_weight=3.0)
    ref = _slow_masked_cwd(s, t, mask, 2.0, 3.0)
    torch.testing.assert_close(out, ref)
    (g_out, ) = torch.autograd.grad(out, s)
    (g_ref, ) = torch.autograd.grad(ref, s)
    torch.testing.assert_close(g_out, g_ref)
    assert torch.isfinite(g_out).all() and (g_out[2] == 0).all()


def test_masked_softmax_cwd_with_a_full_mask_is_cwd():
    from mmrazor.models.losses import ChannelWiseDivergence

    from sokd_mmdet.models.sokd.masked import masked_channel_wise_divergence
    s, t = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    cwd = ChannelWiseDivergence(tau=1.5, loss_weight=10)
    torch.testing.assert_close(
        masked_channel_wise_divergence(s, t, torch.ones(2, 1, 4, 4), 1.5, 10), cwd(s, t))
    # zero-filling keeps the masked-out cells in the softmax: another value
    mask = torch.zeros(2, 1, 4, 4)
    mask[..., :2, :2] = 1
    zero_filled = cwd(s * mask, t * mask)
    assert not torch.allclose(masked_channel_wise_divergence(s, t, mask, 1.5, 10), zero_filled)


def test_sokd_loss_masked_softmax_option():
    from sokd_mmdet.models.sokd import SoKDLoss
    with pytest.raises(ValueError, match="base_loss must be dict\\(type='ChannelWiseDivergence'"):
        SoKDLoss(dict(type='mmrazor.L2Loss'), masked_softmax=True, area_normalize=False)
    with pytest.raises(ValueError, match='set area_normalize=False'):
        SoKDLoss(dict(type='mmrazor.ChannelWiseDivergence'), masked_softmax=True)
    loss = SoKDLoss(
        dict(type='mmrazor.ChannelWiseDivergence', tau=1.0, loss_weight=10),
        masked_softmax=True,
        area_normalize=False)
    from sokd_mmdet.models.sokd.dam import DAM
    dam = DAM(in_channels=4, feat_channels=4)
    s, t = torch.randn(2, 4, 6, 6), torch.randn(2, 4, 6, 6)
    mask = torch.zeros(2, 1, 6, 6)
    mask[:, :, 1:4, 2:5] = 1
    terms = loss(s, t, dam=dam, mask=mask)
    from sokd_mmdet.models.sokd.masked import masked_channel_wise_divergence
    torch.testing.assert_close(terms['masked'],
                               masked_channel_wise_divergence(s, t, mask, 1.0, 10))
