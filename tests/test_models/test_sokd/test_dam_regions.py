"""Region decoding of DAM against slow loop references (sokd_mmdet/models/sokd/dam/regions.py)."""
import math

import pytest
import torch

from sokd_mmdet.models.sokd.dam.regions import (local_peaks, mutual_heatmap, region_masks,
                                                topk_regions)

# (seed, N, H, W, k): batch > 1, non-square maps, k above the number of peaks (small maps
# have few peaks), and H * W < k (the 2 x 3 map).
CASES = [(0, 2, 7, 9, 8), (1, 3, 5, 4, 8), (2, 1, 11, 6, 30), (3, 2, 2, 3, 8), (4, 2, 16, 13, 5)]


# --- slow references: plain Python loops over images, cells and boxes -------------------
def ref_local_peaks(heat, kernel):
    n, _, h, w = heat.shape
    r = kernel // 2
    out = torch.zeros_like(heat)
    for b in range(n):
        for i in range(h):
            for j in range(w):
                window = [
                    heat[b, 0, y, x].item() for y in range(max(0, i - r), min(h, i + r + 1))
                    for x in range(max(0, j - r), min(w, j + r + 1))
                ]
                if heat[b, 0, i, j].item() == max(window):
                    out[b, 0, i, j] = heat[b, 0, i, j]
    return out


def ref_topk_regions(peaks, wh, offset, k):
    n, _, h, w = peaks.shape
    boxes = torch.zeros(n, k, 4)
    scores = torch.zeros(n, k)
    for b in range(n):
        cands = [(peaks[b, 0, i, j].item(), i, j) for i in range(h) for j in range(w)
                 if peaks[b, 0, i, j].item() > 0]
        cands.sort(key=lambda c: -c[0])
        for s, (score, i, j) in enumerate(cands[:k]):
            bw, bh = max(wh[b, 0, i, j].item(), 0.0), max(wh[b, 1, i, j].item(), 0.0)
            cx, cy = j + offset[b, 0, i, j].item(), i + offset[b, 1, i, j].item()
            box = [cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2]
            lims = [w, h, w, h]
            boxes[b, s] = torch.tensor([min(max(v, 0.0), lim) for v, lim in zip(box, lims)])
            scores[b, s] = score
    return boxes, scores


def ref_region_masks(boxes, scores, h, w, weighted, min_score):
    n, k, _ = boxes.shape
    mask = torch.zeros(n, 1, h, w)
    for b in range(n):
        for s in range(k):
            score = scores[b, s].item()
            if score <= min_score:
                continue
            x1, y1, x2, y2 = boxes[b, s].tolist()
            for i in range(h):
                for j in range(w):
                    if x1 <= j + 0.5 <= x2 and y1 <= i + 0.5 <= y2:
                        value = score if weighted else 1.0
                        mask[b, 0, i, j] = max(mask[b, 0, i, j].item(), value)
    return mask


def random_outputs(seed, n, h, w):
    g = torch.Generator().manual_seed(seed)
    heat = torch.rand(n, 1, h, w, generator=g)  # continuous: ties-free
    wh = torch.rand(n, 2, h, w, generator=g) * 6 - 1  # some negative sizes, to be clamped
    offset = torch.rand(n, 2, h, w, generator=g)
    return heat, wh, offset


# --- mutual_heatmap ------------------------------------------------------------------------
def test_mutual_heatmap_modes():
    s = torch.tensor([0.0, 0.25, 0.5, 1.0, 0.9]).view(1, 1, 1, 5)
    t = torch.tensor([0.5, 1.0, 0.5, 1.0, 0.1]).view(1, 1, 1, 5)
    expected = dict(
        geometric=[0.0, 0.5, 0.5, 1.0, 0.3],
        arithmetic=[0.25, 0.625, 0.5, 1.0, 0.5],
        min=[0.0, 0.25, 0.5, 1.0, 0.1],
        product=[0.0, 0.25, 0.25, 1.0, 0.09])
    for mode, values in expected.items():
        out = mutual_heatmap(s, t, mode)
        assert out.shape == s.shape
        torch.testing.assert_close(out.flatten(), torch.tensor(values), msg=mode)
    with pytest.raises(ValueError, match='unknown mode'):
        mutual_heatmap(s, t, 'harmonic')


