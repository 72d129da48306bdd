from .hooks import DAFAPolicyLoggerHook, SoKDVisualizationHook
from .loops import TeacherStudentTestLoop
from .model_wrapper import SoKDDistributedDataParallel
from .optimizers import CPUAutocastOptimWrapper, SoKDOptimWrapperConstructor

__all__ = [
    'DAFAPolicyLoggerHook', 'TeacherStudentTestLoop', 'SoKDOptimWrapperConstructor',
    'CPUAutocastOptimWrapper', 'SoKDVisualizationHook',
    'SoKDDistributedDataParallel'
]
