"""Boxes move with the image: rasterised rectangles warped by the same matrix agree with the
transformed boxes; objects pushed out are dropped with their labels; emptied samples fall
back to their un-warped geometry."""
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from sokd_mmdet.models.tst import TSTAugmenter
from sokd_mmdet.models.tst.affine import compose, to_pixel, warp
from sokd_mmdet.models.tst.boxes import (clip_boxes, transform_boxes, visible_fraction,
                                         warp_box_lists, warp_boxes)
from sokd_mmdet.models.tst.image_ops import IMAGE_OPS

H, W = 72, 96  # not square: catches mixed-up axes
BOXES = torch.tensor([[20.0, 14.0, 44.0, 30.0], [50.0, 36.0, 70.0, 60.0], [30.0, 40.0, 45.0, 52.0],
                      [70.0, 5.0, 92.0, 20.0]])


def _op(name, value):
    return IMAGE_OPS[name].forward_matrix(torch.tensor([float(value)]), H, W)


CASES = {
    'Rotate':
    lambda: _op('Rotate', 25),
    'Rotate-':
    lambda: _op('Rotate', -17),
    'ShearX':
    lambda: _op('ShearX', 0.3),
    'ShearY':
    lambda: _op('ShearY', -0.25),
    'TranslateX':
    lambda: _op('TranslateX', 0.15),
    'TranslateY':
    lambda: _op('TranslateY', -0.2),
    'Scale':
    lambda: _op('Scale', 0.3),
    'HFlip':
    lambda: _op('HFlip', 0),
    'HFlip+Rotate+ShearX+TranslateY':
    lambda: compose(
        [_op('HFlip', 0),
         _op('Rotate', 12),
         _op('ShearX', -0.2),
         _op('TranslateY', 0.1)]),
}


def _rasterise(boxes, h, w):
    """(M, H, W) masks: 1 where the pixel centre lies inside the box."""
    ys = torch.arange(h)[:, None] + 0.5
    xs = torch.arange(w)[None, :] + 0.5
    b = boxes[:, :, None, None]
    return ((xs >= b[:, 0]) & (xs < b[:, 2]) & (ys >= b[:, 1]) & (ys < b[:, 3])).float()


def _pixel_boxes(masks):
    """(M, 4) bounding box of the pixels above 0.5 of each mask (pixel edges)."""
    out = []
    for m in masks > 0.5:  # a few masks of a test, not a training step
        rows, cols = m.any(1).nonzero()[:, 0], m.any(0).nonzero()[:, 0]
        out.append([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1])
    return torch.tensor(out, dtype=torch.float32)


@pytest.mark.parametrize('case', list(CASES))
def test_warped_rectangles_match_the_transformed_boxes(case):
    pixel = to_pixel(CASES[case](), H, W)
    masks = _rasterise(BOXES, H, W)
    assert torch.equal(_pixel_boxes(masks), BOXES)  # the rasteriser is exact
    warped = warp(masks[None], pixel)[0]  # every rectangle is a channel
    boxes, keep = warp_boxes(BOXES, pixel[0], H, W, min_visible=0.0, min_size=0.0)
    visible = warped.flatten(1).max(1).values > 0.5
    assert visible.sum() >= 3
    err = (_pixel_boxes(warped[visible]) - boxes[visible]).abs()
    assert err.max() <= 1.0, f'{case}: {err}'
    if case == 'TranslateX':  # an exact case: 0.15 * 96 = 14.4 px to the right
        expected = clip_boxes(BOXES + torch.tensor([14.4, 0.0, 14.4, 0.0]), H, W)
        torch.testing.assert_close(boxes, expected)


def test_transformed_box_of_a_rotation_encloses_the_corners():
    box = torch.tensor([[-2.0, -1.0, 2.0, 1.0]])
    rot = IMAGE_OPS['Rotate'].forward_matrix(torch.tensor([90.0]), 10, 10)[0]
    torch.testing.assert_close(transform_boxes(box, rot), torch.tensor([[-1.0, -2.0, 1.0, 2.0]]))
    rot45 = IMAGE_OPS['Rotate'].forward_matrix(torch.tensor([45.0]), 10, 10)[0]
    half = 3.0 / 2**0.5  # (2 + 1) / sqrt(2)
    torch.testing.assert_close(
        transform_boxes(box, rot45), torch.tensor([[-half, -half, half, half]]))


def test_objects_pushed_out_are_dropped_by_visible_fraction():
    h, w = 40, 100
    shift = to_pixel(IMAGE_OPS['TranslateX'].forward_matrix(torch.tensor([0.3]), h, w), h, w)[0]
    boxes = torch.tensor([
        [10.0, 5.0, 30.0, 25.0],  # moves to 40..60: inside
        [75.0, 5.0, 95.0, 25.0],  # 105..125: gone
        [60.0, 5.0, 80.0, 25.0],  # 90..110: 10 of 20 px visible = 0.5, kept
        [62.0, 5.0, 82.0, 25.0],  # 92..112: 8 of 20 = 0.4, dropped
        [5.0, 5.0, 6.5, 25.0],  # 35..36.5: inside but thinner than min_size
    ])
    clipped, keep = warp_boxes(boxes, shift, h, w, min_visible=0.5, min_size=2.0)
    assert keep.tolist() == [True, False, True, False, False]
    torch.testing.assert_close(clipped[0], torch.tensor([40.0, 5.0, 60.0, 25.0]))
    torch.testing.assert_close(clipped[2], torch.tensor([90.0, 5.0, 100.0, 25.0]))
    torch.testing.assert_close(
        visible_fraction(transform_boxes(boxes, shift), clipped)[:4],
        torch.tensor([1.0, 0.0, 0.5, 0.4]))


