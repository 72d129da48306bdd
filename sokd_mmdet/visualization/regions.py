"""Pictures of SoKD's distinctive areas (DAM) and of the refined teacher knowledge (DAFA).

Plain drawing functions: numpy arrays in, an RGB ``uint8`` picture out (optionally saved as
a PNG); no model code. :func:`~sokd_mmdet.analysis.inspect_batch`
computes the arrays from a model, ``tools/visualize_sokd.py`` and
``SoKDVisualizationHook`` call both.

Coordinates follow :mod:`sokd_mmdet.models.sokd.dam.regions`: a box is ``(x1, y1, x2, y2)`` on
the continuous plane of its picture (``[0, W] x [0, H]``, one unit per pixel or per feature
cell). Boxes on the input image are in input pixels (feature cells times the level's
stride); boxes on a feature map are in cells.

The composed figures (:func:`draw_regions`, :func:`draw_feature_regions`,
:func:`draw_dafa`) draw the maps and boxes into numpy panels (:func:`region_panel`, so that
where a box lands is exact and testable), then let matplotlib add titles, axes in input
pixels or cells, and colour bars. They use matplotlib's Agg canvas directly, never pyplot,
so they do not change the backend of an interactive session.
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

# figure geometry, inches: a fixed layout (matplotlib's constrained layout costs about a
# second per figure, more than everything else together)
_PANEL, _LEFT, _GAP, _BAR, _BAR_PAD, _BAR_LABELS = 2.6, 0.45, 0.4, 0.12, 0.08, 0.55
_BOTTOM, _PANEL_TITLE, _TOP = 0.45, 0.3, 0.35
_DPI = 100

Stride = Union[float, Tuple[float, float]]


def _check_image(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB; a (H, W) or (H, W, 1) grey image is repeated to 3 channels."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[2] not in (1, 3):
        raise ValueError(f'expected an (H, W, 3) RGB image, got shape {image.shape}')
    if image.dtype != np.uint8:
        raise ValueError(f'expected a uint8 image, got {image.dtype}')
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image


def _check_map(values: np.ndarray, name: str) -> np.ndarray:
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


def _line_width(height: int, width: int, scale: int) -> int:
    """Box line width in panel pixels that shows as about 2 pixels in the figure.

    A large input (e.g. 800 x 1333) is shown shrunk to the panel size; thin lines would
    vanish.
    """
    return max(2, int(round(2 * max(height, width) * scale / (_PANEL * _DPI))))


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
    values = _check_map(values, 'colorize')
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
    image = _check_image(image)
    heat = _check_map(heatmap, 'overlay_heatmap')
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
    out = _check_image(image).copy()
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
    panel = _check_image(background)
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


def _stride_xy(stride: Stride) -> Tuple[float, float]:
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


def _figure(hw: Tuple[int, int], colorbars: Sequence[bool], title: Optional[str]):
    """A row of image panels of aspect ``hw``; a colour bar axis after each flagged panel.

    Returns:
        tuple: the figure, the panel axes, the colour bar axes (None where not flagged).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    h, w = hw
    pw, ph = (_PANEL, _PANEL * h / w) if w >= h else (_PANEL * w / h, _PANEL)
    bar = _BAR_PAD + _BAR + _BAR_LABELS
    width = _LEFT + sum(pw + (bar if c else 0.0)
                        for c in colorbars) + _GAP * (len(colorbars) - 1) + 0.15
    height = _BOTTOM + ph + _PANEL_TITLE + (_TOP if title else 0.0)
    fig = Figure(figsize=(width, height), dpi=_DPI)
    FigureCanvasAgg(fig)
    axes, caxes, x = [], [], _LEFT
    for c in colorbars:
        axes.append(fig.add_axes((x / width, _BOTTOM / height, pw / width, ph / height)))
        x += pw
        cax = None
        if c:
            cax = fig.add_axes(
                ((x + _BAR_PAD) / width, _BOTTOM / height, _BAR / width, ph / height))
            x += bar
        caxes.append(cax)
        x += _GAP
    if title:
        fig.suptitle(title, fontsize=10, y=1 - 0.08 / height, va='top')
    return fig, axes, caxes


