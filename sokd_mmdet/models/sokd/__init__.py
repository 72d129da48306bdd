"""SoKD (Shen et al., ACM MM 2024): DAFA refines the teacher's features for the student,
DAM finds the distinctive areas distillation concentrates on, the distiller and loss wrap
any MMRazor distillation loss with both, and the algorithm learns DAFA's policy by the
unrolled bi-level step (:mod:`.policy_step`)."""
from .dafa import DAFA
from .dam import DAM
from .masked import masked_channel_wise_divergence, masked_distill_loss
from .sokd import SoKD, takes_policy_step
from .sokd_distiller import SoKDDistiller
from .sokd_loss import SoKDLoss
from .unrolled import (finite_difference_mixed_product, gradient_mixed_product,
                       unrolled_policy_gradient)
from .virtual_steps import clip_by_global_norm, optimizer_step, sgd_step

__all__ = [
    'DAFA', 'DAM', 'SoKD', 'takes_policy_step', 'SoKDDistiller', 'SoKDLoss',
    'masked_channel_wise_divergence', 'masked_distill_loss', 'finite_difference_mixed_product',
    'gradient_mixed_product', 'unrolled_policy_gradient', 'optimizer_step', 'sgd_step',
    'clip_by_global_norm'
]
