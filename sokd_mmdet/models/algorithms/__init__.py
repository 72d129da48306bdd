from .sokd import SoKD
from .unrolled import (finite_difference_mixed_product, unrolled_policy_gradient,
                       virtual_step)

__all__ = [
    'SoKD', 'finite_difference_mixed_product', 'unrolled_policy_gradient', 'virtual_step'
]
