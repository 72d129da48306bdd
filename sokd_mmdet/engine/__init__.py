from .checkpoint_coverage import CheckpointCoverageError, load_with_coverage, set_min_coverage
from .distill_data_parallel import DistillDataParallel
from .hooks import (DAFAPolicyLoggerHook, FiniteLossHook, SoKDVisualizationHook,
                    TSTAugmenterLoggerHook)
from .loops import TeacherStudentTestLoop
from .optimizers import CPUAutocastOptimWrapper, DistillOptimWrapperConstructor

__all__ = [
    'DAFAPolicyLoggerHook', 'TSTAugmenterLoggerHook', 'TeacherStudentTestLoop',
    'DistillOptimWrapperConstructor', 'CPUAutocastOptimWrapper', 'SoKDVisualizationHook',
    'FiniteLossHook', 'CheckpointCoverageError', 'load_with_coverage', 'set_min_coverage',
    'DistillDataParallel'
]
