"""The unrolled policy gradient against a brute-force derivative of the outer loss."""
from functools import partial

import pytest
import torch

from sokd_mmdet.models.sokd.unrolled import (finite_difference_mixed_product,
                                             gradient_mixed_product, recomputed_mixed_product,
                                             unrolled_policy_gradient)
from sokd_mmdet.models.sokd.virtual_steps import sgd_step


def _toy_problem(seed=0):
    """A tiny 'student' (theta: a 2x3 matrix and a 3-vector) and a policy chi (4 values).

    L_train(theta; chi) depends on chi non-linearly (like a loss on augmented targets),
    L_val(theta) does not depend on chi at all (the outer loss on original knowledge).
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(8, 2, generator=g, dtype=torch.float64)
    y = torch.randn(8, 3, generator=g, dtype=torch.float64)
    a = torch.randn(4, 3, generator=g, dtype=torch.float64)
    params = {
        'w': torch.randn(2, 3, generator=g, dtype=torch.float64),
        'b': torch.randn(3, generator=g, dtype=torch.float64),
    }

    def target(chi):
        return y + torch.tanh(chi) @ a  # the 'augmented' teacher targets

    def l_train(p, chi):
        return ((torch.tanh(x @ p['w'] + p['b']) - target(chi))**2).mean()

    def l_val(p):
        return ((torch.tanh(x @ p['w'] + p['b']) - y)**2).mean() + 0.1 * (p['w']**2).sum()

    chi = torch.randn(4, generator=g, dtype=torch.float64)
    return params, chi, l_train, l_val


def _outer(params, chi, l_train, l_val, lr):
    """L_val(theta - lr * grad L_train(theta; chi)) as a function of chi (exact)."""
    p = {n: t.clone().requires_grad_() for n, t in params.items()}
    grads = torch.autograd.grad(l_train(p, chi), list(p.values()), create_graph=True)
    return l_val({n: t - lr * g for (n, t), g in zip(p.items(), grads)})


def test_mixed_product_matches_autograd():
    params, chi, l_train, _ = _toy_problem(1)
    v = [torch.randn_like(t) for t in params.values()]

    def policy_grad_at(p):
        c = chi.clone().requires_grad_()
        return list(torch.autograd.grad(l_train(p, c), [c]))

    (fd, ) = finite_difference_mixed_product(policy_grad_at, params, v, eps=1e-4)
    # exact: d/dchi <grad_theta L_train, v>
    p = {n: t.clone().requires_grad_() for n, t in params.items()}
    c = chi.clone().requires_grad_()
    g_theta = torch.autograd.grad(l_train(p, c), list(p.values()), create_graph=True)
    (exact, ) = torch.autograd.grad(sum((g * vi).sum() for g, vi in zip(g_theta, v)), [c])
    torch.testing.assert_close(fd, exact, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize('hvp', ['exact', 'exact_recompute', 'finite_difference'])
def test_unrolled_gradient_matches_brute_force_derivative_of_outer_loss(hvp):
    lr = 0.3
    for seed in range(3):
        params, chi, l_train, l_val = _toy_problem(seed)

        p = {n: t.clone().requires_grad_() for n, t in params.items()}
        inner = list(torch.autograd.grad(l_train(p, chi), list(p.values())))

        def outer_at(q):
            q = {n: t.clone().requires_grad_() for n, t in q.items()}
            value = l_val(q)
            return value, list(torch.autograd.grad(value, list(q.values())))

        def policy_grad_at(q):
            c = chi.clone().requires_grad_()
            return list(torch.autograd.grad(l_train(q, c), [c]))

        chi_t = chi.clone().requires_grad_()
        if hvp == 'exact':
            # the inner gradient with its graph, as the algorithm takes it
            q = {n: t.clone().requires_grad_() for n, t in params.items()}
            g = torch.autograd.grad(l_train(q, chi_t), list(q.values()), create_graph=True)

            def mixed(_, u, g=g):
                return gradient_mixed_product(g, [chi_t], u)
        elif hvp == 'exact_recompute':  # a new pass of L_train at theta, graph and all
            leaves = {n: t.clone().requires_grad_() for n, t in params.items()}

            def mixed(_, u):
                return recomputed_mixed_product(lambda q: l_train(q, chi_t), [chi_t], leaves, u)
        else:
            mixed = partial(finite_difference_mixed_product, policy_grad_at, eps=0.01)
        (grad, ), value = unrolled_policy_gradient(outer_at, mixed, params, inner, sgd_step(lr))
        # brute force: central differences of the outer loss in chi, coordinate by coordinate
        h = 1e-5
        brute = torch.zeros_like(chi)
        for i in range(chi.numel()):
            e = torch.zeros_like(chi)
            e[i] = h
            brute[i] = (_outer(params, chi + e, l_train, l_val, lr) -
                        _outer(params, chi - e, l_train, l_val, lr)) / (2 * h)
        torch.testing.assert_close(value, _outer(params, chi, l_train, l_val, lr).detach())
        # the finite-difference HVP (eps = 0.01/|v|) is second-order accurate; the only gap
        # to the exact derivative is its O(eps^2) error (and the brute force's own)
        tol = 1e-4 if hvp == 'finite_difference' else 1e-7
        torch.testing.assert_close(grad, brute, rtol=tol, atol=1e-9)
        assert grad.abs().max() > 1e-3  # a non-trivial gradient, not a vacuous match


def test_zero_direction_gives_zero_product():
    params, chi, l_train, _ = _toy_problem(0)

    def policy_grad_at(p):
        c = chi.clone().requires_grad_()
        return list(torch.autograd.grad(l_train(p, c), [c]))

    (out, ) = finite_difference_mixed_product(policy_grad_at, params,
                                              [torch.zeros_like(t) for t in params.values()])
    assert torch.equal(out, torch.zeros_like(chi))


def test_recomputed_product_with_parameters_the_pass_does_not_reach():
    """Parameters outside the recomputed pass (a detection head's) count as constants, and a
    pass without any graph gives zeros."""
    params, chi, l_train, _ = _toy_problem(2)
    c = chi.clone().requires_grad_()
    leaves = {n: t.clone().requires_grad_() for n, t in params.items()}
    leaves['head'] = torch.randn(5, dtype=torch.float64, requires_grad=True)
    u = [torch.randn_like(t) for t in leaves.values()]
    (out, ) = recomputed_mixed_product(lambda q: l_train(q, c), [c], leaves, u)
    g = torch.autograd.grad(l_train(leaves, c), [leaves['w'], leaves['b']], create_graph=True)
    (expected, ) = gradient_mixed_product(g, [c], u[:2])
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=0)
    assert out.abs().max() > 1e-3
    (none, ) = recomputed_mixed_product(lambda q: torch.tensor(1.0), [c], leaves, u)
    assert torch.equal(none, torch.zeros_like(c))
