"""The unrolled (bi-level) policy gradient of SoKD, as plain functions over parameter dicts.

The policy ``chi`` is learned so that the student, after one virtual step on the knowledge
refined by ``chi``, does best on the outer objective (DARTS' second-order rule, Liu et al.
ICLR 2019; DADA, Li et al. ECCV 2020):

    g = grad_theta L_train(theta; chi)
    theta' = theta + delta(g)               (SGD: delta(g) = -eta g; see .virtual_steps)
    f(chi) = L_val(theta')
    df/dchi = d^2 L_train / (dchi dtheta) . u,     u = (d delta / d g)^T v,
    v = grad_theta' L_val(theta')

The mixed second derivative times ``u`` is computed either exactly, by double backward
(:func:`gradient_mixed_product`: ``d/dchi <grad_theta L_train, u>`` from the inner gradient
taken with its graph, or from a new pass of the terms that depend on ``chi``:
:func:`recomputed_mixed_product`), or by a central finite difference of the policy gradient of the
inner loss (:func:`finite_difference_mixed_product`),
``(g_chi(theta + e u) - g_chi(theta - e u)) / (2 e)`` with ``e = eps / |u|``. The functions
here know nothing of detectors: the caller passes closures that evaluate the losses with a
given parameter dict (``torch.func.functional_call``), so the virtual model is never a deep
copy.
"""
from typing import Callable, Dict, List, Sequence, Tuple

import torch
from torch import Tensor

from .gradients import zeros_for_none
from .virtual_steps import vjp_of

ParamDict = Dict[str, Tensor]


def perturb(params: ParamDict, direction: Sequence[Tensor], scale: float) -> ParamDict:
    """``theta + scale * v`` for a direction ``v`` in the order of ``params`` (detached)."""
    return {n: (p.detach() + scale * v) for (n, p), v in zip(params.items(), direction)}


def global_norm(tensors: Sequence[Tensor]) -> Tensor:
    """Euclidean norm of a list of tensors seen as one vector."""
    return torch.sqrt(sum((t.detach().float()**2).sum() for t in tensors))


def gradient_mixed_product(grads: Sequence[Tensor], policy: Sequence[Tensor],
                           direction: Sequence[Tensor]) -> List[Tensor]:
    """``d^2 L / (dchi dtheta) . u`` exactly, from ``g = grad_theta L`` taken with its graph.

    ``d/dchi <g, u>`` by one more backward pass: ``g`` must have been computed with
    ``create_graph=True`` (the parts of it that do not depend on ``chi``, e.g. the task
    loss's, are pruned by autograd).

    Args:
        grads (Sequence[Tensor]): ``grad_theta L(theta; chi)`` with their graph (tensors
            without one count as constants).
        policy (Sequence[Tensor]): ``chi``.
        direction (Sequence[Tensor]): ``u``, in the order of ``grads``.

    Returns:
        list[Tensor]: the product, shaped like ``policy``; zeros where it does not depend on
        a policy tensor.
    """
    terms = [(g * u.to(g.dtype)).sum() for g, u in zip(grads, direction) if g.requires_grad]
    if not terms:
        return [torch.zeros_like(t) for t in policy]
    out = torch.autograd.grad(sum(terms), list(policy), allow_unused=True, retain_graph=True)
    return zeros_for_none(policy, out)


