"""What DAM's mask keeps: GT centre recall, softmax mass outside the mask, region losses."""
import math

import pytest
import torch
from mmrazor.models import ChannelWiseDivergence, L2Loss

from sokd_mmdet.analysis.dam_coverage import gt_centre_recall, region_losses, spatial_mass_outside
from sokd_mmdet.models.sokd.dam.targets import centernet_targets


def test_gt_centre_recall_counts_the_centre_cells_under_the_mask():
    mask = torch.zeros(4, 6)
    mask[1, 2] = 1.0
    mask[3, 5] = 0.4  # a weighted mask: any positive value covers the cell
    boxes = torch.tensor([
        [16., 8., 24., 16.],  # centre (20, 12) px -> cell (1, 2): in
        [40., 24., 48., 32.],  # centre (44, 28) -> cell (3, 5): in
        [0., 0., 8., 8.],  # centre (4, 4) -> cell (0, 0): out
        [90., 90., 100., 100.]
    ])  # beyond the map: clipped to (3, 5): in
    assert gt_centre_recall(mask, boxes, (8.0, 8.0)) == 0.75
    assert gt_centre_recall(mask, boxes[2:3], (8.0, 8.0)) == 0.0
    # a box half out of the image: the centre of its visible part, as in DAM's targets.
    # (-20, 8, 20, 16) is seen as (0, 8, 20, 16): centre (10, 12) px -> cell (1, 1), where
    # the unclipped centre (0, 12) would be cell (1, 0)
    partly_out = torch.tensor([[-20., 8., 20., 16.]])
    mask_11 = torch.zeros(4, 6)
    mask_11[1, 1] = 1.0
    assert gt_centre_recall(mask_11, partly_out, (8.0, 8.0)) == 1.0
    heat = centernet_targets([partly_out], 8.0, (4, 6))['heatmap'][0, 0]
    assert heat[1, 1] == 1.0  # the peak DAM is trained on is the cell counted
    assert gt_centre_recall(mask, torch.zeros(0, 4), (8.0, 8.0)) is None


def test_spatial_mass_outside_against_the_softmax_by_hand():
    feat = torch.tensor([1.0, 2.0, 3.0, -1.0]).reshape(1, 1, 2, 2)
    mask = torch.tensor([1.0, 1.0, 0.0, 0.0]).reshape(1, 1, 2, 2)
    # softmax of (1, 2, 0, 0): the two zeroed positions hold 2 / (e + e^2 + 2)
    expected = 2 / (math.e + math.e**2 + 2)
    assert float(spatial_mass_outside(feat, mask)) == pytest.approx(expected)
    # temperature 2: softmax of (0.5, 1, 0, 0)
    expected_t2 = 2 / (math.exp(0.5) + math.e + 2)
    assert float(spatial_mass_outside(feat, mask, tau=2.0)) == pytest.approx(expected_t2)
    # a full mask leaves nothing outside, an empty one everything; averaged over N and C
    feats = torch.randn(2, 3, 4, 5)
    assert float(spatial_mass_outside(feats, torch.ones(2, 1, 4, 5))) == 0.0
    assert float(spatial_mass_outside(feats, torch.zeros(2, 1, 4, 5))) == pytest.approx(1.0)


def test_region_losses_split_an_additive_loss_and_match_direct_calls():
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(2, 4, 6, 5, generator=g), torch.randn(2, 4, 6, 5, generator=g)
    mask = (torch.rand(2, 1, 6, 5, generator=g) > 0.7).float()
    l2 = L2Loss(normalize=False, div_element=False)  # a sum over elements: additive
    out = region_losses(l2, s, t, mask)
    torch.testing.assert_close(out['full'], l2(s, t))
    torch.testing.assert_close(out['masked'] + out['outside'], out['full'])
    torch.testing.assert_close(out['masked'], ((s - t)**2 * mask).sum() / 2)
    cwd = ChannelWiseDivergence(tau=1.0, loss_weight=10.0)  # softmax over positions: not
    out = region_losses(cwd, s, t, mask)
    torch.testing.assert_close(out['masked'], cwd(s * mask, t * mask))
    torch.testing.assert_close(out['outside'], cwd(s * (1 - mask), t * (1 - mask)))
    assert not torch.allclose(out['masked'] + out['outside'], out['full'])
