"""DAFA feature ops (sokd_mmdet/models/sokd/dafa/ops.py): values, identities and gradients."""
import math

import pytest
import torch
import torch.nn.functional as F

from sokd_mmdet.models.sokd.dafa.feature_ops import FEATURE_OPS, build_ops

ALL = sorted(FEATURE_OPS)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def feat(n=2, c=6, h=8, w=10, dtype=torch.float32, seed=0):
    return torch.randn(n, c, h, w, generator=gen(seed), dtype=dtype)


def mag(value, dtype=torch.float32, grad=False):
    return torch.tensor(value, dtype=dtype, requires_grad=grad)


def sample_with_sign(op, n, c, sign=1.0):
    params = op.sample(n, c, gen(1))
    if op.signed:
        params['sign'] = torch.full((n, ), sign)
    return params


def warp_by_pixel_matrix(x, a):
    """Reference resampling built by hand: the output pixel p samples the input at
    a[:, :2] @ p + a[:, 2] (centred pixel units), bilinear, zeros outside."""
    n, _, h, w = x.shape
    ys = torch.arange(h, dtype=x.dtype) + 0.5 - h / 2
    xs = torch.arange(w, dtype=x.dtype) + 0.5 - w / 2
    py, px = torch.meshgrid(ys, xs, indexing='ij')
    qx = a[0][0] * px + a[0][1] * py + a[0][2]
    qy = a[1][0] * px + a[1][1] * py + a[1][2]
    grid = torch.stack([qx * 2 / w, qy * 2 / h], dim=-1).expand(n, h, w, 2)
    return F.grid_sample(x, grid, mode='bilinear', padding_mode='zeros', align_corners=False)


def test_registry_attributes():
    assert len(FEATURE_OPS) == 9
    assert FEATURE_OPS['Rotate'].range == (-30.0, 30.0)
    assert FEATURE_OPS['TranslateX'].range == (-0.45, 0.45)
    assert FEATURE_OPS['ChannelDrop'].range == (0.0, 0.5)
    assert [op.name for op in build_ops(['Rotate', 'Noise'])] == ['Rotate', 'Noise']


def test_build_ops_errors():
    with pytest.raises(
            ValueError,
            match=r"unknown DAFA feature op\(s\) \['Solarize'\].*"
            r"valid ops are .*'ChannelDrop'"):
        build_ops(['Rotate', 'Solarize'])
    with pytest.raises(ValueError, match='distinct'):
        build_ops(['Rotate', 'Rotate'])


@pytest.mark.parametrize('name', ALL)
def test_shape_and_identity_at_zero(name):
    op = FEATURE_OPS[name]
    x = feat()
    params = op.sample(2, 6, gen(1))
    out = op.apply(x, mag(0.0), params, gen(2))
    assert out.shape == x.shape
    torch.testing.assert_close(out, x, atol=1e-5, rtol=0)
    out = op.apply(x, mag(0.7), params, gen(2))
    assert out.shape == x.shape and not torch.allclose(out, x)


def test_sample_shapes():
    for name in ALL:
        params = FEATURE_OPS[name].sample(3, 5, gen())
        for t in params.values():
            assert t.shape[0] == 3
    assert FEATURE_OPS['Cutout'].sample(3, 5, gen())['centre'].shape == (3, 2)
    assert FEATURE_OPS['ChannelDrop'].sample(3, 5, gen())['scores'].shape == (3, 5)
    signs = FEATURE_OPS['Rotate'].sample(1000, 5, gen())['sign']
    assert set(signs.tolist()) == {-1.0, 1.0} and abs(signs.mean().item()) < 0.1


