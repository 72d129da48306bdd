"""TSTAugmenter: prior bias, seeded sampling, straight-through gates, gradients to the
probabilities and magnitudes (incl. finite differences), colour ops in pixel space."""
import math

import pytest
import torch

from sokd_mmdet.models.tst import TSTAugmenter
from sokd_mmdet.models.tst.gates import straight_through_gates
from sokd_mmdet.models.tst.image_ops import IMAGE_OPS

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


def _normalised(pixels):
    mean, std = torch.tensor(MEAN)[:, None, None], torch.tensor(STD)[:, None, None]
    return (pixels.to(torch.float64 if pixels.dtype == torch.float64 else torch.float32) -
            mean.to(pixels.dtype)) / std.to(pixels.dtype)


def test_prior_bias_at_init_and_its_bounds():
    aug = TSTAugmenter(
        ops=('Rotate', 'Contrast'),
        prior_prob={
            'Rotate': 0.3,
            'Contrast': 0.1
        },
        prior_magnitude=0.4,
        magnitude_bound=0.25,
        prob_bound=1.5)
    torch.testing.assert_close(aug.probs, torch.tensor([0.3, 0.1]))
    torch.testing.assert_close(aug.magnitudes, torch.tensor([0.4, 0.4]))
    with torch.no_grad():
        aug.prob_offsets.copy_(torch.tensor([100.0, -100.0]))
        aug.magnitude_offsets.copy_(torch.tensor([100.0, -100.0]))
    torch.testing.assert_close(aug.magnitudes, torch.tensor([0.65, 0.15]))
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    expected = [1 / (1 + math.exp(-(logit(0.3) + 1.5))), 1 / (1 + math.exp(-(logit(0.1) - 1.5)))]
    torch.testing.assert_close(aug.probs, torch.tensor(expected))


def test_invalid_priors_are_clear_errors():
    with pytest.raises(ValueError, match='leaves \\[0, 1\\]'):
        TSTAugmenter(ops=('Rotate', ), prior_magnitude=0.9, magnitude_bound=0.2)
    with pytest.raises(ValueError, match='missing'):
        TSTAugmenter(ops=('Rotate', 'Scale'), prior_prob={'Rotate': 0.2})
    with pytest.raises(ValueError, match='prior_prob'):
        TSTAugmenter(ops=('Rotate', ), prior_prob=1.0)
    # HFlip has no magnitude: its prior magnitude is not checked
    TSTAugmenter(ops=('HFlip', ), prior_magnitude=1.0, magnitude_bound=0.3)


def test_sampling_is_seeded_and_resumes_from_the_state_dict():
    a, b = TSTAugmenter(seed=7), TSTAugmenter(seed=7)
    a.resample(4)
    b.resample(4)
    assert all(torch.equal(x, y) for x, y in zip(a.last_draw, b.last_draw))
    state = a.state_dict()
    a.resample(4)
    expected = a.last_draw
    c = TSTAugmenter(seed=0)
    c.load_state_dict(state)
    c.resample(4)
    assert all(torch.equal(x, y) for x, y in zip(c.last_draw, expected))
    assert not torch.equal(
        TSTAugmenter(seed=8).state_dict()['_extra_state'], state['_extra_state'])
    assert set(a.state_dict()) == {'prob_offsets', 'magnitude_offsets', '_extra_state'}


