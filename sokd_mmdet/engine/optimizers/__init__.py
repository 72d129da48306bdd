from .cpu_autocast_wrapper import CPUAutocastOptimWrapper
from .distill_constructor import DistillOptimWrapperConstructor

__all__ = ['CPUAutocastOptimWrapper', 'DistillOptimWrapperConstructor']