@pytest.mark.parametrize('name,axis', [('TranslateX', 3), ('TranslateY', 2)])
@pytest.mark.parametrize('sign', [1.0, -1.0])
def test_translate_by_two_cells_is_a_zero_filled_roll(name, axis, sign):
    op = FEATURE_OPS[name]
    x = feat(h=16, w=16, dtype=torch.float64)
    m = mag((2 / 16) / 0.45, torch.float64)  # 2 cells of a 16-cell side
    out = op.apply(x, m, sample_with_sign(op, 2, 6, sign))
    shift = int(2 * sign)
    expected = torch.roll(x, shift, dims=axis)
    fill = slice(0, 2) if shift > 0 else slice(-2, None)
    index = [slice(None)] * 4
    index[axis] = fill
    expected[tuple(index)] = 0
    torch.testing.assert_close(out, expected, atol=1e-10, rtol=0)


@pytest.mark.parametrize('name,m,matrix', [
    ('Rotate', 0.6, lambda v: [[math.cos(v * math.pi / 180), -math.sin(v * math.pi / 180), 0],
                               [math.sin(v * math.pi / 180),
                                math.cos(v * math.pi / 180), 0]]),
    ('ShearX', 0.8, lambda v: [[1, v, 0], [0, 1, 0]]),
    ('ShearY', 0.3, lambda v: [[1, 0, 0], [v, 1, 0]]),
])
def test_rotate_and_shear_match_a_hand_built_grid(name, m, matrix):
    # Non-square map: the transform must be a rotation / shear in pixel space.
    op = FEATURE_OPS[name]
    x = feat(h=9, w=14, dtype=torch.float64)
    for sign in (1.0, -1.0):
        out = op.apply(x, mag(m, torch.float64), sample_with_sign(op, 2, 6, sign))
        value = sign * m * op.range[1]
        expected = warp_by_pixel_matrix(x, matrix(value))
        torch.testing.assert_close(out, expected, atol=1e-10, rtol=0)


def test_signs_are_per_image():
    op = FEATURE_OPS['TranslateX']
    x = feat(n=2, h=8, w=8, dtype=torch.float64)
    params = {'sign': torch.tensor([1.0, -1.0])}
    out = op.apply(x, mag(0.125 / 0.45 * 1, torch.float64), params)  # 1 cell
    torch.testing.assert_close(out[0, :, :, 1:], x[0, :, :, :-1])
    torch.testing.assert_close(out[1, :, :, :-1], x[1, :, :, 1:])


def test_cutout_zeroes_a_square_of_the_expected_size():
    op = FEATURE_OPS['Cutout']
    x = torch.rand(3, 4, 20, 30, dtype=torch.float64) + 1  # no zeros of its own
    # Side 0.2 of each side -> 4 x 6 cells for centres whose square falls on cell edges; a
    # centre at the corner keeps only the quarter inside the map (2 x 3 cells).
    params = {'centre': torch.tensor([[0.5, 0.5], [0.4, 0.55], [0.0, 0.0]], dtype=torch.float64)}
    out = op.apply(x, mag(1.0, torch.float64), params)
    zero = (out.abs() < 1e-9)
    assert (zero == zero[:, :1]).all()  # the same cells in every channel
    assert zero[:, 0].sum(dim=(1, 2)).tolist() == [24, 24, 6]
    rows = zero[0, 0].any(dim=1).nonzero()[:, 0].tolist()
    cols = zero[0, 0].any(dim=0).nonzero()[:, 0].tolist()
    assert rows == [8, 9, 10, 11] and cols == [12, 13, 14, 15, 16, 17]
    rows = zero[1, 0].any(dim=1).nonzero()[:, 0].tolist()
    cols = zero[1, 0].any(dim=0).nonzero()[:, 0].tolist()
    assert rows == [9, 10, 11, 12] and cols == [9, 10, 11, 12, 13, 14]
    torch.testing.assert_close(out[~zero], x[~zero])
    assert op.apply(x, mag(0.0), params).equal(x)  # magnitude 0 is the identity


