from .augmenter_logger import TSTAugmenterLoggerHook
from .finite_loss import FiniteLossHook
from .policy_logger import DAFAPolicyLoggerHook
from .sokd_visualization_hook import SoKDVisualizationHook

__all__ = [
    'DAFAPolicyLoggerHook', 'FiniteLossHook', 'SoKDVisualizationHook', 'TSTAugmenterLoggerHook'
]
