from .inspection import draw_inspection
from .policy_plot import plot_policy_history
from .regions import draw_dafa, draw_feature_regions, draw_regions

__all__ = [
    'plot_policy_history', 'draw_dafa', 'draw_feature_regions', 'draw_regions', 'draw_inspection'
]