def test_mutual_heatmap_geometric_matches_sqrt_and_is_monotone_below_eps():
    g = torch.Generator().manual_seed(0)
    s, t = torch.rand(2, 1, 6, 7, generator=g), torch.rand(2, 1, 6, 7, generator=g)
    torch.testing.assert_close(mutual_heatmap(s, t), torch.sqrt(s * t))
    # below eps: 0 at 0, order of the product preserved, never above sqrt
    p = torch.tensor([0.0, 1e-9, 1e-8, 1e-7, 5e-7]).view(1, 1, 1, 5)
    out = mutual_heatmap(p, torch.ones_like(p)).flatten()
    assert out[0] == 0
    assert (out.diff() > 0).all()
    assert (out <= p.flatten().sqrt()).all()


def test_mutual_heatmap_geometric_gradient_finite_at_zero():
    s = torch.tensor([0.0, 0.0, 1e-8, 0.3]).view(1, 1, 1, 4).requires_grad_()
    t = torch.tensor([0.0, 0.7, 0.5, 0.0]).view(1, 1, 1, 4).requires_grad_()
    mutual_heatmap(s, t, 'geometric').sum().backward()
    assert torch.isfinite(s.grad).all() and torch.isfinite(t.grad).all()
    # above eps it is the true derivative of sqrt(s * t): d/ds = sqrt(t / s) / 2
    s2 = torch.tensor([[[[0.2]]]], requires_grad=True)
    mutual_heatmap(s2, torch.tensor([[[[0.8]]]])).sum().backward()
    torch.testing.assert_close(s2.grad.flatten(), torch.tensor([math.sqrt(0.8 / 0.2) / 2]))


# --- local_peaks ---------------------------------------------------------------------------
@pytest.mark.parametrize('seed,n,h,w,k', CASES)
@pytest.mark.parametrize('kernel', [3, 5])
def test_local_peaks_matches_reference(seed, n, h, w, k, kernel):
    heat, _, _ = random_outputs(seed, n, h, w)
    out = local_peaks(heat, kernel)
    assert out.shape == heat.shape
    torch.testing.assert_close(out, ref_local_peaks(heat, kernel), rtol=0, atol=0)


def test_local_peaks_known_map_and_plateau():
    heat = torch.tensor([[0.1, 0.9, 0.2, 0.3], [0.4, 0.5, 0.6, 0.8], [0.7, 0.7, 0.0, 0.1]])
    expected = torch.tensor([[0, 0.9, 0, 0], [0, 0, 0, 0.8], [0.7, 0.7, 0, 0]])
    torch.testing.assert_close(local_peaks(heat.view(1, 1, 3, 4)).view(3, 4), expected)
    with pytest.raises(ValueError, match='odd'):
        local_peaks(heat.view(1, 1, 3, 4), kernel=2)


# --- topk_regions --------------------------------------------------------------------------
@pytest.mark.parametrize('seed,n,h,w,k', CASES)
def test_topk_regions_matches_reference(seed, n, h, w, k):
    heat, wh, offset = random_outputs(seed, n, h, w)
    peaks = local_peaks(heat)
    boxes, scores = topk_regions(peaks, wh, offset, k)
    assert boxes.shape == (n, k, 4) and scores.shape == (n, k)
    ref_boxes, ref_scores = ref_topk_regions(peaks, wh, offset, k)
    torch.testing.assert_close(scores, ref_scores)
    torch.testing.assert_close(boxes, ref_boxes)
    # inside the map, x1 <= x2, y1 <= y2
    assert (boxes[..., 0::2] <= w).all() and (boxes[..., 1::2] <= h).all()
    assert (boxes >= 0).all()
    assert (boxes[..., 2] >= boxes[..., 0]).all() and (boxes[..., 3] >= boxes[..., 1]).all()


