"""The shared parameter update of SoKD, TST and ATF
(sokd_mmdet/models/steps/parameter_update.py)."""
import pytest
import torch
from mmengine.optim import OptimWrapper
from torch import nn

from sokd_mmdet.models.steps import average_gradients, gradient_surrogate, update_params


def _model_and_wrapper(accumulative_counts=1):
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    wrapper = OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.5), accumulative_counts=accumulative_counts)
    return model, wrapper


def test_update_params_takes_the_optimisers_step_and_clears_the_gradients():
    model, wrapper = _model_and_wrapper()
    x = torch.randn(4, 3)
    weight = model.weight.detach().clone()
    loss = model(x).square().sum()
    grad, = torch.autograd.grad(loss, model.weight, retain_graph=True)
    update_params(wrapper, loss)
    torch.testing.assert_close(model.weight.detach(), weight - 0.5 * grad)
    assert model.weight.grad is None or float(model.weight.grad.abs().max()) == 0.0


def test_update_params_restricted_to_inputs_leaves_other_gradients_alone():
    model, _ = _model_and_wrapper()
    other = nn.Parameter(torch.ones(2))
    wrapper = OptimWrapper(torch.optim.SGD([other], lr=0.1))
    loss = (model(torch.randn(4, 3)) * other).sum()
    grad, = torch.autograd.grad(loss, other, retain_graph=True)
    update_params(wrapper, loss, [other], inputs=[other])
    assert model.weight.grad is None and model.bias.grad is None
    torch.testing.assert_close(other.detach(), torch.ones(2) - 0.1 * grad)


def test_update_params_honours_gradient_accumulation():
    model, wrapper = _model_and_wrapper(accumulative_counts=2)
    weight = model.weight.detach().clone()
    x = torch.randn(4, 3)
    with wrapper.optim_context(model):
        update_params(wrapper, model(x).sum())
    torch.testing.assert_close(model.weight.detach(), weight)  # first of two: no step yet
    assert model.weight.grad is not None
    with wrapper.optim_context(model):
        update_params(wrapper, model(x).sum())
    # two accumulated half-weighted gradients of the same loss: one full step
    expected = weight - 0.5 * x.sum(0).expand(2, 3)
    torch.testing.assert_close(model.weight.detach(), expected)


def test_average_gradients_is_the_identity_in_one_process():
    p = nn.Parameter(torch.zeros(3))
    p.grad = torch.tensor([1.0, -2.0, 3.0])
    average_gradients([p, nn.Parameter(torch.zeros(1))])  # a parameter without .grad too
    torch.testing.assert_close(p.grad, torch.tensor([1.0, -2.0, 3.0]))


def test_gradient_surrogate_has_the_given_gradient_and_leaves_none_alone():
    a, b = nn.Parameter(torch.randn(2, 3)), nn.Parameter(torch.randn(4))
    leaf = torch.randn(2, 3, requires_grad=True)
    g = leaf * 2  # a gradient taken with create_graph=True has a graph: it is detached
    gradient_surrogate([a, b], [g, None]).backward()
    assert torch.equal(a.grad, g.detach()) and b.grad is None
    assert leaf.grad is None  # nothing flowed into the graph of g
    with pytest.raises(ValueError, match='every gradient is None'):
        gradient_surrogate([a, b], [None, None])


@pytest.mark.parametrize('accumulative_counts', [1, 2])
def test_update_from_a_gradient_is_the_update_from_its_loss(accumulative_counts):
    """The surrogate through the optim wrapper: the same accumulation, clipping and step as
    backpropagating the loss itself (AdamW, clipped at a norm the gradient exceeds)."""
    weights = []
    for reuse in (False, True):
        torch.manual_seed(0)
        model = nn.Linear(3, 2)
        start = model.weight.detach().clone()
        wrapper = OptimWrapper(
            torch.optim.AdamW(model.parameters(), lr=0.1),
            accumulative_counts=accumulative_counts,
            clip_grad=dict(max_norm=0.5))
        for step in range(2 * accumulative_counts):
            x = torch.randn(4, 3)
            loss = model(x).square().sum()
            if reuse:
                params = list(model.parameters())
                loss = gradient_surrogate(params, torch.autograd.grad(loss, params))
            with wrapper.optim_context(model):
                update_params(wrapper, loss)
        weights.append(model.weight.detach().clone())
    assert (weights[0] - start).abs().min() > 1e-3  # every weight stepped
    torch.testing.assert_close(weights[1], weights[0], rtol=1e-6, atol=1e-7)
