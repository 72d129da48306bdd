"""Apply gates with a straight-through relaxed-Bernoulli gradient.

An op is applied to an image when its gate is 1, which happens with the op's probability
``p``. The gate is drawn by the logistic trick, ``b = [logit(p) + logit(u) > 0]`` with
``u ~ U(0, 1)``, and its gradient is that of the relaxed sample
``sigmoid((logit(p) + logit(u)) / tau)`` (Concrete / Gumbel-sigmoid, Maddison et al. and Jang
et al., ICLR 2017): the forward value is exactly 0 or 1, so the augmented image is the op's
or the input's, never a blend, while ``p`` receives the (biased, low-variance) gradient of
the relaxation. The caller uses the gate linearly, ``x + b (op(x) - x)`` or
``I + b (A - I)``, so the gradient says whether applying the op would raise or lower the
objective.
"""
import torch
from torch import Tensor


def straight_through_gates(probs: Tensor, uniforms: Tensor, temperature: float) -> Tensor:
    """Hard 0/1 gates carrying the relaxed sample's gradient.

    Args:
        probs (Tensor): (O,) apply probabilities in (0, 1).
        uniforms (Tensor): (N, O) uniform noise in (0, 1).
        temperature (float): ``tau`` of the relaxation (> 0).

    Returns:
        Tensor: (N, O), values in {0, 1}; ``P(gate = 1) = probs``.
    """
    logits = torch.logit(probs) + torch.logit(uniforms.to(probs.dtype))
    soft = torch.sigmoid(logits / temperature)
    hard = (logits > 0).to(probs.dtype)
    # (soft - soft) is exactly 0, so the value is exactly hard
    return hard + (soft - soft.detach())
