"""ATF, adaptive teacher fine-tuning: alpha-divergence on normalised logits, both ways;
alone (:class:`ATF`) or on the teacher's head under SoKD (:class:`ATFSoKD`)."""
from .alpha_divergence_loss import AlphaDivergenceLoss
from .atf import ATF
from .atf_sokd import ATFSoKD
from .divergence import alpha_divergence, bernoulli_alpha_divergence, categorical_alpha_divergence
from .logits import anchor_class_logits, standardize_logits

__all__ = [
    'ATF', 'ATFSoKD', 'AlphaDivergenceLoss', 'alpha_divergence', 'categorical_alpha_divergence',
    'bernoulli_alpha_divergence', 'anchor_class_logits', 'standardize_logits'
]
