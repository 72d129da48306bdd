"""The matplotlib layer of the SoKD pictures: a fixed figure layout, panels shown with axes in
input pixels or cells, colour bars, score labels, the figure rendered to RGB (and a PNG).

It uses matplotlib's Agg canvas directly, never pyplot, so it does not change the backend
of an interactive session.
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from .panels import DPI, PANEL_INCHES, REGION_COLOR

# figure geometry, inches: a fixed layout (matplotlib's constrained layout costs about a
# second per figure, more than everything else together)
_LEFT, _GAP, _BAR, _BAR_PAD, _BAR_LABELS = 0.45, 0.4, 0.12, 0.08, 0.55
_BOTTOM, _PANEL_TITLE, _TOP = 0.45, 0.3, 0.35


def new_figure(hw: Tuple[int, int], colorbars: Sequence[bool], title: Optional[str]):
    """A row of image panels of aspect ``hw``; a colour bar axis after each flagged panel.

    Returns:
        tuple: the figure, the panel axes, the colour bar axes (None where not flagged).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    h, w = hw
    pw, ph = (PANEL_INCHES, PANEL_INCHES * h / w) if w >= h else (PANEL_INCHES * w / h,
                                                                  PANEL_INCHES)
    bar = _BAR_PAD + _BAR + _BAR_LABELS
    width = _LEFT + sum(pw + (bar if c else 0.0)
                        for c in colorbars) + _GAP * (len(colorbars) - 1) + 0.15
    height = _BOTTOM + ph + _PANEL_TITLE + (_TOP if title else 0.0)
    fig = Figure(figsize=(width, height), dpi=DPI)
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


def show_panel(ax, panel: np.ndarray, extent_hw: Tuple[float, float], title: str,
               unit: str) -> None:
    """Show a panel with axes in ``unit`` (input pixels or cells) spanning ``extent_hw``."""
    from matplotlib.ticker import MaxNLocator
    h, w = extent_hw
    # nearest keeps cells and lines sharp at about 1:1; a large input is shrunk smoothly
    shrunk = max(panel.shape[:2]) > 2 * PANEL_INCHES * DPI
    ax.imshow(panel, extent=(0, w, h, 0), interpolation='antialiased' if shrunk else 'nearest')
    for axis in (ax.xaxis, ax.yaxis):  # few ticks: readable, and ticks cost time
        axis.set_major_locator(MaxNLocator(5, integer=True))
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    ax.set_xlabel(unit, fontsize=7, labelpad=1)


def add_colorbar(fig, cax, cmap: str, vmin: float, vmax: float, label: str) -> None:
    """A colour bar of ``cmap`` from ``vmin`` to ``vmax`` in axis ``cax``, labelled."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    if not vmax > vmin:
        vmax = vmin + 1e-6
    bar = fig.colorbar(ScalarMappable(norm=Normalize(vmin, vmax), cmap=cmap), cax=cax)
    bar.set_label(label, fontsize=7)
    bar.ax.tick_params(labelsize=7)


def label_scores(ax, boxes: np.ndarray, scores: Optional[np.ndarray], min_score: float,
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


def finish_figure(fig, out_file: Optional[str]) -> np.ndarray:
    """Render once; the PNG is written from the same pixels (``savefig`` would render again)."""
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    if out_file is not None and not cv2.imwrite(out_file, image[..., ::-1],
                                                (cv2.IMWRITE_PNG_COMPRESSION, 6)):
        raise OSError(f'could not write {out_file}')
    return image