def recomputed_mixed_product(loss_at: Callable[[ParamDict], Tensor], policy: Sequence[Tensor],
                             params: ParamDict, direction: Sequence[Tensor]) -> List[Tensor]:
    """:func:`gradient_mixed_product` from a new pass of the loss instead of a kept graph.

    ``d/dchi <grad_theta L(theta; chi), u>`` with ``L`` evaluated again and differentiated
    twice, so that the inner forward's graph need not be kept (with its gradient's graph)
    while the outer loss is evaluated: the policy step's peak memory is then the larger of
    the passes, not their sum. ``L`` need only hold the terms that depend on ``chi`` (the
    distillation terms, without the detection head).

    Args:
        loss_at: ``theta -> L(theta; chi)``, with its graph in both.
        policy (Sequence[Tensor]): ``chi``.
        params (dict[str, Tensor]): ``theta`` (leaves that require a gradient).
        direction (Sequence[Tensor]): ``u``, in the order of ``params``.

    Returns:
        list[Tensor]: the product, shaped like ``policy``; zeros where it does not depend on
        a policy tensor (also when the pass has no graph at all).
    """
    value = loss_at(params)
    if not value.requires_grad:
        return [torch.zeros_like(t) for t in policy]
    grads = torch.autograd.grad(value, list(params.values()), create_graph=True, allow_unused=True)
    # parameters the pass does not reach (the detection head) have no gradient: constants
    grads = zeros_for_none(list(params.values()), grads)
    return gradient_mixed_product(grads, policy, direction)


def finite_difference_mixed_product(policy_grad_at: Callable[[ParamDict], List[Tensor]],
                                    params: ParamDict,
                                    direction: Sequence[Tensor],
                                    eps: float = 0.01) -> List[Tensor]:
    """``d^2 L / (dchi dtheta) . v`` by a central difference of the policy gradient.

    Args:
        policy_grad_at: ``theta -> grad_chi L_train(theta; chi)`` (a list of tensors).
        params (dict[str, Tensor]): ``theta``.
        direction (Sequence[Tensor]): ``v``, in the order of ``params``.
        eps (float): the step is ``eps / |v|`` (DARTS' choice, 0.01).

    Returns:
        list[Tensor]: the product, shaped like the policy gradient. Zero when ``v`` is zero.
    """
    norm = float(global_norm(direction))
    if norm == 0.0:
        return [torch.zeros_like(g) for g in policy_grad_at(params)]
    step = eps / norm
    plus = policy_grad_at(perturb(params, direction, step))
    minus = policy_grad_at(perturb(params, direction, -step))
    return [(gp - gm) / (2 * step) for gp, gm in zip(plus, minus)]


def unrolled_policy_gradient(outer_at: Callable[[ParamDict], Tuple[Tensor, List[Tensor]]],
                             mixed_product: Callable[[ParamDict, Sequence[Tensor]], List[Tensor]],
                             params: ParamDict, inner_grads: Sequence[Tensor],
                             step: Callable[[Sequence[Tensor]],
                                            List[Tensor]]) -> Tuple[List[Tensor], Tensor]:
    """The gradient of ``L_val(theta + delta(grad L_train(theta; chi)))`` w.r.t. ``chi``.

    Args:
        outer_at: ``theta' -> (L_val(theta'), grad_theta' L_val)``.
        mixed_product: ``(theta, u) -> d^2 L_train / (dchi dtheta) . u``
            (:func:`gradient_mixed_product` or :func:`finite_difference_mixed_product` with
            their other arguments bound).
        params (dict[str, Tensor]): ``theta``.
        inner_grads (Sequence[Tensor]): ``grad_theta L_train(theta; chi)``.
        step: the virtual step's update ``g -> delta(g)``: a :class:`.VirtualStep` (its own
            product ``(d delta / d g)^T v``) or any function autograd can differentiate
            (see :mod:`.virtual_steps`).

    Returns:
        tuple: (gradient w.r.t. the policy, a list shaped like ``mixed_product``'s output;
        the outer loss value ``L_val(theta')``, detached).
    """
    g = [t.detach() for t in inner_grads]
    # the virtual weights without the update's graph: its product with v is taken after the
    # outer pass (vjp_of), so the outer pass does not run beside the update's temporaries
    with torch.no_grad():
        virtual = {n: p.detach() + d for (n, p), d in zip(params.items(), step(g))}
    outer_value, v = outer_at(virtual)
    del virtual
    # u = (d delta / d g)^T v: for SGD simply -eta v
    u = vjp_of(step, g, v)
    del v
    return mixed_product(params, u), outer_value.detach()