def _show(ax, panel: np.ndarray, extent_hw: Tuple[float, float], title: str, unit: str) -> None:
    """Show a panel with axes in ``unit`` (input pixels or cells) spanning ``extent_hw``."""
    from matplotlib.ticker import MaxNLocator
    h, w = extent_hw
    # nearest keeps cells and lines sharp at about 1:1; a large input is shrunk smoothly
    shrunk = max(panel.shape[:2]) > 2 * _PANEL * _DPI
    ax.imshow(panel, extent=(0, w, h, 0), interpolation='antialiased' if shrunk else 'nearest')
    for axis in (ax.xaxis, ax.yaxis):  # few ticks: readable, and ticks cost time
        axis.set_major_locator(MaxNLocator(5, integer=True))
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    ax.set_xlabel(unit, fontsize=7, labelpad=1)


def _colorbar(fig, cax, cmap: str, vmin: float, vmax: float, label: str) -> None:
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    if not vmax > vmin:
        vmax = vmin + 1e-6
    bar = fig.colorbar(ScalarMappable(norm=Normalize(vmin, vmax), cmap=cmap), cax=cax)
    bar.set_label(label, fontsize=7)
    bar.ax.tick_params(labelsize=7)


def _label_scores(ax, boxes: np.ndarray, scores: Optional[np.ndarray], min_score: float,
                  height: float) -> None:
    """Write each drawn region's score above its top-left corner (below it at the top)."""
    if scores is None:
        return
    scores = np.asarray(scores, dtype=np.float32).reshape(-1)
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    keep = (scores > min_score) & (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    for (x1, y1, _, y2), s in zip(boxes[keep], scores[keep]):
        # a label above a box at the top edge would cover the panel title
        above = y1 >= 0.08 * height
        ax.text(
            x1,
            y1 if above else y2,
            f'{s:.2f}',
            color='black',
            fontsize=6,
            va='bottom' if above else 'top',
            ha='left',
            bbox=dict(
                boxstyle='square,pad=0.1', fc=np.array(REGION_COLOR) / 255, ec='none', alpha=0.8))


def _finish(fig, out_file: Optional[str]) -> np.ndarray:
    """Render once; the PNG is written from the same pixels (``savefig`` would render again)."""
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    if out_file is not None and not cv2.imwrite(out_file, image[..., ::-1],
                                                (cv2.IMWRITE_PNG_COMPRESSION, 6)):
        raise OSError(f'could not write {out_file}')
    return image


def draw_regions(image: np.ndarray,
                 heat_s: np.ndarray,
                 heat_t: np.ndarray,
                 mutual: np.ndarray,
                 boxes: np.ndarray,
                 scores: Optional[np.ndarray] = None,
                 gt_boxes: Optional[np.ndarray] = None,
                 min_score: float = 0.0,
                 vrange: Optional[Tuple[float, float]] = None,
                 title: Optional[str] = None,
                 out_file: Optional[str] = None) -> np.ndarray:
    """DAM's distinctive areas over the input image.

    Four panels: the image with the regions (cyan) and the ground truth (green, if given);
    the student's, the teacher's and the mutual heatmap over the image in grey, on one
    colour scale; the regions again on the mutual heatmap, with their scores.

    Args:
        image (np.ndarray): (H, W, 3) uint8 RGB input image (the network's input size).
        heat_s (np.ndarray): (h, w) student heatmap (on the adapted student feature).
        heat_t (np.ndarray): (h, w) teacher heatmap (on the augmented teacher feature).
        mutual (np.ndarray): (h, w) mutual heatmap the regions were decoded from.
        boxes (np.ndarray): (k, 4) regions in input pixels (cells times the stride).
        scores (np.ndarray, optional): (k,) region scores; ``<= min_score`` not drawn.
        gt_boxes (np.ndarray, optional): (n, 4) ground-truth boxes in input pixels.
        min_score (float): DAM's ``min_score``. Defaults to 0.
        vrange (tuple[float, float], optional): heat of the darkest and the brightest
            colour. None: the range of the three heatmaps, so that an untrained DAM (all
            heat near its 0.1 prior) still shows where it looks; pass (0, 1) to compare
            pictures.
        title (str, optional): figure title.
        out_file (str, optional): where to save the PNG.

    Returns:
        np.ndarray: the figure, (H', W', 3) uint8 RGB.
    """
    image = _check_image(image)
    heats = [
        _check_map(heat, name)
        for heat, name in ((heat_s, 'heat_s'), (heat_t, 'heat_t'), (mutual, 'mutual'))
    ]
    if vrange is None:
        vrange = (min(float(heat.min())
                      for heat in heats), max(float(heat.max()) for heat in heats))
    vmin, vmax = float(vrange[0]), float(vrange[1])
    vmax = max(vmax, vmin + 1e-6)
    h, w = image.shape[:2]
    # the heat shows better over a grey image than over a colourful one
    grey = np.repeat(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    scale = panel_scale(h, w)
    fig, axes, caxes = _figure((h, w), (False, False, False, True), title)
    panels = [
        (image, None, boxes, gt_boxes, 'input, regions (cyan), GT (green)'),
        (grey, heats[0], None, None, 'student heatmap'),
        (grey, heats[1], None, None, 'teacher heatmap (augmented)'),
        (grey, heats[2], boxes, None, 'mutual heatmap, regions'),
    ]
    for ax, (background, heat, bxs, gts, name) in zip(axes, panels):
        panel = region_panel(
            background,
            heat,
            bxs,
            scores,
            gts,
            scale,
            min_score,
            alpha=0.6,
            vmin=vmin,
            vmax=vmax,
            thickness=_line_width(h, w, scale))
        _show(ax, panel, (h, w), name, 'input pixels')
    _label_scores(axes[3], boxes, scores, min_score, h)
    _colorbar(fig, caxes[3], HEAT_CMAP, vmin, vmax, 'heat')
    return _finish(fig, out_file)


def draw_feature_regions(feat_s: np.ndarray,
                         feat_t: np.ndarray,
                         boxes: Optional[np.ndarray],
                         stride: Stride,
                         scores: Optional[np.ndarray] = None,
                         mask: Optional[np.ndarray] = None,
                         min_score: float = 0.0,
                         reduce: str = 'l2',
                         title: Optional[str] = None,
                         out_file: Optional[str] = None) -> np.ndarray:
    """The student's and the teacher's feature maps with DAM's regions, in feature cells.

    Panels: the adapted student feature and the augmented teacher feature (each reduced
    over channels by :func:`feature_energy`, each with its own colour bar) with the region
    boxes, and the region mask ``M`` that restricts the distillation loss (if given).

    Args:
        feat_s (np.ndarray): (C, h, w) student feature after its connector.
        feat_t (np.ndarray): (C, h, w) teacher feature (after DAFA, as DAM saw it).
        boxes (np.ndarray, optional): (k, 4) regions in input pixels; None draws no box.
        stride (float | tuple[float, float]): input pixels per cell, or ``(sy, sx)``.
        scores (np.ndarray, optional): (k,) region scores; ``<= min_score`` not drawn.
        mask (np.ndarray, optional): (h, w) region mask.
        min_score (float): DAM's ``min_score``. Defaults to 0.
        reduce (str): channel reduction, see :func:`feature_energy`. Defaults to ``'l2'``.
        title (str, optional): figure title.
        out_file (str, optional): where to save the PNG.

    Returns:
        np.ndarray: the figure, (H', W', 3) uint8 RGB.
    """
    maps = [(feature_energy(feat_s, reduce), FEATURE_CMAP, f'student feature ({reduce})', reduce),
            (feature_energy(feat_t, reduce), FEATURE_CMAP,
             f'teacher feature, augmented ({reduce})', reduce)]
    h, w = maps[0][0].shape
    if maps[1][0].shape != (h, w):
        raise ValueError(f'draw_feature_regions: student map {maps[0][0].shape} and teacher '
                         f'map {maps[1][0].shape} differ in size')
    if mask is not None:
        maps.append((_check_map(mask, 'mask'), 'gray', 'region mask M', 'mask'))
    cells = None
    if boxes is not None:
        sy, sx = _stride_xy(stride)
        cells = np.asarray(
            boxes, dtype=np.float32).reshape(-1, 4) / np.array([sx, sy, sx, sy], dtype=np.float32)
    scale = panel_scale(h, w)
    fig, axes, caxes = _figure((h, w), [True] * len(maps), title)
    for ax, cax, (values, cmap, name, unit) in zip(axes, caxes, maps):
        vmin, vmax = (0.0, 1.0) if unit == 'mask' else (float(values.min()), float(values.max()))
        panel = region_panel(
            colorize(values, cmap, vmin, vmax),
            None,
            cells,
            scores,
            None,
            scale,
            min_score,
            thickness=_line_width(h, w, scale))
        _show(ax, panel, (h, w), name, 'cells')
        _colorbar(fig, cax, cmap, vmin, vmax, unit)
    return _finish(fig, out_file)


def draw_dafa(feat_before: np.ndarray,
              feat_after: np.ndarray,
              sub_policy: Optional[str],
              applied: Optional[Sequence[Tuple[str, float]]] = None,
              reduce: str = 'l2',
              title: Optional[str] = None,
              out_file: Optional[str] = None) -> np.ndarray:
    """A teacher feature map before and after the DAFA augmentation.

    Panels: before and after on the same colour scale, and the energy of the change
    ``|after - before|`` (L2 over channels, so a channel shuffle, invisible in the first
    two panels, shows here) on its own scale. The title names the drawn sub-policy and the
    ops that were applied.

    Args:
        feat_before (np.ndarray): (C, h, w) teacher feature.
        feat_after (np.ndarray): (C, h, w) the same after DAFA.
        sub_policy (str, optional): name of the drawn sub-policy, e.g.
            ``'Rotate+Cutout'``.
        applied (Sequence[tuple[str, float]], optional): the ops of the sub-policy that
            were applied (their Bernoulli flag was 1), with their magnitudes; None when
            unknown.
        reduce (str): channel reduction of the first two panels. Defaults to ``'l2'``.
        title (str, optional): figure title, before the sub-policy.
        out_file (str, optional): where to save the PNG.

    Returns:
        np.ndarray: the figure, (H', W', 3) uint8 RGB.
    """
    before = feature_energy(feat_before, reduce)
    after = feature_energy(feat_after, reduce)
    if before.shape != after.shape:
        raise ValueError(f'draw_dafa: maps before {before.shape} and after {after.shape} '
                         'differ in size')
    change = feature_energy(
        np.asarray(feat_after, np.float32) - np.asarray(feat_before, np.float32), 'l2')
    h, w = before.shape
    scale = panel_scale(h, w)
    label = dafa_label(sub_policy, applied)
    fig, axes, caxes = _figure((h, w), (False, True, True),
                               f'{title}: {label}' if title else label)
    vmin = float(min(before.min(), after.min()))
    vmax = float(max(before.max(), after.max()))
    cmax = float(change.max()) if change.max() > 0 else 1.0
    panels = ((before, FEATURE_CMAP, vmin, vmax, f'teacher feature ({reduce})',
               reduce), (after, FEATURE_CMAP, vmin, vmax, f'after DAFA ({reduce})', reduce),
              (change, 'magma', 0.0, cmax, '|after - before| (l2)', 'l2'))
    for ax, cax, (values, cmap, lo, hi, name, unit) in zip(axes, caxes, panels):
        _show(ax, region_panel(colorize(values, cmap, lo, hi), scale=scale), (h, w), name, 'cells')
        if cax is not None:
            _colorbar(fig, cax, cmap, lo, hi, unit)
    return _finish(fig, out_file)
