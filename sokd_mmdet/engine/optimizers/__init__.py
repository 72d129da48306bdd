from .cpu_autocast_wrapper import CPUAutocastOptimWrapper
from .sokd_constructor import SoKDOptimWrapperConstructor

__all__ = ['CPUAutocastOptimWrapper', 'SoKDOptimWrapperConstructor']
