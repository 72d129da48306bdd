"""Pictures of a learned augmentation policy (DAFA's, TST's augmenter's)."""
from typing import List, Optional

import numpy as np


def plot_policy_history(
    history: List[dict],
    out_file: Optional[str] = None,
    title: str = 'DAFA policy over training',
    labels=('expected apply probability', 'weighted magnitude')
) -> np.ndarray:
    """Plot per-op apply probability and magnitude against training iterations.

    Args:
        history (list[dict]): records with ``iter`` and the ``apply_prob`` / ``magnitude``
            dicts of :meth:`DAFA.policy_summary`.
        out_file (str, optional): where to save the PNG.
        title (str): the figure's title.
        labels (tuple[str, str]): y labels of the probability and the magnitude panels.

    Returns:
        np.ndarray: the figure as an (H, W, 3) uint8 RGB image.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    iters = [h['iter'] for h in history]
    ops = list(history[0]['apply_prob'])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), dpi=100)
    for key, ax, label in (('apply_prob', axes[0], labels[0]), ('magnitude', axes[1], labels[1])):
        for op in ops:
            ax.plot(iters, [h[key][op] for h in history], label=op)
        ax.set_xlabel('iteration')
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7, loc='center left', bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(title)
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    if out_file is not None:
        fig.savefig(out_file)
    plt.close(fig)
    return image
