"""Gradients with zeros for unreached tensors: what every policy-step product sums over."""
import torch

from sokd_mmdet.models.sokd.gradients import grads_or_none, grads_or_zeros, zeros_for_none


def test_an_unreached_tensor_gets_none_then_zeros_of_its_shape():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.ones(2, 3, requires_grad=True)
    value = (a**2).sum()
    ga, gb = grads_or_none(value, [a, b], retain_graph=True)
    assert torch.equal(ga, torch.tensor([2.0, 4.0])) and gb is None
    za, zb = grads_or_zeros(value, [a, b])
    assert torch.equal(za, ga) and torch.equal(zb, torch.zeros(2, 3))


def test_a_value_without_a_graph_has_no_gradient_anywhere():
    a = torch.ones(3, requires_grad=True)
    value = torch.tensor(5.0)
    assert grads_or_none(value, [a]) == [None]
    assert torch.equal(grads_or_zeros(value, [a])[0], torch.zeros(3))


def test_zeros_for_none_keeps_given_gradients_and_their_graph():
    a = torch.ones(2, requires_grad=True)
    g = a * 3
    out = zeros_for_none([a, torch.empty(4)], [g, None])
    assert out[0] is g and out[1].shape == (4, ) and not out[1].any()
    # kwargs reach autograd: a gradient with its graph can be differentiated again
    x = torch.tensor(2.0, requires_grad=True)
    (gx, ) = grads_or_zeros(x**3, [x], create_graph=True)
    (ggx, ) = grads_or_zeros(gx, [x])
    assert float(gx) == 12.0 and float(ggx) == 12.0
