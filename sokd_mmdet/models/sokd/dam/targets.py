"""CenterNet targets and loss for DAM's ground-truth supervision (``supervision='gt'``).

With alignment alone, DAM's heads on student and teacher can agree on a trivial constant
output. The ``gt`` option also trains the heads on the ground-truth boxes the way CenterNet
(Zhou et al. 2019, "Objects as Points") trains its detector, so that a distinctive area means
"where an object is".

Coordinates follow :mod:`sokd_mmdet.models.sokd.dam.regions`: a box in input pixels is divided by
the level's ``stride`` to get continuous cell coordinates, its centre ``c`` falls in the
integer cell ``floor(c)``, and the offset target is ``c - floor(c)`` (measured from the cell's
top-left corner).
"""
from typing import Sequence, Tuple, Union

import torch
from torch import Tensor


def boxes_in_cells(boxes: Tensor, stride: Union[float, Sequence[float]],
                   feat_hw: Sequence[int]) -> Tensor:
    """Boxes (x1, y1, x2, y2) in input pixels as continuous cells of an (H, W) map.

    Boxes reaching out of the image are clipped to the map, as CenterNet does, so that every
    centre falls on the map.

    Args:
        boxes (Tensor): (n, 4) boxes in input pixels (floating point).
        stride (float or Sequence[float]): input pixels per cell, one number or (sy, sx).
        feat_hw (Sequence[int]): the map size (H, W).
    """
    H, W = int(feat_hw[0]), int(feat_hw[1])
    if isinstance(stride, (tuple, list)):
        sy, sx = stride
        stride = boxes.new_tensor([sx, sy, sx, sy])
    return torch.minimum((boxes / stride).clamp_min(0), boxes.new_tensor([W, H, W, H]))


