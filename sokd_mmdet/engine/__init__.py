from .hooks import (DAFAPolicyLoggerHook, FiniteLossHook, SoKDVisualizationHook,
                    TSTAugmenterLoggerHook)
from .loops import TeacherStudentTestLoop
from .model_wrapper import SoKDDistributedDataParallel
from .optimizers import CPUAutocastOptimWrapper, SoKDOptimWrapperConstructor

__all__ = [
    'DAFAPolicyLoggerHook', 'TSTAugmenterLoggerHook', 'TeacherStudentTestLoop',
    'SoKDOptimWrapperConstructor', 'CPUAutocastOptimWrapper', 'SoKDVisualizationHook',
    'FiniteLossHook',
    'SoKDDistributedDataParallel'
]
