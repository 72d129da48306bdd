"""SoKD pictures: the drawing functions (boxes land where they should) and inspect_batch."""
import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmrazor.registry import MODELS

from conftest import IMG, config_path, tiny_options
from sokd_mmdet.analysis import inspect_batch
from sokd_mmdet.visualization import draw_inspection
from sokd_mmdet.visualization.panels import (dafa_label, draw_boxes, feature_energy,
                                             overlay_heatmap, region_panel, select_boxes)
from sokd_mmdet.visualization.regions import draw_dafa, draw_feature_regions, draw_regions

SOKD_RETINA = 'quickstart/sokd_cwd_retinanet_r34_r18_shapes.py'


def _changed(a, b):
    return np.any(a != b, axis=-1)


def test_draw_boxes_draws_exactly_the_outline():
    image = np.zeros((64, 64, 3), np.uint8)
    out = draw_boxes(image, np.array([[10., 20., 40., 50.]]), color=(255, 0, 0))
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    assert not image.any()  # the input is not drawn on
    expected = np.zeros((64, 64), bool)
    # the box covers pixels x 10..39, y 20..49: outline on the first/last covered rows/cols
    expected[20, 10:40] = expected[49, 10:40] = True
    expected[20:50, 10] = expected[20:50, 39] = True
    np.testing.assert_array_equal(_changed(out, image), expected)
    assert (out[expected] == (255, 0, 0)).all()


def test_draw_boxes_clips_to_the_image_and_skips_nothing():
    out = draw_boxes(np.zeros((16, 16, 3), np.uint8), np.array([[-5., -5., 40., 8.]]))
    drawn = _changed(out, np.zeros_like(out))
    assert drawn[0, :].all() and drawn[7, :].all() and drawn[:8, 0].all()
    assert not drawn[8:].any()
    assert not draw_boxes(np.zeros((8, 8, 3), np.uint8), np.zeros((0, 4))).any()


def test_region_panel_upscales_and_scales_the_boxes():
    background = np.full((16, 16, 3), 40, np.uint8)
    boxes = np.array([[2., 3., 6., 7.], [0., 0., 0., 0.], [8., 8., 12., 12.]])
    scores = np.array([0.9, 0.0, 0.05])
    panel = region_panel(
        background, boxes=boxes, scores=scores, scale=4, min_score=0.1, thickness=1)
    assert panel.shape == (64, 64, 3) and panel.dtype == np.uint8
    drawn = _changed(panel, np.full_like(panel, 40))
    expected = np.zeros((64, 64), bool)
    expected[12, 8:24] = expected[27, 8:24] = expected[12:28, 8] = expected[12:28, 23] = True
    # the empty slot and the box under min_score are not drawn
    np.testing.assert_array_equal(drawn, expected)


def test_select_boxes_drops_empty_slots():
    boxes = np.array([[0, 0, 0, 0], [1, 1, 3, 3], [2, 2, 5, 5], [4, 4, 4, 9]], np.float32)
    np.testing.assert_array_equal(select_boxes(boxes), boxes[1:3])
    np.testing.assert_array_equal(select_boxes(boxes, np.array([0, .5, .2, .9]), 0.3), boxes[1:2])


def test_overlay_heatmap_colours_the_cell_block():
    image = np.full((32, 32, 3), 128, np.uint8)
    heat = np.zeros((4, 4), np.float32)
    heat[1, 2] = 1.0
    out = overlay_heatmap(image, heat, alpha=0.5)
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8
    hot = np.zeros((32, 32), bool)
    hot[8:16, 16:24] = True  # the cell (1, 2) at stride 8, nearest-neighbour
    brightness = out.astype(int).sum(-1)
    assert np.unique(brightness[hot]).size == 1 and np.unique(brightness[~hot]).size == 1
    assert brightness[hot].min() > brightness[~hot].max()


