"""SoKD's registered models: DAFA, DAM, the SoKD loss wrapper, distiller and algorithm."""
from .algorithms import SoKD
from .dafa import DAFA
from .dam import DAM
from .distillers import SoKDDistiller
from .losses import SoKDLoss

__all__ = ['DAFA', 'DAM', 'SoKD', 'SoKDDistiller', 'SoKDLoss']