def test_topk_regions_k_above_peaks_and_cells_pads_with_empty_boxes():
    heat = torch.zeros(2, 1, 2, 3)
    heat[0, 0, 1, 2] = 0.8  # a single peak in image 0, none in image 1
    wh = torch.full((2, 2, 2, 3), 2.0)
    offset = torch.full((2, 2, 2, 3), 0.5)
    boxes, scores = topk_regions(heat, wh, offset, k=8)  # H * W = 6 < 8
    assert boxes.shape == (2, 8, 4) and scores.shape == (2, 8)
    torch.testing.assert_close(scores[0], torch.tensor([0.8] + [0.0] * 7))
    # centre (2.5, 1.5), size 2 x 2, clamped to the 3 x 2 map
    torch.testing.assert_close(boxes[0, 0], torch.tensor([1.5, 0.5, 3.0, 2.0]))
    assert (boxes[0, 1:] == 0).all() and (boxes[1] == 0).all() and (scores[1] == 0).all()


def test_topk_regions_decoding_convention():
    # One peak at row 2, column 4: centre = (4 + off_x, 2 + off_y), offset from the top-left
    heat = torch.zeros(1, 1, 5, 8)
    heat[0, 0, 2, 4] = 0.9
    wh = torch.zeros(1, 2, 5, 8)
    wh[0, :, 2, 4] = torch.tensor([3.0, 1.0])
    offset = torch.zeros(1, 2, 5, 8)
    offset[0, :, 2, 4] = torch.tensor([0.25, 0.75])
    boxes, scores = topk_regions(heat, wh, offset, k=1)
    torch.testing.assert_close(boxes, torch.tensor([[[2.75, 2.25, 5.75, 3.25]]]))
    torch.testing.assert_close(scores, torch.tensor([[0.9]]))


# --- region_masks --------------------------------------------------------------------------
@pytest.mark.parametrize('seed,n,h,w,k', CASES)
@pytest.mark.parametrize('weighted,min_score', [(False, 0.0), (True, 0.0), (False, 0.5),
                                                (True, 0.5)])
def test_region_masks_matches_reference(seed, n, h, w, k, weighted, min_score):
    heat, wh, offset = random_outputs(seed, n, h, w)
    boxes, scores = topk_regions(local_peaks(heat), wh, offset, k)
    mask = region_masks(boxes, scores, h, w, weighted=weighted, min_score=min_score)
    assert mask.shape == (n, 1, h, w)
    ref = ref_region_masks(boxes, scores, h, w, weighted, min_score)
    torch.testing.assert_close(mask, ref, rtol=0, atol=0)
    if not weighted:
        assert set(mask.unique().tolist()) <= {0.0, 1.0}


def test_region_masks_cell_centre_rule_weighted_and_min_score():
    boxes = torch.tensor([[[0.5, 0.5, 2.5, 1.5], [1.6, 0.0, 3.0, 3.0], [0.0, 0.0, 0.4, 0.4]]])
    scores = torch.tensor([[0.9, 0.3, 0.7]])
    # box 0 covers centres x in {0.5, 1.5, 2.5}, y in {0.5, 1.5}; box 1 covers x = 2.5, all y;
    # box 2 contains no cell centre.
    binary = region_masks(boxes, scores, 3, 4)[0, 0]
    expected = torch.tensor([[1., 1., 1., 0.], [1., 1., 1., 0.], [0., 0., 1., 0.]])
    torch.testing.assert_close(binary, expected)
    weighted = region_masks(boxes, scores, 3, 4, weighted=True)[0, 0]
    # the overlap cell (row 0..1, column 2) takes the larger score
    torch.testing.assert_close(
        weighted, torch.tensor([[.9, .9, .9, 0.], [.9, .9, .9, 0.], [0., 0., .3, 0.]]))
    # min_score = 0.5 drops box 1 (0.3); min_score = 0.9 drops everything (<= is ignored)
    only0 = region_masks(boxes, scores, 3, 4, min_score=0.5)[0, 0]
    torch.testing.assert_close(
        only0, torch.tensor([[1., 1., 1., 0.], [1., 1., 1., 0.], [0., 0., 0., 0.]]))
    assert region_masks(boxes, scores, 3, 4, min_score=0.9).sum() == 0