def test_feature_energy():
    rng = np.random.default_rng(0)
    feat = rng.normal(size=(5, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(feature_energy(feat), np.linalg.norm(feat, axis=0), rtol=1e-6)
    np.testing.assert_allclose(feature_energy(feat, 'mean'), feat.mean(0), rtol=1e-6)
    np.testing.assert_allclose(
        feature_energy(feat[::-1], 'l2'), feature_energy(feat),
        rtol=1e-6)  # blind to a channel permutation
    with pytest.raises(ValueError, match='unknown reduce'):
        feature_energy(feat, 'max')


def test_figures_are_rgb_arrays_and_pngs(tmp_path):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (IMG, IMG, 3), dtype=np.uint8)
    heat = rng.random((16, 16)).astype(np.float32)
    boxes = np.array([[16., 24., 48., 64.], [0., 0., 0., 0.]])
    scores = np.array([0.7, 0.0])
    feat = rng.normal(size=(8, 16, 16)).astype(np.float32)
    pictures = {
        'regions':
        lambda out: draw_regions(
            image, heat, heat, heat, boxes, scores, gt_boxes=boxes[:1], title='t', out_file=out),
        'features':
        lambda out: draw_feature_regions(
            feat, feat, boxes, 8, scores, mask=heat > 0.5, out_file=out),
        'dafa':
        lambda out: draw_dafa(feat, feat * 2, 'Rotate+Cutout', [('Rotate', 0.5)], out_file=out),
    }
    drawn = dict()
    for name, draw in pictures.items():
        path = str(tmp_path / f'{name}.png')
        drawn[name] = picture = draw(path)
        assert picture.dtype == np.uint8 and picture.ndim == 3 and picture.shape[2] == 3
        assert picture.shape[0] > 200 and picture.shape[1] > picture.shape[0]
        saved = cv2.imread(path)[..., ::-1]
        np.testing.assert_array_equal(saved, picture)  # the PNG is the returned picture
    no_boxes = draw_regions(image, heat, heat, heat, boxes[1:], scores[1:], title='t')
    assert no_boxes.shape == drawn['regions'].shape
    assert (no_boxes != drawn['regions']).any()


def test_dafa_label():
    assert dafa_label('Rotate+Cutout', [('Rotate', 0.25)]) == \
        'DAFA Rotate+Cutout, applied: Rotate m=0.25'
    assert dafa_label('Rotate+Cutout', []) == 'DAFA Rotate+Cutout, applied: none'
    assert dafa_label(None) == 'no DAFA draw'


@pytest.fixture(scope='module')
def sokd_and_batch(tiny_data, tmp_path_factory):
    """A random SoKD RetinaNet whose student FPN has 64 channels, mapped to the teacher's 128
    by a connector (with BN, so that eval mode matters)."""
    init_default_scope('mmdet')
    cfg = Config.fromfile(config_path(SOKD_RETINA))
    cfg.merge_from_dict(tiny_options(tiny_data, str(tmp_path_factory.mktemp('wd'))))
    cfg.model.teacher_ckpt = None  # a random teacher is enough to look at
    student = cfg.model.architecture
    student.neck.out_channels = student.bbox_head.in_channels = 64
    student.bbox_head.feat_channels = 64
    cfg.model.distiller.connectors = dict(
        s_fpn=dict(
            type='ConvModuleConnector', in_channel=64, out_channel=128, norm_cfg=dict(type='BN')))
    for mapping in cfg.model.distiller.loss_forward_mappings.values():
        mapping.preds_S.connector = 's_fpn'
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    batch = next(iter(Runner.build_dataloader(cfg.val_dataloader, seed=0)))
    return model, batch


def test_inspect_batch_shapes_boxes_and_images(sokd_and_batch):
    model, batch = sokd_and_batch
    model.train()
    dafa = model.distiller.dafa
    stream = dafa.get_extra_state().clone()
    bn = model.distiller.connectors['s_fpn'].conv_module.bn
    bn_stats = bn.running_mean.clone()
    result = inspect_batch(model, batch, levels=(0, 1, 2))
    assert model.training and bn.training  # train mode restored
    assert torch.equal(bn.running_mean, bn_stats)  # run in eval mode: statistics untouched
    assert torch.equal(dafa.get_extra_state(), stream)  # DAFA's random stream untouched
    assert result['input_hw'] == (IMG, IMG) and result['has_dam'] and result['has_dafa']
    assert len(result['images']) == 2
    for item in result['images']:
        original = cv2.imread(item['img_path'])[..., ::-1]  # 128x128 files: no resize
        assert item['image'].dtype == np.uint8 and item['image'].shape == (IMG, IMG, 3)
        assert np.abs(item['image'].astype(int) - original).max() <= 1
        assert item['sub_policy'] in {
            dafa.sub_policy_name(k)
            for k in range(dafa.num_sub_policies)
        }
        assert item['gt_boxes'].shape[1] == 4
        for level, lv in item['levels'].items():
            size = IMG // 2**(level + 3)
            assert lv['stride'] == (2**(level + 3), ) * 2
            for key in ('heat_s', 'heat_t', 'mutual', 'mask'):
                assert lv[key].shape == (size, size), key
            # the student's 64 FPN channels, mapped to 128 by the connector
            assert lv['feat_s'].shape == lv['feat_t_aug'].shape == (128, size, size)
            assert lv['boxes'].shape == (model.distiller.dam.topk, 4)
            assert (lv['boxes'] >= 0).all() and (lv['boxes'] <= IMG).all()
            np.testing.assert_allclose(lv['boxes'], lv['boxes_cells'] * lv['stride'][0])
            assert (lv['scores'] > 0).any()
            # the mask: cells whose centre lies in a region (DAM's rule), from the boxes
            centres = np.arange(size) + 0.5
            x1, y1, x2, y2 = (lv['boxes_cells'][lv['scores'] > 0, c, None, None] for c in range(4))
            inside = ((centres[None, :, None] >= y1) & (centres[None, :, None] <= y2) &
                      (centres[None, None, :] >= x1) & (centres[None, None, :] <= x2))
            np.testing.assert_array_equal(lv['mask'], inside.any(0).astype(np.float32))
    assert any(lv['mask'].any() for item in result['images'] for lv in item['levels'].values())


def test_inspect_batch_applies_the_drawn_ops(sokd_and_batch):
    model, batch = sokd_and_batch
    probs = model.distiller.dafa.probs
    saved = probs.detach().clone()
    try:
        results = []
        for p in (1e-3, 1 - 1e-3):  # (almost) never / always apply the sub-policy's ops
            with torch.no_grad():
                probs.fill_(p)
            results.append(inspect_batch(model, batch, levels=(0, 2)))
    finally:
        with torch.no_grad():
            probs.copy_(saved)
    never, always = (r['images'][0] for r in results)
    assert never['applied_ops'] == ()
    for lv in never['levels'].values():
        np.testing.assert_array_equal(lv['feat_t_aug'], lv['feat_t'])
    assert [op for op, _ in always['applied_ops']] == always['sub_policy'].split('+')
    # an untrained policy: every op at the config's initial magnitude
    (init, ) = model.distiller.dafa.magnitudes.detach().unique().tolist()
    assert all(m == pytest.approx(init) for _, m in always['applied_ops'])
    assert not np.allclose(always['levels'][0]['feat_t_aug'], always['levels'][0]['feat_t'])


def test_inspect_batch_reports_unknown_levels(sokd_and_batch):
    model, batch = sokd_and_batch
    # the quickstart SoKD configs distil P3-P5: levels 0-2 of the FPN's outputs
    with pytest.raises(ValueError, match=r'levels \[3, 7\] .* read levels \[0, 1, 2\]$'):
        inspect_batch(model, batch, levels=(0, 3, 7))


def test_draw_inspection_writes_the_three_pictures(sokd_and_batch, tmp_path):
    model, batch = sokd_and_batch
    result = inspect_batch(model, batch, levels=(1, ))
    result['images'] = result['images'][:1]
    pictures = draw_inspection(result, str(tmp_path), first_index=3)
    names = {'regions_img3_lvl1', 'features_img3_lvl1', 'dafa_img3_lvl1'}
    assert set(pictures) == names
    for name in names:
        assert (tmp_path / f'{name}.png').is_file()
        assert pictures[name].dtype == np.uint8
