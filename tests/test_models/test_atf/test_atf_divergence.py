"""ATF's math: the alpha-divergence against its closed forms, and logit standardisation."""
import pytest
import torch
import torch.nn.functional as F

from sokd_mmdet.models.atf import (alpha_divergence, anchor_class_logits,
                                   bernoulli_alpha_divergence, categorical_alpha_divergence,
                                   standardize_logits)

KINDS = [categorical_alpha_divergence, bernoulli_alpha_divergence]
pytestmark = pytest.mark.usefixtures('one_thread')


def _logits(seed=0, n=5, c=7, scale=3.0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return (scale * torch.randn(n, c, generator=g, dtype=dtype),
            scale * torch.randn(n, c, generator=g, dtype=dtype))


def _kl_categorical(a, b):
    """KL(softmax(a) || softmax(b)) per row, through torch's own kl_div."""
    return F.kl_div(
        b.log_softmax(-1), a.log_softmax(-1), log_target=True, reduction='none').sum(-1)


def _kl_bernoulli(a, b):
    """sum_c KL(Bernoulli(sigmoid(a_c)) || Bernoulli(sigmoid(b_c))), in closed form."""
    s, t = torch.sigmoid(a), torch.sigmoid(b)
    return (s * torch.log(s / t) + (1 - s) * torch.log((1 - s) / (1 - t))).sum(-1)


KL = {categorical_alpha_divergence: _kl_categorical, bernoulli_alpha_divergence: _kl_bernoulli}


def _hellinger(a, b, kind):
    """D_0.5 = 4 (1 - sum sqrt(p q)) = 2 sum (sqrt p - sqrt q)^2, per distribution."""
    if kind is categorical_alpha_divergence:
        p, q = a.softmax(-1), b.softmax(-1)
        return 4 * (1 - (p * q).sqrt().sum(-1)), 2 * ((p.sqrt() - q.sqrt())**2).sum(-1)
    s, t = torch.sigmoid(a), torch.sigmoid(b)
    bc = (s * t).sqrt() + ((1 - s) * (1 - t)).sqrt()
    sq = (s.sqrt() - t.sqrt())**2 + ((1 - s).sqrt() - (1 - t).sqrt())**2
    return (4 * (1 - bc)).sum(-1), (2 * sq).sum(-1)


@pytest.mark.parametrize('kind', KINDS)
def test_alpha_one_is_kl_p_q_and_alpha_zero_is_kl_q_p_exactly(kind):
    a, b = _logits()
    torch.testing.assert_close(kind(a, b, 1.0), KL[kind](a, b), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(kind(a, b, 0.0), KL[kind](b, a), rtol=1e-12, atol=1e-12)
    # the two directions really differ on these inputs (the test can tell them apart)
    assert (KL[kind](a, b) - KL[kind](b, a)).abs().min() > 1e-2


@pytest.mark.parametrize('kind', KINDS)
def test_general_formula_converges_linearly_to_both_kls(kind):
    a, b = _logits(1)
    for limit, kl in ((1.0, KL[kind](a, b)), (0.0, KL[kind](b, a))):
        errors = []
        for eps in (1e-2, 1e-4, 1e-6, 1e-8):
            alpha = limit - eps if limit == 1.0 else eps
            errors.append((kind(a, b, alpha) - kl).abs().max().item())
        # first-order convergence: the error shrinks with eps, about in proportion, and
        # there is no cancellation blow-up near the limit
        assert errors[0] > 1e-4
        for big, small in zip(errors, errors[1:]):
            assert small < big * 0.05
        assert errors[-1] < 1e-7 * kl.abs().max().item()


@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('alpha', [1e-6, 1e-3, 1 - 1e-3, 1 - 1e-6])
def test_float32_is_accurate_next_to_the_limits(kind, alpha):
    """No cancellation in 1 - sum p^a q^(1-a) near a = 0 or 1: float32 agrees with float64
    at the same order (a naive float32 form is off by about 1e-7 / min(a, 1-a))."""
    a, b = _logits(10)
    ref = kind(a, b, alpha)
    torch.testing.assert_close(kind(a.float(), b.float(), alpha).double(), ref, rtol=1e-5, atol=0)


@pytest.mark.parametrize('kind', KINDS)
def test_alpha_half_is_the_hellinger_closed_form(kind):
    a, b = _logits(2)
    bc_form, squares_form = _hellinger(a, b, kind)
    torch.testing.assert_close(kind(a, b, 0.5), bc_form, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(kind(a, b, 0.5), squares_form, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(kind(a, b, 0.5), kind(b, a, 0.5), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('alpha', [-1.0, 0.2, 0.7, 2.0])
def test_other_orders_match_the_definition(alpha):
    a, b = _logits(3, scale=1.0)
    p, q = a.softmax(-1), b.softmax(-1)
    expected = (1 - (p**alpha * q**(1 - alpha)).sum(-1)) / (alpha * (1 - alpha))
    torch.testing.assert_close(
        categorical_alpha_divergence(a, b, alpha), expected, rtol=1e-10, atol=1e-12)
    # the mirror identity D_alpha(p || q) = D_(1-alpha)(q || p)
    torch.testing.assert_close(
        categorical_alpha_divergence(a, b, alpha),
        categorical_alpha_divergence(b, a, 1 - alpha),
        rtol=1e-10,
        atol=1e-12)


@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('alpha', [0.0, 0.1, 0.5, 0.9, 1.0])
def test_zero_iff_equal_and_positive_otherwise(kind, alpha):
    a, b = _logits(4)
    assert torch.equal(kind(a, a, alpha), torch.zeros(a.shape[0], dtype=a.dtype))
    # a shift of all logits leaves a softmax unchanged (not so a sigmoid)
    shifted = kind(a, a + 3.0, alpha)
    if kind is categorical_alpha_divergence:
        assert shifted.abs().max() < 1e-12
    else:
        assert shifted.min() > 1e-3
    assert kind(a, b, alpha).min() > 1e-3


@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('alpha', [0.0, 0.05, 0.5, 0.95, 1.0])
def test_non_negative_and_finite_on_extreme_float32_logits(kind, alpha):
    a, b = _logits(5, n=64, c=6, scale=40.0, dtype=torch.float32)
    a.requires_grad_()
    b.requires_grad_()
    value = kind(a, b, alpha)
    assert torch.isfinite(value).all() and value.min() >= -1e-6  # float32 rounding only
    value.sum().backward()
    assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all()
    # against the double-precision value: the log-space form loses no accuracy
    ref = kind(a.detach().double(), b.detach().double(), alpha)
    torch.testing.assert_close(value.double(), ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('alpha', [0.0, 0.3, 0.8, 1.0])  # exact KLs, mirrored, direct form
def test_gradcheck(kind, alpha):
    a, b = _logits(6, n=2, c=4, scale=2.0)
    # a row where q holds class 0 far likelier than p: the x > 1 branch of the log-space form
    a = torch.cat([a, torch.tensor([[-6.0, 3.0, 0.0, 1.0]], dtype=a.dtype)]).requires_grad_()
    b = torch.cat([b, torch.tensor([[5.0, -2.0, 0.0, 1.0]], dtype=b.dtype)]).requires_grad_()
    assert torch.autograd.gradcheck(lambda x, y: kind(x, y, alpha), (a, b))
    assert torch.autograd.gradcheck(lambda x, y: kind(x, y, alpha), (b, a))


def test_alpha_divergence_on_log_probs_reduces_the_given_dim():
    a, b = _logits(7, n=3, c=4)
    lp, lq = a.log_softmax(-1), b.log_softmax(-1)
    per_row = alpha_divergence(lp, lq, 0.3)
    by_columns = alpha_divergence(lp.t(), lq.t(), 0.3, dim=0)
    assert per_row.shape == (3, )
    torch.testing.assert_close(per_row, by_columns)


def test_standardisation_over_classes():
    a, _ = _logits(8)
    z = standardize_logits(a, tau=2.0)
    torch.testing.assert_close(z.mean(-1), torch.zeros(5, dtype=a.dtype), atol=1e-12, rtol=0)
    torch.testing.assert_close(
        z.std(-1, correction=0), torch.full((5, ), 0.5, dtype=a.dtype), atol=1e-6, rtol=0)
    # invariant to a per-sample positive scale and shift: only the shape of the logits counts
    scale = torch.tensor([[0.1], [1.0], [5.0], [20.0], [3.0]], dtype=a.dtype)
    torch.testing.assert_close(standardize_logits(a * scale - 7.0, tau=2.0), z, atol=1e-6, rtol=0)


def test_standardisation_of_constant_logits_is_zero_with_finite_gradient():
    a = torch.full((2, 5), 3.0, dtype=torch.float64, requires_grad=True)
    z = standardize_logits(a)
    assert torch.equal(z, torch.zeros_like(z))
    z.sum().backward()
    assert torch.isfinite(a.grad).all()
    b, _ = _logits(9, n=3, c=4)
    assert torch.autograd.gradcheck(lambda x: standardize_logits(x, tau=1.5),
                                    (b.requires_grad_(), ))


def test_anchor_class_logits_follows_mmdet_layout():
    n, a, c, h, w = 2, 3, 4, 5, 6
    maps = torch.randn(n, a * c, h, w)
    rows = anchor_class_logits(maps, num_classes=c)
    assert rows.shape == (n, a, h, w, c)
    # mmdet's own flattening of a cls_score map in AnchorHead.loss_by_feat_single
    mmdet_rows = maps.permute(0, 2, 3, 1).reshape(n, h, w, a, c)
    torch.testing.assert_close(rows, mmdet_rows.permute(0, 3, 1, 2, 4), rtol=0, atol=0)
    assert rows[1, 2, 3, 4, 1] == maps[1, 2 * c + 1, 3, 4]
    with pytest.raises(ValueError, match='num_classes'):
        anchor_class_logits(maps)
    with pytest.raises(ValueError, match='not a multiple'):
        anchor_class_logits(maps, num_classes=5)
    with pytest.raises(ValueError, match='num_classes is 3'):
        anchor_class_logits(torch.randn(2, 4), num_classes=3)
