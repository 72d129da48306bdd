"""TST's image ops, the affine warp and the pixel-space mapping: numbers, not just shapes."""
import math

import pytest
import torch

from sokd_mmdet.models.tst.affine import compose, gated, sampling_theta, to_pixel, warp
from sokd_mmdet.models.tst.image_ops import (IMAGE_OPS, GeometricOp, PhotometricOp,
                                             build_image_ops, grey)
from sokd_mmdet.models.tst.pixels import to_normalised, to_unit_pixels

GEOMETRIC = [n for n, op in IMAGE_OPS.items() if isinstance(op, GeometricOp)]
PHOTOMETRIC = [n for n, op in IMAGE_OPS.items() if isinstance(op, PhotometricOp)]


def _apply(matrix, x, y):
    """Where the centred point (x, y) goes under a (1, 3, 3) matrix."""
    out = matrix[0] @ torch.tensor([x, y, 1.0])
    return out[:2].tolist()


@pytest.mark.parametrize('name', [n for n in GEOMETRIC if n != 'HFlip'])
def test_zero_value_is_the_identity_matrix(name):
    m = IMAGE_OPS[name].forward_matrix(torch.zeros(3), 40, 60)
    assert m.shape == (3, 3, 3)
    torch.testing.assert_close(m, torch.eye(3).expand(3, 3, 3))


@pytest.mark.parametrize('name', PHOTOMETRIC)
def test_zero_value_leaves_pixels_unchanged(name):
    x = torch.rand(2, 3, 9, 11)
    torch.testing.assert_close(IMAGE_OPS[name].apply(x, torch.zeros(2)), x)


def test_geometric_matrices_move_points_as_documented():
    h, w = 40, 60
    v = torch.tensor([0.25])
    assert _apply(IMAGE_OPS['TranslateX'].forward_matrix(v, h, w), 1.0, 2.0) == [16.0, 2.0]
    assert _apply(IMAGE_OPS['TranslateY'].forward_matrix(v, h, w), 1.0, 2.0) == [1.0, 12.0]
    assert _apply(IMAGE_OPS['ShearX'].forward_matrix(v, h, w), 1.0, 2.0) == [1.5, 2.0]
    assert _apply(IMAGE_OPS['ShearY'].forward_matrix(v, h, w), 2.0, 1.0) == [2.0, 1.5]
    assert _apply(IMAGE_OPS['Scale'].forward_matrix(v, h, w), 4.0, -2.0) == [5.0, -2.5]
    assert _apply(IMAGE_OPS['HFlip'].forward_matrix(v, h, w), 3.0, 2.0) == [-3.0, 2.0]
    x, y = _apply(IMAGE_OPS['Rotate'].forward_matrix(torch.tensor([90.0]), h, w), 1.0, 0.0)
    assert abs(x) < 1e-6 and abs(y - 1.0) < 1e-6  # x axis onto y axis (down): clockwise


