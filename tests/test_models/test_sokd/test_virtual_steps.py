"""The virtual step's update functions against the optimisers' own steps."""
import copy

import pytest
import torch

from sokd_mmdet.models.sokd.virtual_steps import clip_by_global_norm, optimizer_step, sgd_step

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
