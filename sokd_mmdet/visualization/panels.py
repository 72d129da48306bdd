"""The numpy layer of the SoKD pictures: maps coloured, heatmaps over images, boxes drawn into
panels at exact positions, the labels of a DAFA draw. No matplotlib, no model code.

Coordinates follow :mod:`sokd_mmdet.models.sokd.dam.regions`: a box is ``(x1, y1, x2, y2)``
on the continuous plane of its picture (``[0, W] x [0, H]``, one unit per pixel or per
feature cell). Boxes on the input image are in input pixels (feature cells times the
level's stride); boxes on a feature map are in cells.
"""
import math
from typing import Optional, Sequence, Tuple, Union

import cv2
import numpy as np

REDUCTIONS = ('l2', 'mean', 'abs_mean')
REGION_COLOR = (0, 255, 255)  # cyan: visible on the inferno and viridis colour maps
GT_COLOR = (50, 255, 50)  # green
HEAT_CMAP = 'inferno'
FEATURE_CMAP = 'viridis'
# panels are upscaled (nearest) to about this many pixels, so that feature cells and box
# outlines stay visible on small maps (a 4x4 P5 map, a 128x128 input)
PANEL_SIZE = 256
# a panel's size in the figure (inches) and the figure's resolution: box outlines are drawn
# into the numpy panels at the width they should have once the panel is shown
PANEL_INCHES = 2.6
DPI = 100

Stride = Union[float, Tuple[float, float]]


