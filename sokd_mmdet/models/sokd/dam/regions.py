"""Distinctive-area decoding for DAM: mutual heatmap, peaks, top-k boxes and region masks.

DAM (SoKD, Shen et al., ACM MM 2024) predicts CenterNet-style outputs (Zhou et al. 2019,
"Objects as Points") on the student and the teacher feature; the regions where *both* attend
are decoded as boxes and turned into a mask that restricts the distillation loss.

Coordinate convention (shared with :mod:`sokd_mmdet.models.sokd.dam.targets`): a feature map of
size ``(H, W)`` is a continuous plane ``[0, W] x [0, H]`` measured in cells; cell ``(i, j)``
(row ``i``, column ``j``) spans ``[j, j + 1] x [i, i + 1]`` and its centre is
``(j + 0.5, i + 0.5)``. As in CenterNet, the sub-cell ``offset`` is measured from the cell's
top-left integer corner, so a peak at cell ``(i, j)`` decodes to the box centre
``(j + offset_x, i + offset_y)``.
"""
import torch
import torch.nn.functional as F
from torch import Tensor

MUTUAL_MODES = ('geometric', 'arithmetic', 'min', 'product')


def mutual_heatmap(heat_s: Tensor,
                   heat_t: Tensor,
                   mode: str = 'geometric',
                   eps: float = 1e-6) -> Tensor:
    """Combine the student's and the teacher's heatmaps into the *mutual* heatmap.

    The mutual heatmap is high only where both networks attend, which is what SoKD calls a
    distinctive area.

    Args:
        heat_s (Tensor): student heatmap, shape (N, 1, H, W), values in [0, 1].
        heat_t (Tensor): teacher heatmap, shape (N, 1, H, W), values in [0, 1].
        mode (str): ``'geometric'`` (``sqrt(s * t)``, the default), ``'arithmetic'``
            (``(s + t) / 2``), ``'min'`` (``min(s, t)``) or ``'product'`` (``s * t``).
        eps (float): for ``'geometric'`` only. Above ``eps`` the product is exactly
            ``sqrt(s * t)``; below it the square root (whose slope is infinite at 0) is
            replaced by the line ``p / sqrt(eps)`` through 0 and ``(eps, sqrt(eps))``, so the
            value stays continuous, monotone and 0 at 0 while the gradient stays bounded by
            ``1 / sqrt(eps)``. Defaults to 1e-6.

    Returns:
        Tensor: mutual heatmap, shape (N, 1, H, W), values in [0, 1].
    """
    if mode == 'geometric':
        prod = heat_s * heat_t
        # Clamp before the sqrt: torch.where back-propagates through both branches, and an
        # unclamped sqrt at 0 would turn the unused branch's gradient into inf * 0 = nan.
        root = torch.sqrt(prod.clamp_min(eps))
        return torch.where(prod > eps, root, prod / eps**0.5)
    if mode == 'arithmetic':
        return (heat_s + heat_t) / 2
    if mode == 'min':
        return torch.minimum(heat_s, heat_t)
    if mode == 'product':
        return heat_s * heat_t
    raise ValueError(f'mutual_heatmap: unknown mode {mode!r}, expected one of {MUTUAL_MODES}')


