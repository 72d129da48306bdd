"""Boxes that follow the image: the warp's matrix on the corners, clipping, dropping.

A box ``(x1, y1, x2, y2)`` (pixel coordinates, :mod:`.affine`) moves with the image by
transforming its four corners with the forward matrix and taking their enclosing box: for a
rotated or sheared rectangle this is the bounding box of the warped rectangle, the box an
annotator would draw around it. The box is then clipped to the image. What is left of an
object is measured by its *visible fraction*, the clipped box's area over the enclosing
box's area; a box below ``min_visible``, or thinner than ``min_size`` pixels after clipping,
is dropped (with its label: callers index every instance field with the returned mask).
"""
from typing import List, Sequence, Tuple

import torch
from torch import Tensor


def transform_boxes(boxes: Tensor, pixel: Tensor) -> Tensor:
    """Enclosing boxes of the transformed corners (not clipped).

    Args:
        boxes (Tensor): (M, 4) as (x1, y1, x2, y2).
        pixel (Tensor): (M, 3, 3) forward matrix of each box, or (3, 3) for all.

    Returns:
        Tensor: (M, 4).
    """
    x1, y1, x2, y2 = boxes.unbind(dim=1)
    xs = torch.stack([x1, x2, x1, x2], dim=1)  # (M, 4 corners)
    ys = torch.stack([y1, y1, y2, y2], dim=1)
    pixel = pixel.to(boxes.dtype).expand(boxes.shape[0], 3, 3)
    a, t = pixel[:, :2, :2], pixel[:, :2, 2]
    # (M, 2, 2) @ (M, 2, 4) + (M, 2, 1): every corner of every box at once
    corners = a @ torch.stack([xs, ys], dim=1) + t[:, :, None]
    lo, hi = corners.min(dim=2).values, corners.max(dim=2).values  # (M, 2) each
    return torch.cat([lo, hi], dim=1)


def clip_boxes(boxes: Tensor, h: int, w: int) -> Tensor:
    """Clip (M, 4) boxes to the image ``[0, W] x [0, H]``."""
    upper = boxes.new_tensor([w, h, w, h])
    return torch.minimum(boxes.clamp(min=0), upper)


def box_area(boxes: Tensor) -> Tensor:
    """(M,) areas of (M, 4) boxes (0 for inverted ones)."""
    return (boxes[:, 2] - boxes[:, 0]).clamp(min=0) * (boxes[:, 3] - boxes[:, 1]).clamp(min=0)


def visible_fraction(enclosing: Tensor, clipped: Tensor) -> Tensor:
    """(M,) area of ``clipped`` over area of ``enclosing``; 0 for a degenerate box."""
    area = box_area(enclosing)
    return torch.where(area > 0, box_area(clipped) / area.clamp(min=1e-12), torch.zeros_like(area))


def warp_boxes(boxes: Tensor,
               pixel: Tensor,
               h: int,
               w: int,
               min_visible: float = 0.5,
               min_size: float = 2.0) -> Tuple[Tensor, Tensor]:
    """Move boxes with the image, clip them, and say which to keep.

    Args:
        boxes (Tensor): (M, 4) as (x1, y1, x2, y2), pixel coordinates.
        pixel (Tensor): (M, 3, 3) forward matrix of each box (its image's), or (3, 3).
        h (int): image height.
        w (int): image width.
        min_visible (float): keep a box whose visible fraction is at least this.
        min_size (float): keep a box whose clipped width and height are at least this.

    Returns:
        tuple[Tensor, Tensor]: clipped boxes (M, 4) and the keep mask (M,) bool.
    """
    enclosing = transform_boxes(boxes, pixel)
    clipped = clip_boxes(enclosing, h, w)
    size = clipped[:, 2:] - clipped[:, :2]
    keep = (visible_fraction(enclosing, clipped) >= min_visible) & (size >= min_size).all(1)
    return clipped, keep


def warp_box_lists(boxes: Sequence[Tensor],
                   pixel: Tensor,
                   h: int,
                   w: int,
                   min_visible: float = 0.5,
                   min_size: float = 2.0) -> Tuple[List[Tensor], List[Tensor]]:
    """:func:`warp_boxes` for the ragged box lists of a batch, in one vectorised call.

    Args:
        boxes (Sequence[Tensor]): N tensors (M_i, 4), one per image.
        pixel (Tensor): (N, 3, 3) the forward matrix of each image.
        h, w, min_visible, min_size: as for :func:`warp_boxes`.

    Returns:
        tuple[list[Tensor], list[Tensor]]: per image, clipped boxes (M_i, 4) and keep
        masks (M_i,).
    """
    counts = [b.shape[0] for b in boxes]
    flat = torch.cat([b.reshape(-1, 4) for b in boxes]) if boxes else pixel.new_zeros(0, 4)
    owner = torch.repeat_interleave(
        torch.arange(len(counts), device=pixel.device), torch.tensor(counts, device=pixel.device))
    clipped, keep = warp_boxes(flat, pixel[owner], h, w, min_visible, min_size)
    return list(clipped.split(counts)), list(keep.split(counts))
