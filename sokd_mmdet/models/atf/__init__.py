"""ATF, adaptive teacher fine-tuning: alpha-divergence on normalised logits, both ways."""
from .alpha_divergence_loss import AlphaDivergenceLoss
from .atf import ATF, detached_records
from .divergence import (alpha_divergence, bernoulli_alpha_divergence,
                         categorical_alpha_divergence)
from .logits import anchor_class_logits, standardize_logits

__all__ = [
    'ATF', 'AlphaDivergenceLoss', 'alpha_divergence', 'categorical_alpha_divergence',
    'bernoulli_alpha_divergence', 'anchor_class_logits', 'standardize_logits',
    'detached_records'
]
