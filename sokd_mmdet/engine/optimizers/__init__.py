from .sokd_constructor import SoKDOptimWrapperConstructor

__all__ = ['SoKDOptimWrapperConstructor']
