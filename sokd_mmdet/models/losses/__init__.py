from .masked import masked_distill_loss
from .sokd_loss import SoKDLoss

__all__ = ['masked_distill_loss', 'SoKDLoss']
