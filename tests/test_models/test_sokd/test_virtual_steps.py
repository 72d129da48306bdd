"""The virtual step's update functions against the optimisers' own steps."""
import copy

import pytest
import torch

from sokd_mmdet.models.sokd.virtual_steps import (autograd_vjp, clip_by_global_norm,
                                                  optimizer_step, sgd_step, vjp_of)

OPTIMISERS = [
    (torch.optim.SGD, dict(lr=0.1)),
    (torch.optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=1e-2)),
    (torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2)),
    (torch.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1)),
    (torch.optim.Adam, dict(lr=1e-2, weight_decay=1e-2)),
    (torch.optim.AdamW, dict(lr=1e-2, weight_decay=5e-2)),
]


def _params(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(3, 4, generator=g, dtype=torch.float64).requires_grad_(),
        torch.randn(5, generator=g, dtype=torch.float64).requires_grad_()
    ]


def _grads(seed):
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(3, 4, generator=g, dtype=torch.float64),
        torch.randn(5, generator=g, dtype=torch.float64)
    ]


@pytest.mark.parametrize('cls,kwargs', OPTIMISERS)
@pytest.mark.parametrize('steps_before', [0, 2])
def test_optimizer_step_is_the_update_the_optimiser_takes(cls, kwargs, steps_before):
    params = _params()
    opt = cls(params, **kwargs)
    for i in range(steps_before):  # moments, momentum buffers and step counts
        for p, g in zip(params, _grads(10 + i)):
            p.grad = g
        opt.step()
    grads = _grads(99)
    predicted = optimizer_step(opt, params)(grads)
    state = copy.deepcopy(opt.state_dict())
    before = [p.detach().clone() for p in params]
    for p, g in zip(params, grads):
        p.grad = g
    opt.step()
    for b, p, d in zip(before, params, predicted):
        torch.testing.assert_close(p.detach() - b, d.detach(), rtol=1e-10, atol=1e-12)
    # the optimiser's state was read, not written, by the prediction
    opt.load_state_dict(state)


def test_clipping_and_its_gradient():
    grads = _grads(3)
    norm = torch.sqrt(sum((g**2).sum() for g in grads))
    clipped = clip_by_global_norm(grads, max_norm=1.0)
    torch.testing.assert_close(
        torch.sqrt(sum((c**2).sum() for c in clipped)),
        torch.tensor(1.0, dtype=torch.float64),
        rtol=1e-5,
        atol=0)
    assert all(torch.equal(a, b) for a, b in zip(clip_by_global_norm(grads, 1e6), grads))
    # torch's own clip agrees
    copies = [g.clone().requires_grad_() for g in grads]
    for c in copies:
        c.grad = c.detach().clone()
    torch.nn.utils.clip_grad_norm_(copies, 1.0)
    for c, x in zip(copies, clipped):
        torch.testing.assert_close(c.grad, x)
    # a VJP through the clip against central differences
    g = [t.clone().requires_grad_() for t in grads]
    v = _grads(4)
    out = clip_by_global_norm(g, 1.0)
    vjp = torch.autograd.grad(out, g, grad_outputs=v)
    h = 1e-6
    e = torch.zeros_like(grads[0])
    e[1, 2] = h

    def f(x0):
        return sum((a * b).sum() for a, b in zip(clip_by_global_norm([x0, grads[1]], 1.0), v))

    fd = (f(grads[0] + e) - f(grads[0] - e)) / (2 * h)
    torch.testing.assert_close(vjp[0][1, 2], fd, rtol=1e-6, atol=1e-9)
    assert norm > 1


def test_sgd_step_and_refusals():
    grads = _grads(1)
    assert all(torch.equal(d, -0.3 * g) for d, g in zip(sgd_step(0.3)(grads), grads))
    params = _params()
    with pytest.raises(ValueError, match='supports SGD, Adam and AdamW, not RMSprop'):
        optimizer_step(torch.optim.RMSprop(params), params)
    with pytest.raises(ValueError, match='not in the student optimiser'):
        optimizer_step(torch.optim.SGD(params[:1], lr=0.1), params)
    with pytest.raises(ValueError, match='amsgrad'):
        optimizer_step(torch.optim.Adam(params, amsgrad=True), params)(_grads(2))


@pytest.mark.parametrize('cls,kwargs', OPTIMISERS)
@pytest.mark.parametrize('max_norm', [None, 1e6, 0.5])  # no clip, inactive, active
def test_vjp_one_parameter_at_a_time_is_the_autograd_one(cls, kwargs, max_norm):
    """The product the policy step takes after the outer pass (no graph over the whole
    update) is autograd's through the whole update, clipping's coupling included."""
    params = _params()
    opt = cls(params, **kwargs)
    for i in range(2):
        for p, g in zip(params, _grads(10 + i)):
            p.grad = g
        opt.step()
    clip = None if max_norm is None else dict(max_norm=max_norm)
    step = optimizer_step(opt, params, clip)
    grads, v = _grads(99), _grads(98)
    expected = autograd_vjp(step, grads, v)
    got = step.vjp(grads, v)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    assert all(g.abs().max() > 1e-6 for g in got)
    if max_norm == 0.5:  # the coupling term matters: without it the product differs
        local = optimizer_step(opt, params, None).vjp([g * 0.5 / _norm(grads) for g in grads], v)
        assert not torch.allclose(got[0], 0.5 / _norm(grads) * local[0])
    # and both are central differences of <delta(g), v>
    h = 1e-6
    e = torch.zeros_like(grads[0])
    e[2, 1] = h

    def f(x0):
        return float(sum((d * x).sum() for d, x in zip(step([x0, grads[1]]), v)))

    fd = (f(grads[0] + e) - f(grads[0] - e)) / (2 * h)
    assert got[0][2, 1].item() == pytest.approx(fd, rel=1e-6, abs=1e-9)


def _norm(grads):
    return torch.sqrt(sum((g**2).sum() for g in grads))


def test_scaled_steps_and_the_sgd_product():
    grads, v = _grads(1), _grads(2)
    step = sgd_step(0.3)
    assert all(torch.equal(u, -0.3 * x) for u, x in zip(step.vjp(grads, v), v))
    half = step.scaled(0.5)
    assert all(torch.allclose(d, -0.15 * g) for d, g in zip(half(grads), grads))
    assert all(torch.allclose(u, -0.15 * x) for u, x in zip(half.vjp(grads, v), v))
    # a plain function (no product of its own) gets autograd's
    assert all(
        torch.allclose(u, -2.0 * x)
        for u, x in zip(vjp_of(lambda g: [-2.0 * t for t in g], grads, v), v))
