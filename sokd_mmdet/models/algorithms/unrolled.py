"""The unrolled (bi-level) policy gradient of SoKD, as plain functions over parameter dicts.

The policy ``chi`` is learned so that the student, after one virtual SGD step on the
knowledge refined by ``chi``, does best on the un-refined knowledge (DARTS' second-order
rule, Liu et al. ICLR 2019; DADA, Li et al. ECCV 2020):

    theta' = theta - eta * grad_theta L_train(theta; chi)
    f(chi) = L_val(theta')
    df/dchi = -eta * d^2 L_train / (dchi dtheta) . v,      v = grad_theta' L_val(theta')

and the mixed second derivative times ``v`` is a central finite difference of the policy
gradient of the inner loss, ``(g_chi(theta + e v) - g_chi(theta - e v)) / (2 e)`` with
``e = eps / |v|``. The functions here know nothing of detectors: the caller passes closures
that evaluate the losses with a given parameter dict (``torch.func.functional_call``), so
the virtual model is never a deep copy.
"""
from typing import Callable, Dict, List, Sequence, Tuple

import torch
from torch import Tensor

ParamDict = Dict[str, Tensor]


def virtual_step(params: ParamDict, grads: Sequence[Tensor], lr: float) -> ParamDict:
    """``theta' = theta - lr * g``, detached.

    Args:
        params (dict[str, Tensor]): the current parameters ``theta``.
        grads (Sequence[Tensor]): ``grad_theta L_train``, in the order of ``params``.
        lr (float): the virtual learning rate ``eta``.

    Returns:
        dict[str, Tensor]: the virtual parameters (new tensors, no graph).
    """
    return {n: (p.detach() - lr * g.detach()) for (n, p), g in zip(params.items(), grads)}


def perturb(params: ParamDict, direction: Sequence[Tensor], scale: float) -> ParamDict:
    """``theta + scale * v`` for a direction ``v`` in the order of ``params`` (detached)."""
    return {n: (p.detach() + scale * v) for (n, p), v in zip(params.items(), direction)}


def global_norm(tensors: Sequence[Tensor]) -> Tensor:
    """Euclidean norm of a list of tensors seen as one vector."""
    return torch.sqrt(sum((t.detach().float()**2).sum() for t in tensors))


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


def unrolled_policy_gradient(
        outer_at: Callable[[ParamDict], Tuple[Tensor, List[Tensor]]],
        policy_grad_at: Callable[[ParamDict], List[Tensor]],
        params: ParamDict,
        inner_grads: Sequence[Tensor],
        lr: float,
        eps: float = 0.01) -> Tuple[List[Tensor], Tensor]:
    """The gradient of ``L_val(theta - lr * grad L_train(theta; chi))`` w.r.t. ``chi``.

    Args:
        outer_at: ``theta' -> (L_val(theta'), grad_theta' L_val)``.
        policy_grad_at: ``theta -> grad_chi L_train(theta; chi)``.
        params (dict[str, Tensor]): ``theta``.
        inner_grads (Sequence[Tensor]): ``grad_theta L_train(theta; chi)``.
        lr (float): the virtual learning rate ``eta``.
        eps (float): finite-difference scale (see :func:`finite_difference_mixed_product`).

    Returns:
        tuple: (gradient w.r.t. the policy, a list shaped like ``policy_grad_at``'s output;
        the outer loss value ``L_val(theta')``, detached).
    """
    outer_value, v = outer_at(virtual_step(params, inner_grads, lr))
    mixed = finite_difference_mixed_product(policy_grad_at, params, v, eps)
    return [-lr * m for m in mixed], outer_value.detach()
