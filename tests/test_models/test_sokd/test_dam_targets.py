"""CenterNet targets and loss for DAM against slow references
(sokd_mmdet/models/sokd/dam/targets.py)."""
import math

import pytest
import torch

from sokd_mmdet.models.sokd.dam.targets import (centernet_targets, gaussian_focal_loss,
                                                gaussian_radius)


# --- slow references: scalar maths and plain loops ----------------------------------------
def ref_radius(h, w, o):
    """Smallest root of the three CornerNet quadratics, written out with scalars."""
    # 1: r^2 - (w + h) r + wh (1 - o) / (1 + o) = 0, smaller root
    b, c = -(w + h), w * h * (1 - o) / (1 + o)
    r1 = (-b - math.sqrt(b * b - 4 * c)) / 2
    # 2: 4 r^2 - 2 (w + h) r + (1 - o) wh = 0, smaller root
    b, c = -2 * (w + h), (1 - o) * w * h
    r2 = (-b - math.sqrt(b * b - 16 * c)) / 8
    # 3: 4o r^2 + 2o (w + h) r - (1 - o) wh = 0, positive root
    a, b, c = 4 * o, 2 * o * (w + h), -(1 - o) * w * h
    r3 = (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    return min(r1, r2, r3)


def ref_targets(gt_bboxes, stride, hw, min_size, min_overlap=0.7):
    """Per-box loop; boxes written in increasing (area, list position) order: last write wins."""
    h, w = hw
    n = len(gt_bboxes)
    heat = torch.zeros(n, 1, h, w)
    wh = torch.zeros(n, 2, h, w)
    off = torch.zeros(n, 2, h, w)
    weight = torch.zeros(n, 1, h, w)
    for b, boxes in enumerate(gt_bboxes):
        items = []
        for idx, box in enumerate(boxes.tolist()):
            x1, y1, x2, y2 = [v / stride for v in box]
            x1, x2 = min(max(x1, 0), w), min(max(x2, 0), w)
            y1, y2 = min(max(y1, 0), h), min(max(y2, 0), h)
            bw, bh = x2 - x1, y2 - y1
            if max(bw, bh) < min_size:
                continue
            items.append((bw * bh, idx, x1, y1, x2, y2, bw, bh))
        for _, _, x1, y1, x2, y2, bw, bh in sorted(items):
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
            ci, cj = min(math.floor(cy), h - 1), min(math.floor(cx), w - 1)
            r = max(0, math.floor(ref_radius(bh, bw, min_overlap)))
            sigma = (2 * r + 1) / 6
            for i in range(max(0, ci - r), min(h, ci + r + 1)):
                for j in range(max(0, cj - r), min(w, cj + r + 1)):
                    g = math.exp(-((i - ci)**2 + (j - cj)**2) / (2 * sigma**2))
                    heat[b, 0, i, j] = max(heat[b, 0, i, j].item(), g)
            wh[b, :, ci, cj] = torch.tensor([bw, bh])
            off[b, :, ci, cj] = torch.tensor([cx - cj, cy - ci])
            weight[b, 0, ci, cj] = 1
    return dict(heatmap=heat, wh=wh, offset=off, weight=weight)


def random_boxes(g, n, img_w, img_h):
    """Centres anywhere, sides log-uniform from 1 px to the image size (some reach out)."""
    xy = torch.rand(n, 2, generator=g) * torch.tensor([img_w, img_h])
    frac = torch.exp(torch.rand(n, 2, generator=g) * math.log(1 / 128))
    size = frac * torch.tensor([img_w, img_h])
    return torch.cat([xy - size / 2, xy + size / 2], dim=1)


def iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    area = lambda x: (x[2] - x[0]) * (x[3] - x[1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


# --- gaussian_radius -----------------------------------------------------------------------
@pytest.mark.parametrize('min_overlap', [0.3, 0.7, 0.9])
def test_gaussian_radius_matches_scalar_formula(min_overlap):
    g = torch.Generator().manual_seed(0)
    h = torch.rand(40, generator=g, dtype=torch.float64) * 50 + 0.5
    w = torch.rand(40, generator=g, dtype=torch.float64) * 50 + 0.5
    out = gaussian_radius(h, w, min_overlap)
    assert out.shape == h.shape
    ref = torch.tensor([ref_radius(a, b, min_overlap) for a, b in zip(h.tolist(), w.tolist())],
                       dtype=torch.float64)
    torch.testing.assert_close(out, ref)
    # a 2-D grid of sizes broadcasts too
    grid = gaussian_radius(h.view(-1, 1)[:5], w.view(1, -1)[:, :4], min_overlap)
    assert grid.shape == (5, 4)


def test_gaussian_radius_is_the_tightest_of_the_three_iou_cases():
    h, w, o = 12.0, 30.0, 0.7
    r = gaussian_radius(torch.tensor([h]), torch.tensor([w]), o).item()
    gt = (0.0, 0.0, w, h)
    ious = [
        iou(gt, (r, r, w + r, h + r)),  # both corners shifted the same way
        iou(gt, (r, r, w - r, h - r)),  # both inwards
        iou(gt, (-r, -r, w + r, h + r)),  # both outwards
    ]
    assert min(ious) == pytest.approx(o, abs=1e-5)
    assert all(v >= o - 1e-5 for v in ious)


# --- centernet_targets ---------------------------------------------------------------------
@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('min_size,min_overlap', [(1.0, 0.7), (3.0, 0.3)])
def test_centernet_targets_match_reference(seed, min_size, min_overlap):
    g = torch.Generator().manual_seed(seed)
    # stride 4 on a 96 x 128 image (24 x 32 cells): Gaussians of radius 0..6 that overlap,
    # boxes below min_size, and an image without boxes
    stride, hw = 4.0, (24, 32)
    # two large boxes with nearby centres make the max-combination matter
    overlapping = torch.tensor([[8.0, 8.0, 96.0, 80.0], [24.0, 16.0, 120.0, 92.0]])
    gt = [
        torch.cat([random_boxes(g, 8, 128, 96), overlapping]),
        torch.zeros(0, 4),
        torch.cat([overlapping, random_boxes(g, 6, 128, 96)])
    ]
    out = centernet_targets(gt, stride, hw, min_size=min_size, min_overlap=min_overlap)
    ref = ref_targets(gt, stride, hw, min_size, min_overlap)
    for key in ('heatmap', 'wh', 'offset', 'weight'):
        assert out[key].shape == ref[key].shape, key
        torch.testing.assert_close(out[key], ref[key], msg=key)
    assert (out['heatmap'][1] == 0).all() and (out['weight'][1] == 0).all()
    # centre cells are exactly the cells where the heatmap is 1
    torch.testing.assert_close(out['weight'], out['heatmap'].eq(1).float())


def test_centernet_targets_known_box_and_shared_centre():
    # box in cells (stride 4): (2, 1)-(7, 4): centre (4.5, 2.5), cell (row 2, col 4)
    big = torch.tensor([[8.0, 4.0, 28.0, 16.0]])
    small = torch.tensor([[16.0, 8.0, 20.0, 12.0]])  # centre (4.5, 2.5) too, 1 x 1 cells
    out = centernet_targets([torch.cat([big, small]), torch.cat([small, big])], 4.0, (6, 9))
    for b in range(2):  # the larger box wins the shared centre, whatever the order
        torch.testing.assert_close(out['wh'][b, :, 2, 4], torch.tensor([5.0, 3.0]))
        torch.testing.assert_close(out['offset'][b, :, 2, 4], torch.tensor([0.5, 0.5]))
        assert out['weight'][b].sum() == 1 and out['weight'][b, 0, 2, 4] == 1
    assert out['wh'].count_nonzero() == 4  # only the two centre cells hold a size


def test_centernet_targets_min_size_and_empty():
    tiny = torch.tensor([[0.0, 0.0, 7.0, 3.0]])  # 0.875 x 0.375 cells at stride 8
    out = centernet_targets([tiny, torch.zeros(0, 4)], 8.0, (4, 5))
    assert all(v.abs().sum() == 0 for v in out.values())
    assert out['heatmap'].shape == (2, 1, 4, 5) and out['wh'].shape == (2, 2, 4, 5)
    kept = centernet_targets([tiny], 8.0, (4, 5), min_size=0.5)
    assert kept['weight'].sum() == 1


# --- gaussian_focal_loss -------------------------------------------------------------------
def test_gaussian_focal_loss_matches_elementwise_formula():
    g = torch.Generator().manual_seed(0)
    pred = torch.rand(2, 1, 5, 6, generator=g).clamp(0.01, 0.99)
    target = torch.rand(2, 1, 5, 6, generator=g)
    target[0, 0, 1, 2] = target[1, 0, 4, 5] = 1.0
    for alpha, gamma in [(2.0, 4.0), (1.5, 3.0)]:
        ref = 0.0
        for p, y in zip(pred.flatten().tolist(), target.flatten().tolist()):
            if y == 1.0:
                ref += -(1 - p)**alpha * math.log(p)
            else:
                ref += -(1 - y)**gamma * p**alpha * math.log(1 - p)
        out = gaussian_focal_loss(pred, target, alpha, gamma)
        assert out.dim() == 0
        assert out.item() == pytest.approx(ref, rel=1e-5)


def test_gaussian_focal_loss_perfect_prediction_and_saturation():
    target = torch.zeros(1, 1, 4, 4)
    target[0, 0, 1, 1] = 1.0
    target[0, 0, 1, 2] = 0.6
    # perfect on the positive cell, 0 on the negatives: ~0
    assert gaussian_focal_loss(target.eq(1).float(), target).item() == pytest.approx(0, abs=1e-6)
    # fully saturated wrong predictions stay finite, with finite gradients
    pred = (1 - target.eq(1).float()).requires_grad_()
    loss = gaussian_focal_loss(pred, target)
    loss.backward()
    assert torch.isfinite(loss) and loss > 1 and torch.isfinite(pred.grad).all()
