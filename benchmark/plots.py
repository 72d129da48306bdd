"""The benchmark page's plots: the mAP curves and the learned DAFA policies."""
import os
import os.path as osp
from typing import Optional


def _pyplot():
    """pyplot on the Agg backend: the benchmark runs without a display."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def plot_map_curves(summary: dict, out_file: str) -> str:
    """AP on the held-out split against iterations, per method (mean ± std over seeds).

    Args:
        summary (dict): the output of :func:`.summary.summarise`.
        out_file (str): where to save the PNG (its folder is created).

    Returns:
        str: ``out_file``.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5), dpi=100)
    for m in summary['methods']:
        pts = [p for p in m['curve'] if p['mean'] is not None]
        if not pts:
            continue
        x = [p['iter'] for p in pts]
        y = [100 * p['mean'] for p in pts]
        line, = ax.plot(
            x,
            y,
            marker='o',
            ms=3,
            label=m['name'],
            ls='-' if m['name'].startswith('sokd') else '--')
        sd = [100 * (p['std'] or 0.0) for p in pts]
        if any(sd):
            ax.fill_between(
                x, [a - b for a, b in zip(y, sd)], [a + b for a, b in zip(y, sd)],
                color=line.get_color(),
                alpha=0.12)
    ap = (summary['teacher'].get('metrics') or {}).get('AP')
    if ap is not None:
        ax.axhline(100 * ap, color='k', ls=':', lw=1, label='teacher')
    ax.set_xlabel('iteration')
    ax.set_ylabel('AP (%) on the held-out split')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc='center left', bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    fig.savefig(out_file)
    plt.close(fig)
    return out_file


def plot_policies(summary: dict, out_file: str) -> Optional[str]:
    """The learned DAFA policy of every method that searched one, one row per method.

    Each row is :func:`sokd_mmdet.visualization.plot_policy_history` of the method's policy
    history averaged over seeds.

    Args:
        summary (dict): the output of :func:`.summary.summarise`.
        out_file (str): where to save the PNG (its folder is created).

    Returns:
        str or None: ``out_file``, or None (nothing written) when no run has a policy.
    """
    from sokd_mmdet.visualization.policy_plot import plot_policy_history
    rows = [(m['name'], plot_policy_history(m['policy'])) for m in summary['methods']
            if m['policy']]
    if not rows:
        return None
    plt = _pyplot()
    h, w = rows[0][1].shape[:2]
    fig, axes = plt.subplots(
        len(rows), 1, figsize=(w / 100, len(rows) * (h / 100 + 0.4)), dpi=100, squeeze=False)
    for ax, (name, image) in zip(axes[:, 0], rows):
        ax.imshow(image)
        ax.set_title(f'{name} (mean over seeds)', fontsize=10)
        ax.axis('off')
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    fig.savefig(out_file)
    plt.close(fig)
    return out_file
