from .policy_plot import plot_policy_history
from .regions import draw_dafa, draw_feature_regions, draw_regions
from .sokd_inspector import draw_inspection, inspect_batch

__all__ = [
    'plot_policy_history', 'draw_dafa', 'draw_feature_regions', 'draw_regions',
    'draw_inspection', 'inspect_batch'
]