def local_peaks(heat: Tensor, kernel: int = 3) -> Tensor:
    """Keep the local maxima of a heatmap (CenterNet's max-pool peak test), zero elsewhere.

    A cell survives if it equals the maximum of its ``kernel x kernel`` neighbourhood (the
    window is cut at the map border). Plateaus of equal values all survive.

    Args:
        heat (Tensor): heatmap, shape (N, 1, H, W).
        kernel (int): odd window size. Defaults to 3.

    Returns:
        Tensor: same shape as ``heat``; the peak values, 0 elsewhere.
    """
    if kernel < 1 or kernel % 2 == 0:
        # An even window with padding k//2 changes the map size and shifts the window.
        raise ValueError(f'local_peaks: kernel must be a positive odd int, got {kernel}')
    # max_pool2d pads with -inf, so border cells compare only against real neighbours.
    hmax = F.max_pool2d(heat, kernel, stride=1, padding=kernel // 2)
    return heat * (hmax == heat)


def topk_regions(heat: Tensor,
                 wh: Tensor,
                 offset: Tensor,
                 k: int = 8,
                 min_size: float = 0.0) -> tuple:
    """Decode the ``k`` highest cells of a (peak) heatmap into boxes, CenterNet style.

    Usually called on the output of :func:`local_peaks`, so that the selected cells are
    local maxima. A cell with value 0 (suppressed by the peak test) carries no region.

    Fixed-size output: exactly ``k`` slots per image, sorted by score (descending). Slots
    that hold no region -- cells with score 0, and the padding slots when ``H * W < k`` --
    are returned as the empty box ``(0, 0, 0, 0)`` with score 0, which
    :func:`region_masks` ignores (its ``min_score`` is at least 0).

    Args:
        heat (Tensor): heatmap, shape (N, 1, H, W), values >= 0.
        wh (Tensor): box (width, height) in cells, shape (N, 2, H, W); negative values are
            clamped to 0.
        offset (Tensor): sub-cell centre offset (x, y) from the cell's top-left corner,
            shape (N, 2, H, W).
        k (int): number of regions per image. Defaults to 8.
        min_size (float): lower bound of the decoded width and height, in cells. 1 makes
            every region cover (at least) its peak cell, however small the predicted size.
            Defaults to 0.

    Returns:
        tuple[Tensor, Tensor]:
            - boxes (Tensor): (N, k, 4) as (x1, y1, x2, y2) in cells, clamped to
              ``[0, W] x [0, H]``.
            - scores (Tensor): (N, k), the heat values of the selected cells.
    """
    n, _, h, w = heat.shape
    kk = min(k, h * w)
    scores, idx = heat.flatten(1).topk(kk, dim=1)  # (N, kk), sorted descending
    rows = torch.div(idx, w, rounding_mode='floor').to(heat.dtype)
    cols = (idx % w).to(heat.dtype)

    gather_idx = idx.unsqueeze(1).expand(-1, 2, -1)  # (N, 2, kk)
    size = wh.flatten(2).gather(2, gather_idx).clamp_min(max(min_size, 0.0))
    off = offset.flatten(2).gather(2, gather_idx)
    cx = cols + off[:, 0]
    cy = rows + off[:, 1]
    boxes = torch.stack(
        (cx - size[:, 0] / 2, cy - size[:, 1] / 2, cx + size[:, 0] / 2, cy + size[:, 1] / 2),
        dim=-1)
    # clamp per coordinate: x against W, y against H
    bounds = heat.new_tensor([w, h, w, h])
    boxes = torch.minimum(boxes.clamp_min(0), bounds)
    # Suppressed cells decode to arbitrary boxes (their order among equal zeros is arbitrary
    # too), so give them the empty box: the output then depends only on the real peaks.
    boxes = boxes * (scores > 0).unsqueeze(-1).to(boxes.dtype)

    if kk < k:
        scores = F.pad(scores, (0, k - kk))
        boxes = F.pad(boxes, (0, 0, 0, k - kk))
    return boxes, scores


def region_masks(boxes: Tensor,
                 scores: Tensor,
                 H: int,
                 W: int,
                 weighted: bool = False,
                 min_score: float = 0.0) -> Tensor:
    """Rasterise the union of the regions into a mask on the feature grid.

    A cell belongs to a box if its centre ``(j + 0.5, i + 0.5)`` lies in
    ``[x1, x2] x [y1, y2]`` (bounds included). A box smaller than a cell may therefore cover
    no cell at all.

    Args:
        boxes (Tensor): (N, k, 4) as (x1, y1, x2, y2) in cells.
        scores (Tensor): (N, k) region scores.
        H (int): map height in cells.
        W (int): map width in cells.
        weighted (bool): if False the mask is binary (1 inside any box); if True a cell takes
            the largest score among the boxes covering it. Defaults to False.
        min_score (float): boxes whose score is ``<= min_score`` are ignored (this also drops
            the empty zero-score slots of :func:`topk_regions`). Defaults to 0.0.

    Returns:
        Tensor: mask of shape (N, 1, H, W), dtype of ``scores``; values in {0, 1}, or in
        ``{0} | (min_score, 1]`` when ``weighted``.
    """
    xs = torch.arange(W, device=boxes.device, dtype=boxes.dtype) + 0.5
    ys = torch.arange(H, device=boxes.device, dtype=boxes.dtype) + 0.5
    x1, y1, x2, y2 = (boxes[..., c, None] for c in range(4))  # each (N, k, 1)
    in_x = (xs >= x1) & (xs <= x2)  # (N, k, W)
    in_y = (ys >= y1) & (ys <= y2)  # (N, k, H)
    inside = in_y.unsqueeze(-1) & in_x.unsqueeze(-2)  # (N, k, H, W)
    inside = inside & (scores > min_score)[..., None, None]
    if weighted:
        mask = (inside.to(scores.dtype) * scores[..., None, None]).amax(dim=1)
    else:
        mask = inside.any(dim=1).to(scores.dtype)
    return mask.unsqueeze(1)
