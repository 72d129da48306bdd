from .hooks import DAFAPolicyLoggerHook
from .loops import TeacherStudentTestLoop
from .model_wrapper import SoKDDistributedDataParallel
from .optimizers import SoKDOptimWrapperConstructor

__all__ = [
    'DAFAPolicyLoggerHook', 'TeacherStudentTestLoop', 'SoKDOptimWrapperConstructor',
    'SoKDDistributedDataParallel'
]