def test_cutout_border_cells_keep_their_uncovered_share():
    """An off-grid square: inner cells zeroed, border cells scaled by the uncovered area."""
    op = FEATURE_OPS['Cutout']
    x = torch.ones(1, 1, 10, 10, dtype=torch.float64)
    # m = 0.75: side 0.15 = 1.5 cells, centred at 0.5, covers cells 4 and 5 by 0.75 each
    # along both axes
    out = op.apply(x, mag(0.75, torch.float64), {'centre': torch.tensor([[0.5, 0.5]])})
    expected = torch.ones(10, 10, dtype=torch.float64)
    expected[4:6, 4:6] = 1 - 0.75 * 0.75
    torch.testing.assert_close(out[0, 0], expected)
    torch.testing.assert_close(1 - out.mean(), torch.tensor(0.15**2, dtype=torch.float64))


def test_noise_std_relative_to_feature_std():
    op = FEATURE_OPS['Noise']
    x = torch.randn(2, 8, 32, 32, generator=gen()) * torch.tensor([3.0, 0.5])[:, None, None, None]
    out = op.apply(x, mag(0.6), {}, gen(5))
    ratio = (out - x).flatten(1).std(dim=1) / x.flatten(1).std(dim=1)
    # 8192 samples per image: the std estimate is within ~1%; expected 0.6 * 0.1.
    torch.testing.assert_close(ratio, torch.full((2, ), 0.06), atol=0.003, rtol=0)
    # Same generator state, same field.
    torch.testing.assert_close(op.apply(x, mag(0.6), {}, gen(5)), out)


@pytest.mark.parametrize('m', [1 / 3, 2 / 3, 1.0])
def test_channel_drop_zeroes_m_half_c_channels_at_integer_counts(m):
    op = FEATURE_OPS['ChannelDrop']
    c = 12
    x = torch.rand(4, c, 3, 3, dtype=torch.float64) + 1
    params = op.sample(4, c, gen(3))
    out = op.apply(x, mag(m, torch.float64), params)
    dropped = (out.abs() < 1e-9).all(dim=(2, 3))
    count = round(m * 0.5 * c)
    assert dropped.sum(dim=1).tolist() == [count] * 4
    # The dropped channels are the highest-scoring ones; the rest are untouched.
    top = params['scores'].topk(count, dim=1).indices
    assert torch.equal(dropped, torch.zeros_like(dropped).scatter_(1, top, True))
    torch.testing.assert_close(out[~dropped], x[~dropped])


def test_channel_drop_has_the_right_derivative_at_integer_counts():
    """The default magnitude 0.5 drops 0.25 * C channels, an integer for C = 256."""
    op = FEATURE_OPS['ChannelDrop']
    x = torch.randn(1, 8, 3, 3, dtype=torch.float64)
    up = torch.randn(1, 8, 3, 3, dtype=torch.float64)
    params = op.sample(1, 8, gen(2))

    def loss(m):
        return (op.apply(x, m, params) * up).sum()

    m = mag(0.5, torch.float64, grad=True)  # 2 channels exactly
    (grad, ) = torch.autograd.grad(loss(m), m)
    h = 1e-6
    right = (loss(mag(0.5 + h, torch.float64)) - loss(mag(0.5, torch.float64))) / h
    assert abs(grad.item()) > 1e-3
    torch.testing.assert_close(grad, right, rtol=1e-6, atol=1e-8)


def test_channel_drop_scales_the_next_channel_by_the_fraction():
    op = FEATURE_OPS['ChannelDrop']
    x = torch.ones(1, 8, 2, 2, dtype=torch.float64)
    params = {'scores': torch.tensor([[0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 0.6, 0.4]])}
    out = op.apply(x, mag(0.625, torch.float64), params)  # 0.3125 * 8 = 2.5 channels
    keep = out[0, :, 0, 0].tolist()
    assert keep == pytest.approx([0, 1, 0, 1, 0.5, 1, 1, 1])


