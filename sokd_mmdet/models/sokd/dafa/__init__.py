from .dafa import DAFA
from .feature_ops import FEATURE_OPS, build_ops
from .policy import enumerate_sub_policies, relax_gradient

__all__ = ['DAFA', 'FEATURE_OPS', 'build_ops', 'enumerate_sub_policies', 'relax_gradient']
