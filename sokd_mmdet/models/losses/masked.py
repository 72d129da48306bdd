"""Distillation restricted to distinctive areas: the math of L_DA, as a plain function."""
from typing import Callable

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