def check_image(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB; a (H, W) or (H, W, 1) grey image is repeated to 3 channels."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[2] not in (1, 3):
        raise ValueError(f'expected an (H, W, 3) RGB image, got shape {image.shape}')
    if image.dtype != np.uint8:
        raise ValueError(f'expected a uint8 image, got {image.dtype}')
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image


def check_map(values: np.ndarray, name: str) -> np.ndarray:
    """A 2-D map; (1, H, W) heatmaps are squeezed."""
    values = np.asarray(values, dtype=np.float32)
    if values.ndim == 3 and values.shape[0] == 1:
        values = values[0]
    if values.ndim != 2:
        raise ValueError(f'{name}: expected an (H, W) map, got shape {values.shape}')
    return values


def panel_scale(height: int, width: int, size: int = PANEL_SIZE) -> int:
    """Integer upscale factor that brings the longer side to about ``size`` pixels (>= 1)."""
    return max(1, int(math.ceil(size / max(height, width, 1))))


def line_width(height: int, width: int, scale: int) -> int:
    """Box line width in panel pixels that shows as about 2 pixels in the figure.

    A large input (e.g. 800 x 1333) is shown shrunk to the panel size; thin lines would
    vanish.
    """
    return max(2, int(round(2 * max(height, width) * scale / (PANEL_INCHES * DPI))))


def feature_energy(feat: np.ndarray, reduce: str = 'l2') -> np.ndarray:
    """Reduce a feature map (C, H, W) over channels to one (H, W) map to look at.

    Args:
        feat (np.ndarray): (C, H, W) feature map.
        reduce (str): ``'l2'``: L2 norm over channels (the activation energy, blind to a
            channel permutation); ``'mean'``: channel mean (signed); ``'abs_mean'``: mean
            absolute value. Defaults to ``'l2'``.

    Returns:
        np.ndarray: (H, W) float32.
    """
    feat = np.asarray(feat, dtype=np.float32)
    if feat.ndim != 3:
        raise ValueError(f'feature_energy: expected a (C, H, W) map, got shape {feat.shape}')
    if reduce == 'l2':
        return np.sqrt((feat**2).sum(axis=0))
    if reduce == 'mean':
        return feat.mean(axis=0)
    if reduce == 'abs_mean':
        return np.abs(feat).mean(axis=0)
    raise ValueError(f'feature_energy: unknown reduce {reduce!r}, expected one of {REDUCTIONS}')


def colorize(values: np.ndarray,
             cmap: str = FEATURE_CMAP,
             vmin: Optional[float] = None,
             vmax: Optional[float] = None) -> np.ndarray:
    """Map a 2-D array to RGB with a matplotlib colour map.

    Args:
        values (np.ndarray): (H, W) values.
        cmap (str): matplotlib colour map name. Defaults to ``'viridis'``.
        vmin (float, optional): value of the lowest colour; None: the minimum.
        vmax (float, optional): value of the highest colour; None: the maximum.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB.
    """
    from matplotlib import colormaps
    values = check_map(values, 'colorize')
    vmin = float(values.min()) if vmin is None else float(vmin)
    vmax = float(values.max()) if vmax is None else float(vmax)
    span = vmax - vmin if vmax > vmin else 1.0
    normed = np.clip((values - vmin) / span, 0.0, 1.0)
    return (colormaps[cmap](normed)[..., :3] * 255).round().astype(np.uint8)


def overlay_heatmap(image: np.ndarray,
                    heatmap: np.ndarray,
                    alpha: float = 0.5,
                    cmap: str = HEAT_CMAP,
                    vmin: float = 0.0,
                    vmax: float = 1.0) -> np.ndarray:
    """Blend a colour-mapped heatmap over an image.

    The heatmap is resized to the image with nearest-neighbour interpolation, so every
    feature cell shows as a block of ``stride x stride`` pixels.

    Args:
        image (np.ndarray): (H, W, 3) uint8 RGB.
        heatmap (np.ndarray): (h, w) or (1, h, w) values.
        alpha (float): weight of the heatmap colour. Defaults to 0.5.
        cmap (str): colour map. Defaults to ``'inferno'``.
        vmin (float): heat of the lowest colour. Defaults to 0.
        vmax (float): heat of the highest colour. Defaults to 1.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB.
    """
    image = check_image(image)
    heat = check_map(heatmap, 'overlay_heatmap')
    heat = cv2.resize(heat, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_NEAREST)
    colour = colorize(heat, cmap, vmin, vmax).astype(np.float32)
    blended = (1 - alpha) * image.astype(np.float32) + alpha * colour
    return blended.round().clip(0, 255).astype(np.uint8)


def select_boxes(boxes: np.ndarray,
                 scores: Optional[np.ndarray] = None,
                 min_score: float = 0.0) -> np.ndarray:
    """The boxes that hold a region: score ``> min_score`` (if scores given), positive area.

    DAM returns a fixed number of slots per image; empty slots are zero-score empty boxes.

    Returns:
        np.ndarray: (n, 4) float32.
    """
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    if scores is not None:
        keep &= np.asarray(scores, dtype=np.float32).reshape(-1) > min_score
    return boxes[keep]


def draw_boxes(image: np.ndarray,
               boxes: np.ndarray,
               color: Tuple[int, int, int] = REGION_COLOR,
               thickness: int = 1) -> np.ndarray:
    """Draw box outlines on a copy of an image.

    A box ``(x1, y1, x2, y2)`` on the continuous pixel plane covers the pixels
    ``x1 .. x2 - 1``; its outline is drawn on the first and last covered pixel rows and
    columns (clipped to the image), growing inwards with ``thickness``.

    Args:
        image (np.ndarray): (H, W, 3) uint8 RGB.
        boxes (np.ndarray): (n, 4) boxes in the image's pixels.
        color (tuple[int]): RGB colour. Defaults to cyan.
        thickness (int): line width in pixels. Defaults to 1.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB, a new array.
    """
    out = check_image(image).copy()
    h, w = out.shape[:2]
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    if not len(boxes):
        return out
    # continuous edges -> first/last covered pixel, inside the image
    x1 = np.clip(np.floor(boxes[:, 0]), 0, w - 1).astype(int)
    y1 = np.clip(np.floor(boxes[:, 1]), 0, h - 1).astype(int)
    x2 = np.clip(np.ceil(boxes[:, 2]) - 1, 0, w - 1).astype(int)
    y2 = np.clip(np.ceil(boxes[:, 3]) - 1, 0, h - 1).astype(int)
    for t in range(max(1, int(thickness))):
        for a, b, c, d in zip(x1 + t, y1 + t, x2 - t, y2 - t):
            if a <= c and b <= d:
                cv2.rectangle(
                    out, (int(a), int(b)), (int(c), int(d)),
                    tuple(map(int, color)),
                    1,
                    lineType=cv2.LINE_8)
    return out


def region_panel(background: np.ndarray,
                 heatmap: Optional[np.ndarray] = None,
                 boxes: Optional[np.ndarray] = None,
                 scores: Optional[np.ndarray] = None,
                 gt_boxes: Optional[np.ndarray] = None,
                 scale: int = 1,
                 min_score: float = 0.0,
                 alpha: float = 0.5,
                 cmap: str = HEAT_CMAP,
                 vmin: float = 0.0,
                 vmax: float = 1.0,
                 thickness: int = 2) -> np.ndarray:
    """One panel: a background upscaled ``scale`` times, a heatmap over it, boxes on top.

    Args:
        background (np.ndarray): (H, W, 3) uint8 RGB (an image or a colour-mapped map).
        heatmap (np.ndarray, optional): (h, w) heat in [vmin, vmax], blended over it.
        boxes (np.ndarray, optional): (k, 4) regions in the background's pixels.
        scores (np.ndarray, optional): (k,) region scores; boxes scoring ``<= min_score``
            are not drawn.
        gt_boxes (np.ndarray, optional): (n, 4) ground-truth boxes, drawn in green below
            the regions.
        scale (int): integer nearest-neighbour upscale factor. Defaults to 1.
        min_score (float): see ``scores``. Defaults to 0.
        alpha (float): heatmap weight. Defaults to 0.5.
        cmap (str): heatmap colour map. Defaults to ``'inferno'``.
        vmin (float): heat of the lowest colour. Defaults to 0.
        vmax (float): heat of the highest colour. Defaults to 1.
        thickness (int): box line width in output pixels. Defaults to 2.

    Returns:
        np.ndarray: (H * scale, W * scale, 3) uint8 RGB.
    """
    panel = check_image(background)
    scale = int(scale)
    if scale > 1:
        panel = np.repeat(np.repeat(panel, scale, axis=0), scale, axis=1)
    if heatmap is not None:
        panel = overlay_heatmap(panel, heatmap, alpha, cmap, vmin, vmax)
    if gt_boxes is not None:
        panel = draw_boxes(panel, select_boxes(gt_boxes) * scale, GT_COLOR, thickness)
    if boxes is not None:
        panel = draw_boxes(panel,
                           select_boxes(boxes, scores, min_score) * scale, REGION_COLOR, thickness)
    return panel


def stride_xy(stride: Stride) -> Tuple[float, float]:
    """(stride_y, stride_x) from a number or a pair (y, x)."""
    if np.ndim(stride) == 0:
        return float(stride), float(stride)
    sy, sx = stride
    return float(sy), float(sx)


def dafa_label(sub_policy: Optional[str],
               applied: Optional[Sequence[Tuple[str, float]]] = None) -> str:
    """Title text for a DAFA draw, e.g. ``'DAFA Rotate+Cutout, applied: Rotate m=0.50'``."""
    if not sub_policy:
        return 'no DAFA draw'
    if applied is None:
        return f'DAFA {sub_policy}'
    ops = ', '.join(f'{name} m={mag:.2f}' for name, mag in applied) or 'none'
    return f'DAFA {sub_policy}, applied: {ops}'


# --------------------------------------------------------------------------- figures
