"""The DAM module: heads, alignment, masks, gt fitting (sokd_mmdet/models/sokd/dam/dam.py)."""
import math

import pytest
import torch

import sokd_mmdet  # noqa: F401  (compat layer first: mmrazor does not import without it)

# isort: split
from mmrazor.registry import MODELS

from sokd_mmdet.models.sokd.dam import DAM

IN_CH = 8


def build(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(
        dict(_scope_='mmrazor', type='DAM', in_channels=IN_CH, feat_channels=4, **kwargs))


def feats(seed, n=2, h=6, w=9):
    return torch.randn(n, IN_CH, h, w, generator=torch.Generator().manual_seed(seed))


def box_iou(a, b):
    iw = (min(a[2], b[2]) - max(a[0], b[0])).clamp_min(0)
    ih = (min(a[3], b[3]) - max(a[1], b[1])).clamp_min(0)
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_build_and_config_errors():
    dam = build()
    assert isinstance(dam, DAM)
    assert (dam.topk, dam.mutual, dam.supervision, dam.peak_kernel) == (8, 'geometric', 'mutual',
                                                                        3)
    assert dam.loss_gt_weights == dict(heatmap=1.0, wh=0.1, offset=1.0)
    assert build(loss_gt_weights=dict(wh=0.5)).loss_gt_weights == dict(
        heatmap=1.0, wh=0.5, offset=1.0)
    for bad in (dict(supervision='labels'), dict(mutual='harmonic'), dict(peak_kernel=4),
                dict(topk=0), dict(loss_gt_weights=dict(cls=1.0))):
        with pytest.raises(ValueError, match='DAM'):
            build(**bad)


def test_forward_shapes_ranges_and_initial_heat():
    dam = build()
    out = dam(feats(0, n=2, h=6, w=9))
    assert set(out) == {'heatmap', 'wh', 'offset'}
    assert out['heatmap'].shape == (2, 1, 6, 9)
    assert out['wh'].shape == (2, 2, 6, 9) and out['offset'].shape == (2, 2, 6, 9)
    heat = out['heatmap']
    assert ((heat > 0) & (heat < 1)).all()
    # CenterNet prior: the heat starts around sigmoid(-2.19) ~= 0.1
    prior = 1 / (1 + math.exp(2.19))
    assert dam.heatmap[-1].bias.item() == pytest.approx(-2.19)
    assert abs(heat.median().item() - prior) < 0.05
    # init_weights with a generic init_cfg keeps the prior bias
    dam2 = build(init_cfg=dict(type='Normal', layer='Conv2d', std=0.01))
    dam2.init_weights()
    assert dam2.heatmap[-1].bias.item() == pytest.approx(-2.19)
    assert dam2(feats(0))['heatmap'].sub(prior).abs().max() < 0.01


def test_shared_weights_for_student_and_teacher():
    dam = build()
    x = feats(1)
    out_s, out_t = dam(x), dam(x.clone())
    for key in out_s:
        torch.testing.assert_close(out_s[key], out_t[key], rtol=0, atol=0)
    # one set of heads: three of them, no per-side copies
    assert sum(p.numel() for p in dam.parameters()) == sum(
        (IN_CH * 9 + 1) * 4 + (4 + 1) * c for c in (1, 2, 2))


def test_loss_align_zero_for_identical_and_gradients_reach_both_sides():
    dam = build()
    x = feats(2)
    assert dam.loss_align(dam(x), dam(x)).item() == 0
    xs = feats(3).requires_grad_()
    xt = feats(4).requires_grad_()
    out_s, out_t = dam(xs), dam(xt)
    loss = dam.loss_align(out_s, out_t)
    expected = sum(((out_s[k] - out_t[k])**2).mean() for k in out_s)
    torch.testing.assert_close(loss, expected)
    loss.backward()
    assert xs.grad.abs().sum() > 0 and xt.grad.abs().sum() > 0
    for name, p in dam.named_parameters():
        assert p.grad is not None, name
        if name in ('wh.2.bias', 'offset.2.bias'):
            # a linear head's final bias shifts both sides equally: cancels in out_s - out_t
            assert p.grad.abs().max() < 1e-6, name
        else:
            assert p.grad.abs().sum() > 0, name


@pytest.mark.parametrize('weighted', [False, True])
def test_masks_are_detached_union_of_at_most_topk_boxes(weighted):
    dam = build(topk=3, weighted_mask=weighted)
    xs, xt = feats(5, n=3, h=8, w=10).requires_grad_(), feats(6, n=3, h=8, w=10)
    out_s, out_t = dam(xs), dam(xt)
    # make the boxes big enough to cover cells
    out_s['wh'] = out_s['wh'] + 3
    out_t['wh'] = out_t['wh'] + 3
    mask = dam.masks(out_s, out_t)
    assert mask.shape == (3, 1, 8, 10)
    assert not mask.requires_grad and mask.grad_fn is None
    reg = dam.regions(out_s, out_t)
    assert reg['boxes'].shape == (3, 3, 4) and reg['scores'].shape == (3, 3)
    assert all(not v.requires_grad for v in reg.values())
    torch.testing.assert_close(reg['mutual'],
                               torch.sqrt(out_s['heatmap'] * out_t['heatmap']).detach())
    # the union of the topk boxes (in cells, cell centres inside), rebuilt box by box
    boxes, scores = reg['boxes'], reg['scores']
    ys = torch.arange(8).view(1, 8, 1) + 0.5
    xs_ = torch.arange(10).view(1, 1, 10) + 0.5
    cover = [((xs_ >= b[0]) & (xs_ <= b[2]) & (ys >= b[1]) & (ys <= b[3])).float()
             for b in boxes.view(-1, 4)]
    cover = torch.stack(cover).view(3, 3, 8, 10)
    if weighted:
        expected = (cover * scores[..., None, None]).amax(1, keepdim=True)
    else:
        expected = cover.amax(1, keepdim=True)
        assert set(mask.unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(mask, expected)
    assert mask.sum() > 0


def test_loss_gt_fits_one_feature_map():
    dam = build(supervision='gt')
    x = feats(7, n=1, h=12, w=16)
    stride = 8.0
    gt_box = torch.tensor([[24.0, 16.0, 88.0, 72.0]])  # cells (3, 2)-(11, 9), centre (7, 5.5)
    opt = torch.optim.Adam(dam.parameters(), lr=0.01)
    history = []
    for _ in range(50):
        losses = dam.loss_gt(dam(x), [gt_box], stride)
        assert set(losses) == {'heatmap', 'wh', 'offset'}
        loss = sum(losses.values())
        history.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert history[-1] < 0.5 * history[0]
    with torch.no_grad():
        out = dam(x)
        top1 = dam.regions(out, out)['boxes'][0, 0]
    assert box_iou(top1, gt_box[0] / stride) > 0.5


def test_loss_gt_weights_and_normalisation():
    dam = build(supervision='gt', loss_gt_weights=dict(heatmap=2.0, wh=0.5, offset=3.0))
    out = dam(feats(8, n=2, h=10, w=10))
    gt = [torch.tensor([[8.0, 8.0, 40.0, 24.0], [40.0, 40.0, 72.0, 80.0]]), torch.zeros(0, 4)]
    losses = dam.loss_gt(out, gt, 8.0)
    # wh at the two centre cells, summed over (w, h), mean over centre cells, times 0.5
    tw = torch.tensor([[4.0, 2.0], [4.0, 5.0]])
    cells = [(2, 3), (7, 7)]
    pred = torch.stack([out['wh'][0, :, i, j] for i, j in cells])
    torch.testing.assert_close(losses['wh'], 0.5 * (pred - tw).abs().sum() / 2)
    for value in losses.values():
        assert value.dim() == 0 and torch.isfinite(value) and value > 0


def test_loss_gt_with_shared_targets_is_the_loss_gt_that_builds_them():
    """SoKDLoss builds a level's targets once for both sides: the same losses, and targets
    of other boxes give other ones (the argument is used)."""
    dam = build(supervision='gt')
    out = dam(feats(8, n=2, h=10, w=10))
    gt = [torch.tensor([[8.0, 8.0, 40.0, 24.0]]), torch.tensor([[40.0, 40.0, 72.0, 80.0]])]
    own = dam.loss_gt(out, gt, 8.0)
    shared = dam.loss_gt(out, gt, 8.0, dam.gt_targets(gt, 8.0, out['heatmap']))
    assert own.keys() == shared.keys()
    for key in own:
        assert torch.equal(own[key], shared[key]), key
    other = dam.gt_targets([gt[1], gt[0]], 8.0, out['heatmap'])
    assert not torch.equal(dam.loss_gt(out, gt, 8.0, other)['wh'], own['wh'])
