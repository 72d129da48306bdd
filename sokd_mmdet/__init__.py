"""sokd-mmdet: Student-Oriented Knowledge Distillation for MMDetection / MMRazor.

Importing the package first applies :mod:`sokd_mmdet.compat`, which makes the released
OpenMMLab stack (mmengine 0.10.7, mmrazor 1.0.0) work on current PyTorch, then registers
the SoKD components in MMRazor's and MMDetection's registries.
"""
from . import compat  # noqa: F401  (must run before anything imports mmrazor)
from . import datasets, engine, models  # noqa: F401,E402  (registration)
from .version import __version__  # noqa: E402

__all__ = ['__version__']
