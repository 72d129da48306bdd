"""Pictures of SoKD's distinctive areas (DAM) and of the refined teacher knowledge (DAFA).

Plain drawing functions: numpy arrays in, an RGB ``uint8`` picture out (optionally saved as
a PNG); no model code. :func:`~sokd_mmdet.analysis.inspect_batch` computes the arrays from
a model, ``tools/visualize_sokd.py`` and ``SoKDVisualizationHook`` call both.

The composed figures (:func:`draw_regions`, :func:`draw_feature_regions`,
:func:`draw_dafa`) draw the maps and boxes into numpy panels (:mod:`.panels`, so that where
a box lands is exact and testable), then let matplotlib add titles, axes in input pixels or
cells, and colour bars (:mod:`.figures`).
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from .figures import add_colorbar, finish_figure, label_scores, new_figure, show_panel
from .panels import (FEATURE_CMAP, HEAT_CMAP, Stride, check_image, check_map, colorize, dafa_label,
                     feature_energy, line_width, panel_scale, region_panel, stride_xy)


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
    image = check_image(image)
    heats = [
        check_map(heat, name)
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
    fig, axes, caxes = new_figure((h, w), (False, False, False, True), title)
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
            thickness=line_width(h, w, scale))
        show_panel(ax, panel, (h, w), name, 'input pixels')
    label_scores(axes[3], boxes, scores, min_score, h)
    add_colorbar(fig, caxes[3], HEAT_CMAP, vmin, vmax, 'heat')
    return finish_figure(fig, out_file)


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
        maps.append((check_map(mask, 'mask'), 'gray', 'region mask M', 'mask'))
    cells = None
    if boxes is not None:
        sy, sx = stride_xy(stride)
        cells = np.asarray(
            boxes, dtype=np.float32).reshape(-1, 4) / np.array([sx, sy, sx, sy], dtype=np.float32)
    scale = panel_scale(h, w)
    fig, axes, caxes = new_figure((h, w), [True] * len(maps), title)
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
            thickness=line_width(h, w, scale))
        show_panel(ax, panel, (h, w), name, 'cells')
        add_colorbar(fig, cax, cmap, vmin, vmax, unit)
    return finish_figure(fig, out_file)


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
    fig, axes, caxes = new_figure((h, w), (False, True, True),
                                  f'{title}: {label}' if title else label)
    vmin = float(min(before.min(), after.min()))
    vmax = float(max(before.max(), after.max()))
    cmax = float(change.max()) if change.max() > 0 else 1.0
    panels = ((before, FEATURE_CMAP, vmin, vmax, f'teacher feature ({reduce})',
               reduce), (after, FEATURE_CMAP, vmin, vmax, f'after DAFA ({reduce})', reduce),
              (change, 'magma', 0.0, cmax, '|after - before| (l2)', 'l2'))
    for ax, cax, (values, cmap, lo, hi, name, unit) in zip(axes, caxes, panels):
        show_panel(ax, region_panel(colorize(values, cmap, lo, hi), scale=scale), (h, w), name,
                   'cells')
        if cax is not None:
            add_colorbar(fig, cax, cmap, lo, hi, unit)
    return finish_figure(fig, out_file)
