"""Registered models, one folder per method: SoKD (DAFA, DAM, loss, distiller, algorithm),
TST and ATF; ``steps`` holds what their custom train steps share."""
from .atf import ATF, AlphaDivergenceLoss, ATFSoKD
from .sokd import DAFA, DAM, SoKD, SoKDDistiller, SoKDLoss
from .tst import TST, TSTAugmenter, TSTSoKD

__all__ = [
    'DAFA', 'DAM', 'SoKD', 'SoKDDistiller', 'SoKDLoss', 'ATF', 'ATFSoKD', 'AlphaDivergenceLoss',
    'TST', 'TSTAugmenter', 'TSTSoKD'
]
