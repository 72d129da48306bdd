from .augmenter_logger import TSTAugmenterLoggerHook
from .policy_logger import DAFAPolicyLoggerHook
from .sokd_visualization_hook import SoKDVisualizationHook

__all__ = ['DAFAPolicyLoggerHook', 'SoKDVisualizationHook', 'TSTAugmenterLoggerHook']
