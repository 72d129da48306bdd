"""SoKD's registered models: DAFA, DAM, the SoKD loss wrapper, distiller and algorithm."""
from .algorithms import SoKD
from .atf import ATF, AlphaDivergenceLoss
from .dafa import DAFA
from .dam import DAM
from .distillers import SoKDDistiller
from .losses import SoKDLoss
from .tst import TST, TSTAugmenter, TSTSoKD

__all__ = ['DAFA', 'DAM', 'SoKD', 'SoKDDistiller', 'SoKDLoss', 'ATF', 'AlphaDivergenceLoss', 'TST', 'TSTAugmenter', 'TSTSoKD']