@pytest.mark.parametrize('m', [0.0, 0.3, 1.0])
def test_channel_shuffle_blends_with_a_cyclic_permutation(m):
    op = FEATURE_OPS['ChannelShuffle']
    n, c = 3, 8
    x = torch.arange(c, dtype=torch.float64)[None, :, None, None].expand(n, c, 2, 2).clone()
    params = op.sample(n, c, gen(4))
    full = op.apply(x, mag(1.0, torch.float64), params)
    source = full[:, :, 0, 0].round().long()  # which input channel each output channel holds
    order = params['scores'].argsort(dim=1, descending=True)
    for i in range(n):  # a check over a handful of images, not the op itself
        assert sorted(source[i].tolist()) == list(range(c))  # a permutation
        assert (source[i] != torch.arange(c)).all()  # every channel moves
        # one cycle through the score order: rank r holds the channel of rank r + 1
        assert source[i][order[i]].tolist() == order[i].roll(-1).tolist()
    out = op.apply(x, mag(m, torch.float64), params)
    torch.testing.assert_close(out, x + m * (full - x))


def _cwd(s, t, tau=1.0):
    """Channel-wise divergence (Shu et al. 2021): KL of the spatial softmaxes, per channel."""
    n, c = s.shape[:2]
    ps = F.log_softmax(s.flatten(2) / tau, dim=2)
    pt = F.softmax(t.flatten(2) / tau, dim=2)
    return (pt * (pt.clamp_min(1e-30).log() - ps)).sum() * tau**2 / (n * c)


@pytest.mark.parametrize('objective', ['linear', 'cwd'])
@pytest.mark.parametrize('name', ALL)
def test_magnitude_gradient_matches_finite_difference(name, objective):
    """Every op's magnitude gets the true derivative of the loss (no surrogate), also under
    CWD, whose spatial softmax is blind to a per-map constant (a straight-through gradient
    of 1 per element was exactly 0 there)."""
    op = FEATURE_OPS[name]
    x = feat(dtype=torch.float64, seed=7)
    up = feat(dtype=torch.float64, seed=8)
    params = op.sample(2, 6, gen(1))
    if op.signed:
        params['sign'] = torch.tensor([1.0, -1.0])

    def loss(m):
        out = op.apply(x, m, params, gen(9))
        return (out * up).sum() if objective == 'linear' else _cwd(up, out)

    m = mag(0.43, torch.float64, grad=True)
    (grad, ) = torch.autograd.grad(loss(m), m)
    h = 1e-6
    fd = (loss(mag(0.43 + h, torch.float64)) - loss(mag(0.43 - h, torch.float64))) / (2 * h)
    assert abs(grad.item()) > 1e-4
    torch.testing.assert_close(grad, fd, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize('name', ['ShearX', 'Rotate', 'Noise'])
def test_gradient_reaches_the_features(name):
    op = FEATURE_OPS[name]
    x = feat(seed=3).requires_grad_()
    out = op.apply(x, mag(0.5, grad=True), op.sample(2, 6, gen(1)), gen(2))
    (gx, ) = torch.autograd.grad(out.sum(), x)
    assert gx.abs().sum() > 0


def test_params_shared_across_levels_move_the_same_fraction():
    # Left half ones, right half zeros, on a 16x16 and an 8x8 level; one draw for both.
    op = FEATURE_OPS['TranslateX']
    levels = []
    for size in (16, 8):
        x = torch.zeros(2, 1, size, size, dtype=torch.float64)
        x[..., :size // 2] = 1
        levels.append(x)
    params = op.sample(2, 1, gen(11))  # random signs, the same on both levels
    m = mag(0.25 / 0.45, torch.float64)  # a quarter of the map
    big, small = (op.apply(x, m, params) for x in levels)
    torch.testing.assert_close(F.avg_pool2d(big, 2), small, atol=1e-10, rtol=0)
    for i, s in enumerate(params['sign'].tolist()):
        ones = small[i, 0, 0].nonzero()[:, 0].tolist()
        assert ones == ([2, 3, 4, 5] if s > 0 else [0, 1])

    # Cutout: the same centre covers the same fraction of each level.
    op = FEATURE_OPS['Cutout']
    params = {'centre': torch.tensor([[0.5, 0.5]])}
    big = op.apply(torch.ones(1, 1, 40, 40), mag(1.0), params)
    small = op.apply(torch.ones(1, 1, 20, 20), mag(1.0), params)
    torch.testing.assert_close(F.avg_pool2d(big, 2), small)
