"""What DAM's mask keeps of a feature map, and what the masked distillation then teaches.

Plain functions behind ``tools/dam_coverage.py``: how much of each level the mask covers,
whether it covers the objects, and how a student matches its teacher inside and outside
the mask.
"""
from typing import Callable, Dict, Optional, Tuple

import torch
from torch import Tensor

from ..models.sokd.dam.targets import boxes_in_cells, centre_cells
from ..models.sokd.masked import masked_distill_loss


def gt_centre_recall(mask: Tensor, boxes: Tensor, stride: Tuple[float, float]) -> Optional[float]:
    """Share of the ground-truth boxes whose centre cell the mask covers.

    The centre cell is the one DAM's ``gt`` targets put the heatmap peak on
    (:func:`centernet_targets`): the box is clipped to the map first, so a box reaching out
    of the image has the centre of its visible part.

    Args:
        mask (Tensor): (H, W) mask of one image and level, values in [0, 1]; a cell counts
            as covered when its value is > 0.
        boxes (Tensor): (n, 4) boxes (x1, y1, x2, y2) in input pixels.
        stride (tuple[float, float]): (sy, sx) input pixels per cell.

    Returns:
        float or None: the share in [0, 1]; None for an image without boxes.
    """
    if len(boxes) == 0:
        return None
    cells = boxes_in_cells(boxes.float(), tuple(stride), mask.shape)
    _, _, ci, cj = centre_cells(cells, mask.shape)
    return float((mask[ci.long(), cj.long()] > 0).float().mean())


def spatial_mass_outside(feat: Tensor, mask: Tensor, tau: float = 1.0) -> Tensor:
    """Mass a spatial softmax of the masked feature puts outside the mask.

    A loss with a softmax over positions per channel (CWD) computed on ``M * F`` sees the
    masked-out positions as zeros, not as absent: each still gets ``exp(0)`` in the
    normaliser. This is the share of each channel's distribution on those positions,
    averaged over images and channels.

    Args:
        feat (Tensor): (N, C, H, W) feature (e.g. the teacher's).
        mask (Tensor): (N, 1, H, W) mask, values in [0, 1].
        tau (float): the loss's temperature. Defaults to 1.0.

    Returns:
        Tensor: scalar in [0, 1].
    """
    n, c = feat.shape[:2]
    prob = torch.softmax((feat * mask).reshape(n, c, -1) / tau, dim=-1)
    outside = (1 - mask).reshape(n, 1, -1)
    return (prob * outside).sum(-1).mean()


def region_losses(loss_fn: Callable[[Tensor, Tensor], Tensor], preds_S: Tensor, preds_T: Tensor,
                  mask: Tensor) -> Dict[str, Tensor]:
    """The base loss on the whole map, inside the mask and outside it.

    Args:
        loss_fn: the distillation loss, called as ``loss_fn(student, teacher)``.
        preds_S (Tensor): (N, C, H, W) student feature after its connector.
        preds_T (Tensor): (N, C, H, W) teacher feature.
        mask (Tensor): (N, 1, H, W) mask, values in [0, 1].

    Returns:
        dict[str, Tensor]: ``full`` = ``L(S, T)``; ``masked`` = ``L(M S, M T)`` (what
        SoKD's ``L_DA`` trains on, without area normalisation); ``outside`` =
        ``L((1 - M) S, (1 - M) T)``.
    """
    return dict(
        full=loss_fn(preds_S, preds_T),
        masked=masked_distill_loss(loss_fn, preds_S, preds_T, mask, area_normalize=False),
        outside=masked_distill_loss(loss_fn, preds_S, preds_T, 1 - mask, area_normalize=False))
