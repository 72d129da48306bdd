"""Amari's alpha-divergence between categorical and between independent Bernoulli laws."""
import torch
import torch.nn.functional as F
from torch import Tensor


def alpha_divergence(log_p: Tensor, log_q: Tensor, alpha: float, dim: int = -1) -> Tensor:
    """Amari's alpha-divergence ``D_alpha(p || q)`` of categorical distributions.

    ``D_alpha(p || q) = (1 - sum_c p_c^alpha q_c^(1 - alpha)) / (alpha (1 - alpha))``.
    It is 0 iff ``p = q`` and positive otherwise; ``alpha = 1`` is ``KL(p || q)``,
    ``alpha = 0`` is ``KL(q || p)`` (both computed exactly), ``alpha = 0.5`` is
    ``4 (1 - sum sqrt(p q))``, twice the squared Hellinger distance, and symmetric;
    ``D_alpha(p || q) = D_(1 - alpha)(q || p)``.

    Computed from log-probabilities without forming ``p^alpha q^(1-alpha)`` near the limits:
    with ``x_c = (1 - alpha) (log q_c - log p_c)`` and ``sum p = 1``, the numerator is
    ``-sum_c p_c expm1(x_c)``, whose ratio to ``1 - alpha`` stays accurate as
    ``alpha -> 1`` (it tends to ``sum p log(p / q)``). For ``alpha < 1/2`` the same form is
    used on the mirrored pair ``D_(1 - alpha)(q || p)``, so ``alpha -> 0`` is as accurate.
    Where ``x_c > 1`` (a class that ``q`` holds far likelier than ``p``), ``expm1`` could
    overflow while ``p_c`` underflows; there the term is ``exp(alpha log p + (1-alpha) log q)
    - p`` instead, which is finite whenever the divergence is. Any real ``alpha`` is allowed;
    outside [0, 1] the divergence is unbounded and may overflow.

    Args:
        log_p (Tensor): log-probabilities of ``p``, classes along ``dim``.
        log_q (Tensor): log-probabilities of ``q``, the same shape.
        alpha (float): the order.
        dim (int): the class axis, reduced. Defaults to -1.

    Returns:
        Tensor: the divergence per distribution (``dim`` removed).
    """
    if alpha == 1:
        return (log_p.exp() * (log_p - log_q)).sum(dim)
    if alpha == 0:
        return (log_q.exp() * (log_q - log_p)).sum(dim)
    order = alpha
    if alpha < 0.5:
        log_p, log_q, order = log_q, log_p, 1.0 - alpha
    x = (1.0 - order) * (log_q - log_p)
    p = log_p.exp()
    # both branches are finite everywhere, so torch.where passes no NaN into the gradient
    near = p * torch.expm1(x.clamp(max=1.0))
    far = torch.exp(order * log_p + (1.0 - order) * log_q) - p
    return -torch.where(x > 1.0, far, near).sum(dim) / (alpha * (1.0 - alpha))


def categorical_alpha_divergence(logits_p: Tensor,
                                 logits_q: Tensor,
                                 alpha: float,
                                 dim: int = -1) -> Tensor:
    """``D_alpha(softmax(logits_p) || softmax(logits_q))`` over ``dim`` (a classifier's view).

    Args:
        logits_p (Tensor): logits of ``p``, classes along ``dim``.
        logits_q (Tensor): logits of ``q``, the same shape.
        alpha (float): the order (see :func:`alpha_divergence`).
        dim (int): the class axis, reduced. Defaults to -1.
    """
    return alpha_divergence(F.log_softmax(logits_p, dim), F.log_softmax(logits_q, dim), alpha, dim)


def bernoulli_alpha_divergence(logits_p: Tensor,
                               logits_q: Tensor,
                               alpha: float,
                               dim: int = -1) -> Tensor:
    """Alpha-divergence of independent Bernoulli laws ``sigmoid(logits)``, summed over ``dim``.

    The view of a sigmoid classification head (RetinaNet, FCOS, ...): every class is its own
    yes/no event, and the divergence of the product law is the sum of the per-class
    divergences of ``(s, 1 - s)`` for ``alpha`` in {0, 1} (KL is additive). For other
    orders the product law's divergence is not the sum; the sum is used because each class
    of such a head is trained as a separate binary classifier, and it keeps every class's
    term in the same units as the KL limits.

    Args:
        logits_p (Tensor): logits of ``p``, classes along ``dim``.
        logits_q (Tensor): logits of ``q``, the same shape.
        alpha (float): the order (see :func:`alpha_divergence`).
        dim (int): the class axis, summed over. Defaults to -1.
    """

    def two_outcomes(logits):
        return torch.stack([F.logsigmoid(logits), F.logsigmoid(-logits)], dim=-1)

    return alpha_divergence(two_outcomes(logits_p), two_outcomes(logits_q), alpha).sum(dim)