def test_gated_matrix_is_the_op_or_the_identity():
    m = IMAGE_OPS['Rotate'].forward_matrix(torch.tensor([20.0, 20.0]), 8, 8)
    out = gated(m, torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(out[0], m[0])
    torch.testing.assert_close(out[1], torch.eye(3))


def test_compose_applies_the_first_matrix_first():
    h, w = 20, 20
    flip = IMAGE_OPS['HFlip'].forward_matrix(torch.zeros(1), h, w)
    shift = IMAGE_OPS['TranslateX'].forward_matrix(torch.tensor([0.1]), h, w)  # +2 px
    assert _apply(compose([flip, shift]), 1.0, 0.0) == [1.0, 0.0]  # -1, then +2
    assert _apply(compose([shift, flip]), 1.0, 0.0) == [-3.0, 0.0]  # +2 = 3, then -3


def test_to_pixel_turns_about_the_image_centre():
    h, w = 10, 30
    rot = to_pixel(IMAGE_OPS['Rotate'].forward_matrix(torch.tensor([90.0]), h, w), h, w)
    centre = rot[0] @ torch.tensor([15.0, 5.0, 1.0])
    torch.testing.assert_close(centre[:2], torch.tensor([15.0, 5.0]))
    right = rot[0] @ torch.tensor([17.0, 5.0, 1.0])  # 2 px right of the centre -> 2 px below
    torch.testing.assert_close(right[:2], torch.tensor([15.0, 7.0]), atol=1e-5, rtol=0)


def test_identity_theta_and_exact_integer_shift():
    h, w = 12, 16
    torch.testing.assert_close(
        sampling_theta(torch.eye(3)[None], h, w), torch.tensor([[[1.0, 0, 0], [0, 1.0, 0]]]))
    img = torch.zeros(1, 1, h, w)
    img[0, 0, 5, 3] = 1.0
    # TranslateX by 4 px (0.25 * 16) and TranslateY by -3 px (-0.25 * 12)
    m = compose([
        IMAGE_OPS['TranslateX'].forward_matrix(torch.tensor([0.25]), h, w),
        IMAGE_OPS['TranslateY'].forward_matrix(torch.tensor([-0.25]), h, w)
    ])
    out = warp(img, to_pixel(m, h, w))
    assert out[0, 0, 2, 7] == pytest.approx(1.0, abs=1e-5)
    assert out.sum() == pytest.approx(1.0, abs=1e-5)


def test_hflip_warp_mirrors_columns_exactly():
    img = torch.rand(2, 3, 6, 10)
    m = to_pixel(IMAGE_OPS['HFlip'].forward_matrix(torch.zeros(2), 6, 10), 6, 10)
    torch.testing.assert_close(warp(img, m), img.flip(-1), atol=1e-5, rtol=0)


def test_photometric_ops_numbers():
    v = torch.tensor([0.2])
    x = torch.full((1, 3, 4, 4), 0.5)
    torch.testing.assert_close(IMAGE_OPS['Brightness'].apply(x, v), torch.full_like(x, 0.6))
    # brightness saturates at 1
    assert IMAGE_OPS['Brightness'].apply(torch.full_like(x, 0.9), v).max() == 1.0

    g = torch.Generator().manual_seed(0)
    x = 0.3 + 0.4 * torch.rand(1, 3, 8, 8, generator=g)  # room for +-20% without clamping
    out = IMAGE_OPS['Contrast'].apply(x, torch.tensor([-0.2]))
    mean = grey(x).mean()
    torch.testing.assert_close(out, mean + 0.8 * (x - mean))
    torch.testing.assert_close(grey(out).mean(), mean)  # contrast keeps the mean luma

    # saturation: grey pixels stay, colour moves towards/away from the luma
    out = IMAGE_OPS['Saturation'].apply(x, torch.tensor([0.25]))
    torch.testing.assert_close(out, (grey(x) + 1.25 * (x - grey(x))).clamp(0, 1))
    flat = torch.full((1, 3, 5, 5), 0.4)
    for name in PHOTOMETRIC[1:]:  # every op but Brightness keeps a flat grey image
        torch.testing.assert_close(IMAGE_OPS[name].apply(flat, torch.tensor([0.5])), flat)


def test_luma_weights_follow_the_channel_order():
    red = torch.zeros(1, 3, 1, 1)
    red[0, 0] = 1.0  # channel 0 is R in RGB, B in BGR
    assert grey(red, rgb=True).item() == pytest.approx(0.299)
    assert grey(red, rgb=False).item() == pytest.approx(0.114)


def test_pixel_mapping_round_trip_and_values():
    mean, std = torch.tensor([123.675, 116.28, 103.53]), torch.tensor([58.395, 57.12, 57.375])
    pixels = torch.tensor([0.0, 127.5, 255.0])[None, :, None, None].expand(1, 3, 2, 2)
    x = (pixels - mean[None, :, None, None]) / std[None, :, None, None]  # the preprocessor
    unit = to_unit_pixels(x, mean, std)
    torch.testing.assert_close(unit[0, :, 0, 0], torch.tensor([0.0, 0.5, 1.0]), atol=1e-6, rtol=0)
    torch.testing.assert_close(to_normalised(unit, mean, std), x, atol=1e-5, rtol=0)


def test_build_image_ops_errors():
    assert [op.name for op in build_image_ops(['Rotate', 'Contrast'])] == ['Rotate', 'Contrast']
    with pytest.raises(ValueError, match='unknown TST image ops'):
        build_image_ops(['Rotate', 'Solarize'])
    with pytest.raises(ValueError, match='distinct'):
        build_image_ops(['Rotate', 'Rotate'])
    with pytest.raises(ValueError, match='at least one'):
        build_image_ops([])


def test_rotation_matrix_is_orthonormal_for_any_angle():
    m = IMAGE_OPS['Rotate'].forward_matrix(torch.linspace(-30, 30, 7), 5, 5)[:, :2, :2]
    torch.testing.assert_close(m @ m.transpose(1, 2), torch.eye(2).expand(7, 2, 2))
    assert torch.allclose(torch.linalg.det(m), torch.ones(7))
    assert math.isclose(IMAGE_OPS['Rotate'].max_value, 30.0)