def centre_cells(cells: Tensor, feat_hw: Sequence[int]) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Centres of boxes given in cells (:func:`boxes_in_cells`) and the cells holding them.

    Returns:
        tuple[Tensor]: ``cy``, ``cx`` (continuous centres) and ``ci``, ``cj`` (the integer
        row and column, as floats); a centre exactly on the right/bottom border belongs to
        the last cell.
    """
    cx = (cells[:, 0] + cells[:, 2]) / 2
    cy = (cells[:, 1] + cells[:, 3]) / 2
    return (cy, cx, cy.floor().clamp(max=int(feat_hw[0]) - 1),
            cx.floor().clamp(max=int(feat_hw[1]) - 1))


def gaussian_radius(box_h: Tensor, box_w: Tensor, min_overlap: float = 0.7) -> Tensor:
    """Largest corner displacement that keeps a box's IoU with the original >= min_overlap.

    CornerNet (Law & Deng 2018) / CenterNet (Zhou et al. 2019) size the Gaussian around a
    centre by this radius ``r``. Three ways of moving the corners by ``r`` are considered,
    each giving a quadratic equation in ``r`` (``o = min_overlap``); the radius is the
    smallest of the three roots:

    1. both corners move the same way (one inside, one outside the box):
       ``(w - r)(h - r) / (2wh - (w - r)(h - r)) = o``, i.e.
       ``r^2 - (w + h) r + wh (1 - o) / (1 + o) = 0``, smaller root;
    2. both corners move inwards: ``(w - 2r)(h - 2r) / (wh) = o``, i.e.
       ``4 r^2 - 2 (w + h) r + (1 - o) wh = 0``, smaller root;
    3. both corners move outwards: ``wh / ((w + 2r)(h + 2r)) = o``, i.e.
       ``4o r^2 + 2o (w + h) r - (1 - o) wh = 0``, positive root.

    These are the exact roots ``(-b +/- sqrt(b^2 - 4ac)) / 2a`` (the form MMDetection uses);
    the original CornerNet/CenterNet code divides by 2 instead of ``2a``, which gives larger
    radii for cases 2 and 3 and the larger root in case 1.

    Args:
        box_h (Tensor): box heights, any shape.
        box_w (Tensor): box widths, same shape as ``box_h``.
        min_overlap (float): the IoU to keep. Defaults to 0.7.

    Returns:
        Tensor: radii (float, not rounded), same shape as the inputs.
    """
    h, w, o = box_h, box_w, min_overlap

    def root(a, b, c, sign):
        # The discriminants are >= 0 for h, w >= 0; clamp against rounding only.
        disc = (b * b - 4 * a * c).clamp_min(0)
        return (-b + sign * torch.sqrt(disc)) / (2 * a)

    r1 = root(1.0, -(w + h), w * h * (1 - o) / (1 + o), -1)
    r2 = root(4.0, -2 * (w + h), (1 - o) * w * h, -1)
    r3 = root(4.0 * o, 2 * o * (w + h), -(1 - o) * w * h, 1)
    return torch.minimum(torch.minimum(r1, r2), r3)


def centernet_targets(gt_bboxes: list,
                      stride: float,
                      feat_hw: tuple,
                      min_size: float = 1.0,
                      min_overlap: float = 0.7) -> dict:
    """Build CenterNet training targets for one feature level (Zhou et al. 2019, Sec. 3).

    For each box: clip it to the map, convert it to cells, take its centre ``c`` and the
    integer centre cell ``floor(c)``; draw a Gaussian with radius
    ``r = floor(gaussian_radius(h, w))`` and ``sigma = (2r + 1) / 6`` around the centre cell,
    cut to the ``(2r + 1) x (2r + 1)`` window (CenterNet draws the same patch). The image's
    heatmap is the element-wise maximum over its boxes; the centre cell has value exactly 1.

    When several boxes of an image share a centre cell, the wh/offset targets of the
    *largest* box (by area in cells) are kept; among equal areas the later box in the list
    wins. The choice is made explicitly, so the result does not depend on the undefined
    write order of duplicate indices.

    Args:
        gt_bboxes (list[Tensor]): per image, boxes of shape (n_i, 4) as (x1, y1, x2, y2) in
            input pixels; ``n_i`` may be 0.
        stride (float): the level's stride (input pixels per cell).
        feat_hw (tuple[int, int]): the level's map size (H, W).
        min_size (float): boxes whose longer side, in cells after clipping, is below this are
            left out (they would be a sub-cell speck on this level). Defaults to 1.0.
        min_overlap (float): IoU passed to :func:`gaussian_radius`. Defaults to 0.7.

    Returns:
        dict[str, Tensor]: with N = ``len(gt_bboxes)``
            - heatmap: (N, 1, H, W) in [0, 1];
            - wh: (N, 2, H, W) box (width, height) in cells at centre cells, 0 elsewhere;
            - offset: (N, 2, H, W) ``c - floor(c)`` (x, y) at centre cells, 0 elsewhere;
            - weight: (N, 1, H, W) 1 at centre cells, 0 elsewhere.
    """
    H, W = int(feat_hw[0]), int(feat_hw[1])
    n_img = len(gt_bboxes)
    boxes = torch.cat([b.reshape(-1, 4) for b in gt_bboxes]).float()
    device = boxes.device
    img = torch.cat([
        torch.full((b.reshape(-1, 4).shape[0], ), i, dtype=torch.long, device=device)
        for i, b in enumerate(gt_bboxes)
    ])

    boxes = boxes_in_cells(boxes, stride, (H, W))
    bw = boxes[:, 2] - boxes[:, 0]
    bh = boxes[:, 3] - boxes[:, 1]
    keep = torch.maximum(bw, bh) >= min_size
    boxes, bw, bh, img = boxes[keep], bw[keep], bh[keep], img[keep]

    cy, cx, ci, cj = centre_cells(boxes, (H, W))

    radius = gaussian_radius(bh, bw, min_overlap).floor().clamp_min(0)
    sigma = (2 * radius + 1) / 6
    ys = torch.arange(H, device=device, dtype=boxes.dtype)
    xs = torch.arange(W, device=device, dtype=boxes.dtype)
    dy = ys[None, :] - ci[:, None]  # (M, H)
    dx = xs[None, :] - cj[:, None]  # (M, W)
    gy = torch.exp(-dy**2 / (2 * sigma[:, None]**2)) * (dy.abs() <= radius[:, None])
    gx = torch.exp(-dx**2 / (2 * sigma[:, None]**2)) * (dx.abs() <= radius[:, None])
    gauss = (gy[:, :, None] * gx[:, None, :]).flatten(1)  # (M, H*W), separable Gaussian

    heat = boxes.new_zeros(n_img, H * W)
    heat.scatter_reduce_(0, img[:, None].expand_as(gauss), gauss, reduce='amax')

    # Resolve shared centre cells: rank boxes by (area, position in the list) and keep, for
    # each cell, only the box with the highest rank; the remaining writes are unique.
    ci, cj = ci.long(), cj.long()
    cell = (img * H + ci) * W + cj
    order = torch.sort(bw * bh, stable=True).indices
    rank = torch.empty_like(order)
    rank[order] = torch.arange(order.numel(), device=device)
    best = torch.full((n_img * H * W, ), -1, dtype=torch.long, device=device)
    best.scatter_reduce_(0, cell, rank, reduce='amax')
    win = best[cell] == rank

    wh = boxes.new_zeros(n_img, 2, H, W)
    offset = boxes.new_zeros(n_img, 2, H, W)
    weight = boxes.new_zeros(n_img, 1, H, W)
    i, r, c = img[win], ci[win], cj[win]
    wh[i, :, r, c] = torch.stack((bw[win], bh[win]), dim=1)
    offset[i, :, r, c] = torch.stack((cx[win] - c, cy[win] - r), dim=1)
    weight[i, 0, r, c] = 1
    return dict(heatmap=heat.view(n_img, 1, H, W), wh=wh, offset=offset, weight=weight)


def gaussian_focal_loss(pred: Tensor,
                        target: Tensor,
                        alpha: float = 2.0,
                        gamma: float = 4.0,
                        eps: float = 1e-12) -> Tensor:
    """Penalty-reduced pixel-wise focal loss of CenterNet (Zhou et al. 2019, Eq. 1), summed.

    With ``p`` the predicted and ``y`` the Gaussian target heat:
    ``-(1 - p)^alpha log(p)`` where ``y == 1`` (centre cells) and
    ``-(1 - y)^gamma p^alpha log(1 - p)`` elsewhere; the ``(1 - y)^gamma`` factor lowers the
    penalty near a centre, where the target is a Gaussian rather than a hard 0.

    Args:
        pred (Tensor): predicted heat in [0, 1], any shape.
        target (Tensor): Gaussian target heat in [0, 1], same shape; exactly 1 at centres.
        alpha (float): focusing exponent on the prediction. Defaults to 2.0.
        gamma (float): exponent of the penalty reduction. Defaults to 4.0.
        eps (float): added inside the logarithms so a saturated prediction gives a large
            but finite loss. Defaults to 1e-12.

    Returns:
        Tensor: scalar, the sum over all elements (the caller divides by the number of
        centre cells).
    """
    pos = target.eq(1)
    # (1 - p) is formed before adding eps, so log(1 - p + eps) stays finite at p = 1 even in
    # float32, where 1 - eps would round to 1.
    pos_loss = -(1 - pred).pow(alpha) * torch.log(pred + eps)
    neg_loss = -(1 - target).pow(gamma) * pred.pow(alpha) * torch.log(1 - pred + eps)
    return torch.where(pos, pos_loss, neg_loss).sum()
