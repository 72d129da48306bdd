from .policy_plot import plot_policy_history

__all__ = ['plot_policy_history']
