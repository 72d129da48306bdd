"""Registered models: SoKD (DAFA, DAM, loss wrapper, distiller, algorithm), TST and ATF."""
from .algorithms import SoKD
from .atf import ATF, ATFSoKD, AlphaDivergenceLoss
from .dafa import DAFA
from .dam import DAM
from .distillers import SoKDDistiller
from .losses import SoKDLoss
from .tst import TST, TSTAugmenter, TSTSoKD

__all__ = [
    'DAFA', 'DAM', 'SoKD', 'SoKDDistiller', 'SoKDLoss', 'ATF', 'ATFSoKD', 'AlphaDivergenceLoss',
    'TST', 'TSTAugmenter', 'TSTSoKD'
]
