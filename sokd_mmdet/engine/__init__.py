from .hooks import DAFAPolicyLoggerHook, SoKDVisualizationHook, TSTAugmenterLoggerHook
from .loops import TeacherStudentTestLoop
from .model_wrapper import SoKDDistributedDataParallel
from .optimizers import CPUAutocastOptimWrapper, SoKDOptimWrapperConstructor

__all__ = [
    'DAFAPolicyLoggerHook', 'TSTAugmenterLoggerHook', 'TeacherStudentTestLoop',
    'SoKDOptimWrapperConstructor', 'CPUAutocastOptimWrapper', 'SoKDVisualizationHook',
    'SoKDDistributedDataParallel'
]
