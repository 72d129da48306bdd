"""Distillation restricted to distinctive areas: the math of L_DA, as a plain function."""
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def masked_distill_loss(loss_fn: Callable[[Tensor, Tensor], Tensor],
                        preds_S: Tensor,
                        preds_T: Tensor,
                        mask: Tensor,
                        area_normalize: bool = True) -> Tensor:
    """``L_base(M * S, M * T)``, optionally normalised by the mask's area.

    Args:
        loss_fn: the wrapped distillation loss, called as ``loss_fn(student, teacher)``.
        preds_S (Tensor): student feature (N, C, H, W), after the connector.
        preds_T (Tensor): teacher feature (N, C, H, W), after the augmentation.
        mask (Tensor): (N, 1, H, W) region mask, values in [0, 1]; no gradient flows into it.
        area_normalize (bool): rescale by ``N*H*W / sum(mask)``, so that a loss that averages
            over positions (L2/FitNet with ``div_element``, MSE) averages over the masked
            positions only instead of the whole map. Turn it off for losses that normalise
            over positions by themselves (CWD's spatial softmax). An empty mask gives 0.

    Returns:
        Tensor: scalar loss.
    """
    mask = mask.detach().to(preds_S.dtype)
    loss = loss_fn(preds_S * mask, preds_T * mask)
    if area_normalize:
        n, _, h, w = mask.shape
        loss = loss * (n * h * w) / mask.sum().clamp(min=1.0)
    return loss


def masked_channel_wise_divergence(preds_S: Tensor,
                                   preds_T: Tensor,
                                   mask: Tensor,
                                   tau: float = 1.0,
                                   loss_weight: float = 1.0) -> Tensor:
    """CWD (Shu et al., ICCV 2021) with the spatial softmax over the masked positions only.

    Zero-filling the masked-out positions (:func:`masked_distill_loss`) keeps them in CWD's
    softmax as cells of value 0, which still hold part of the teacher's mass; here each
    channel's distribution is ``softmax(x / tau + log M)`` over the positions where
    ``M > 0`` (for a {0, 1} mask, the softmax over the mask; for a score-weighted mask, each
    cell weighted by its score), and the loss is ``loss_weight * tau^2 / (N C)`` times the
    sum over images and channels of ``KL(p_T || p_S)``, as MMRazor's
    ``ChannelWiseDivergence``. An image whose mask is empty contributes 0.

    Args:
        preds_S (Tensor): student feature (N, C, H, W).
        preds_T (Tensor): teacher feature (N, C, H, W).
        mask (Tensor): (N, 1, H, W) in [0, 1]; no gradient flows into it.
        tau (float): temperature. Defaults to 1.0.
        loss_weight (float): weight. Defaults to 1.0.

    Returns:
        Tensor: scalar loss (in the inputs' dtype).
    """
    n, c, h, w = preds_S.shape
    dtype = preds_S.dtype
    # half precision cannot hold the stand-in for log(0) below
    s, t = (
        x.float() if x.dtype in (torch.float16, torch.bfloat16) else x for x in (preds_S, preds_T))
    weight = mask.detach().to(s.dtype).expand(n, 1, h, w).reshape(n, h * w)
    keep = (weight > 0).any(dim=1)  # images with an empty mask contribute nothing
    if not bool(keep.any()):
        return preds_S.sum() * 0
    weight, s, t = weight[keep], s[keep], t[keep]
    inside = (weight > 0)[:, None, :]  # (n', 1, HW)
    # a large finite log(0): exp gives exactly 0, and no inf - inf reaches the gradient
    log_w = torch.where(inside,
                        weight.clamp_min(1e-30).log()[:, None, :],
                        torch.full_like(inside, -1e30, dtype=s.dtype))
    log_t = F.log_softmax(t.flatten(2) / tau + log_w, dim=2)
    log_s = F.log_softmax(s.flatten(2) / tau + log_w, dim=2)
    kl = torch.where(inside, log_t.exp() * (log_t - log_s), torch.zeros_like(log_t))
    return (loss_weight * tau**2 * kl.sum() / (n * c)).to(dtype)
