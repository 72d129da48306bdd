from .sokd_distiller import SoKDDistiller

__all__ = ['SoKDDistiller']
