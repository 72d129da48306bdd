from .sokd import SoKD
from .unrolled import (finite_difference_mixed_product, gradient_mixed_product,
                       unrolled_policy_gradient)
from .virtual_steps import clip_by_global_norm, optimizer_step, sgd_step

__all__ = [
    'SoKD', 'finite_difference_mixed_product', 'gradient_mixed_product',
    'unrolled_policy_gradient', 'optimizer_step', 'sgd_step',
    'clip_by_global_norm'
]