def test_gates_are_hard_with_the_right_frequency():
    g = torch.Generator().manual_seed(0)
    probs = torch.tensor([0.1, 0.5, 0.8], requires_grad=True)
    u = torch.rand(20000, 3, generator=g).clamp(1e-6, 1 - 1e-6)
    gates = straight_through_gates(probs, u, temperature=0.5)
    assert set(gates.detach().unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(gates.detach().mean(0), probs.detach(), atol=0.012, rtol=0)
    # the straight-through gradient of E[gate] w.r.t. p is positive for every op, as the
    # true one (d E[b] / dp = 1)
    gates.mean(0).sum().backward()
    assert (probs.grad > 0).all() and torch.isfinite(probs.grad).all()


def test_colour_ops_act_on_pixel_values_of_the_normalised_input():
    pixels = torch.tensor([40.0, 128.0, 200.0])[:, None, None].expand(3, 4, 5)
    x = _normalised(pixels)[None].repeat(2, 1, 1, 1)
    aug = TSTAugmenter(
        ops=('Brightness', ),
        prior_prob=0.9999,
        prior_magnitude=0.6,
        magnitude_bound=0.0,
        mean=MEAN,
        std=STD)
    aug.resample(2)
    out, _ = aug(x)
    sign = aug.last_draw[1][:, 0]
    factor = 1 + sign * 0.6 * 0.5  # 1.3 or 0.7
    expected = (pixels[None] * factor[:, None, None, None]).clamp(0, 255)
    back = out * torch.tensor(STD)[:, None, None] + torch.tensor(MEAN)[:, None, None]
    torch.testing.assert_close(back, expected, atol=1e-3, rtol=0)


def test_no_applied_op_leaves_the_batch_unchanged():
    aug = TSTAugmenter(prior_prob=1e-4, prob_bound=0.0, mean=MEAN, std=STD)
    x = torch.randn(3, 3, 32, 40)
    aug.resample(3)
    assert (aug.last_draw[0] < 1 - 1e-4).all()  # every gate 0
    out, _ = aug(x)
    torch.testing.assert_close(out, x, atol=1e-4, rtol=0)


def test_gradients_reach_every_probability_and_the_applied_magnitudes():
    g = torch.Generator().manual_seed(1)
    aug = TSTAugmenter(prior_prob=0.5, mean=MEAN, std=STD, seed=1)
    x = _normalised(torch.rand(4, 3, 24, 32, generator=g) * 255)
    weights = torch.randn(4, 3, 24, 32, generator=g)
    aug.resample(4)
    out, _ = aug(x)
    (out * weights).sum().backward()
    gp, gm = aug.prob_offsets.grad, aug.magnitude_offsets.grad
    assert torch.isfinite(gp).all() and torch.isfinite(gm).all()
    assert (gp != 0).all()  # straight-through: applied or not, every op learns its p
    applied = (aug.last_draw[0] > 1 - aug.probs.detach()).any(0)
    has_magnitude = torch.tensor([op.has_magnitude for op in aug.image_ops])
    assert applied.sum() >= 6
    assert torch.equal(gm != 0, applied & has_magnitude)  # exactly the applied ops' m


@pytest.mark.parametrize('op', ['Contrast', 'Rotate', 'ShearY'])
def test_magnitude_gradient_matches_finite_differences(op):
    g = torch.Generator().manual_seed(2)
    h, w = 20, 24
    ys, xs = torch.meshgrid(
        torch.linspace(0, 1, h, dtype=torch.float64),
        torch.linspace(0, 1, w, dtype=torch.float64),
        indexing='ij')
    smooth = torch.stack([torch.sin(3 * xs + 2 * ys), torch.cos(2 * xs - ys), xs * ys])
    pixels = 128 + 60 * smooth  # no colour clamping anywhere
    x = _normalised(pixels)[None].repeat(2, 1, 1, 1)
    weights = torch.randn(2, 3, h, w, generator=g, dtype=torch.float64)
    aug = TSTAugmenter(ops=(op, ), prior_prob=0.9999, mean=MEAN, std=STD).double()
    aug.resample(2)

    def objective():
        return (aug(x)[0] * weights).sum()

    objective().backward()
    analytic = aug.magnitude_offsets.grad[0].item()
    eps = 1e-6
    with torch.no_grad():
        aug.magnitude_offsets += eps
        up = objective().item()
        aug.magnitude_offsets -= 2 * eps
        down = objective().item()
    numeric = (up - down) / (2 * eps)
    assert abs(analytic) > 1e-3
    assert analytic == pytest.approx(numeric, rel=1e-4)


def test_magnitude_sets_the_strength_of_the_op():
    """Through the augmenter, Rotate at magnitude m turns by sign * m * 30 degrees."""
    aug = TSTAugmenter(
        ops=('Rotate', ), prior_prob=0.9999, prior_magnitude=0.5, magnitude_bound=0.0)
    aug.resample(1)
    gates, values = aug.gates_and_values(1, torch.device('cpu'), torch.float32)
    assert gates.tolist() == [[1.0]]
    assert values.item() == pytest.approx(15.0 * aug.last_draw[1].item())
    assert IMAGE_OPS['Rotate'].max_value * 0.5 == 15.0


def test_draw_size_must_match_the_batch():
    aug = TSTAugmenter()
    with pytest.raises(RuntimeError, match='resample'):
        aug(torch.zeros(2, 3, 8, 8))
    aug.resample(3)
    with pytest.raises(ValueError, match='resample\\(2\\)'):
        aug(torch.zeros(2, 3, 8, 8))