def test_ragged_batch_in_one_call_equals_per_image_results():
    g = torch.Generator().manual_seed(0)
    counts = [2, 0, 3]
    corners = [torch.rand(c, 2, generator=g) * 60 for c in counts]
    lists = [
        torch.cat([xy, xy + 5 + 20 * torch.rand(len(xy), 2, generator=g)], 1) for xy in corners
    ]
    mats = to_pixel(
        compose([
            IMAGE_OPS['Rotate'].forward_matrix(torch.tensor([10.0, -20.0, 5.0]), H, W),
            IMAGE_OPS['TranslateX'].forward_matrix(torch.tensor([0.1, 0.0, -0.3]), H, W)
        ]), H, W)
    boxes, keeps = warp_box_lists(lists, mats, H, W, 0.5, 2.0)
    assert [b.shape for b in boxes] == [(2, 4), (0, 4), (3, 4)]
    for i in range(3):
        ref_boxes, ref_keep = warp_boxes(lists[i], mats[i], H, W, 0.5, 2.0)
        torch.testing.assert_close(boxes[i], ref_boxes)
        assert torch.equal(keeps[i], ref_keep)


def _sample(boxes, labels, h, w):
    s = DetDataSample(metainfo=dict(img_shape=(h, w), pad_shape=(h, w), batch_input_shape=(h, w)))
    s.gt_instances = InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float32), labels=torch.tensor(labels))
    s.ignored_instances = InstanceData(
        bboxes=torch.tensor([[20.0, 20.0, 30.0, 30.0]]), labels=torch.tensor([0]))
    return s


def test_labels_follow_boxes_and_emptied_samples_fall_back():
    """TranslateX at magnitude 1 (19.2 px on 64 px) applied to every image, in the direction
    the seeded draw gives each image; each box is placed by that direction."""
    h = w = 64
    aug = TSTAugmenter(
        ops=('TranslateX', 'Brightness'),
        prior_prob={
            'TranslateX': 0.9999,
            'Brightness': 1e-4
        },
        prior_magnitude=1.0,
        magnitude_bound=0.0,
        prob_bound=0.0,
        seed=3)
    aug.resample(3)
    uniforms, signs = aug.last_draw
    assert (uniforms[:, 0] > 1e-4).all() and (uniforms[:, 1] < 1 - 1e-4).all()
    s = signs[:, 0].tolist()

    def edge(sign):  # a 10 px box at the edge the image moves towards: it leaves
        return [54.0, 10.0, 64.0, 20.0] if sign > 0 else [0.0, 10.0, 10.0, 20.0]

    samples = [
        _sample([edge(s[0])], [4], h, w),  # loses its only object
        _sample([[27.0, 30.0, 37.0, 40.0],
                 edge(s[1]), [22.0, 5.0, 42.0, 15.0]], [1, 2, 5], h, w),
        _sample(torch.zeros(0, 4).tolist(), [], h, w),  # no object: nothing to lose
    ]
    del samples[2].ignored_instances  # not every sample needs ignored regions
    inputs = torch.rand(3, 3, h, w)
    out, new = aug(inputs, samples)

    # sample 0: all objects left -> original image (no colour op was applied either)
    torch.testing.assert_close(out[0], inputs[0], atol=1e-5, rtol=0)
    assert new[0].gt_instances is samples[0].gt_instances
    assert new[0].img_shape == (h, w)
    # sample 1: the edge box and its label are dropped, the others move by 19.2 px
    shift = torch.tensor([19.2 * s[1], 0.0, 19.2 * s[1], 0.0])
    assert new[1].gt_instances.labels.tolist() == [1, 5]
    torch.testing.assert_close(
        new[1].gt_instances.bboxes,
        torch.tensor([[27.0, 30.0, 37.0, 40.0], [22.0, 5.0, 42.0, 15.0]]) + shift)
    torch.testing.assert_close(new[1].ignored_instances.bboxes,
                               torch.tensor([[20.0, 20.0, 30.0, 30.0]]) + shift)
    assert not torch.allclose(out[1], inputs[1], atol=1e-3)  # its image did move
    # sample 2 has no object: it keeps its warp
    assert len(new[2].gt_instances) == 0 and 'ignored_instances' not in new[2]
    assert not torch.allclose(out[2], inputs[2], atol=1e-3)
    assert aug.last_stats['fallback'] == pytest.approx(1 / 3)
    # the inputs' samples are not modified
    assert samples[1].gt_instances.labels.tolist() == [1, 2, 5]


def test_instance_masks_are_refused():
    aug = TSTAugmenter(ops=('Rotate', ))
    aug.resample(1)
    sample = _sample([[1.0, 1.0, 5.0, 5.0]], [0], 8, 8)
    sample.gt_instances.masks = torch.zeros(1, 8, 8)
    with pytest.raises(ValueError, match='instance masks'):
        aug(torch.zeros(1, 3, 8, 8), [sample])
