"""TST's prior bias: learned values that stay within a bound of a prior.

The augmenter does not learn its probabilities and magnitudes freely: each is a prior value
(a config choice, what a hand-designed augmentation would use) plus a learned offset that is
bounded through ``tanh``, so the search can only move the policy a set distance from the
prior and cannot drift to augmentations that destroy the image (which a "student wrong"
objective alone would reward). With offset 0 (the initialisation) the values are the prior.
"""
import torch
from torch import Tensor


def biased_magnitude(prior: Tensor, offset: Tensor, bound: float) -> Tensor:
    """``prior + bound * tanh(offset)``, within ``[prior - bound, prior + bound]``.

    Args:
        prior (Tensor): (O,) prior magnitudes in [0, 1].
        offset (Tensor): (O,) learned offsets (unbounded).
        bound (float): the largest change from the prior.

    Returns:
        Tensor: (O,) magnitudes.
    """
    return prior + bound * torch.tanh(offset)


def biased_probability(prior_logit: Tensor, offset: Tensor, bound: float) -> Tensor:
    """``sigmoid(logit(prior) + bound * tanh(offset))``: the prior moved by at most ``bound``
    in log-odds.

    Args:
        prior_logit (Tensor): (O,) ``logit`` of the prior apply probabilities.
        offset (Tensor): (O,) learned offsets (unbounded).
        bound (float): the largest change in log-odds.

    Returns:
        Tensor: (O,) apply probabilities in (0, 1).
    """
    return torch.sigmoid(prior_logit + bound * torch.tanh(offset))
