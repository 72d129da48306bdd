"""Gradients with a defined value for the tensors a loss does not reach.

``torch.autograd.grad(..., allow_unused=True)`` answers None for a tensor the value does not
depend on (the detection head in a distillation-only pass, the policy when a draw applied
no op); the policy step's sums and products need a zero of the tensor's shape there.
"""
from typing import List, Optional, Sequence

import torch
from torch import Tensor


def grads_or_none(value: Tensor, tensors: Sequence[Tensor], **kwargs) -> List[Optional[Tensor]]:
    """``d value / d tensors``, None for tensors ``value`` does not depend on (as ``.grad``
    after ``value.backward()``).

    Args:
        value (Tensor): a scalar; it may have no graph at all (then every entry is None).
        tensors (Sequence[Tensor]): what to differentiate with respect to.
        **kwargs: passed to :func:`torch.autograd.grad` (e.g. ``retain_graph``).
    """
    tensors = list(tensors)
    if not value.requires_grad:
        return [None] * len(tensors)
    return list(torch.autograd.grad(value, tensors, allow_unused=True, **kwargs))


def zeros_for_none(tensors: Sequence[Tensor], grads: Sequence[Optional[Tensor]]) -> List[Tensor]:
    """``grads`` with a zero tensor shaped like its tensor for every None entry."""
    return [torch.zeros_like(t) if g is None else g for t, g in zip(tensors, grads)]


def grads_or_zeros(value: Tensor, tensors: Sequence[Tensor], **kwargs) -> List[Tensor]:
    """:func:`grads_or_none` with zeros for tensors ``value`` does not depend on."""
    tensors = list(tensors)
    return zeros_for_none(tensors, grads_or_none(value, tensors, **kwargs))
