from .checkpoint_coverage import (CheckpointCoverageError, load_with_coverage,
                                  set_min_coverage)
from .hooks import (DAFAPolicyLoggerHook, FiniteLossHook, SoKDVisualizationHook,
                    TSTAugmenterLoggerHook)
from .loops import TeacherStudentTestLoop
from .model_wrapper import SoKDDistributedDataParallel
from .optimizers import CPUAutocastOptimWrapper, SoKDOptimWrapperConstructor

__all__ = [
    'DAFAPolicyLoggerHook', 'TSTAugmenterLoggerHook', 'TeacherStudentTestLoop',
    'SoKDOptimWrapperConstructor', 'CPUAutocastOptimWrapper', 'SoKDVisualizationHook',
    'FiniteLossHook', 'CheckpointCoverageError', 'load_with_coverage', 'set_min_coverage',
    'SoKDDistributedDataParallel'
]
