"""What the custom train steps of SoKD, TST and ATF share: the parameter update, the
teacher records, the named optimisers and the stop on a non-finite loss."""
from .finite_losses import check_finite_losses, non_finite_terms
from .optim_entries import optim_entry
from .parameter_update import average_gradients, gradient_surrogate, update_params
from .records import current_records, detached, detached_records, replaced_records, set_records

__all__ = [
    'check_finite_losses', 'non_finite_terms', 'optim_entry', 'average_gradients',
    'gradient_surrogate', 'update_params', 'current_records', 'detached', 'detached_records',
    'replaced_records', 'set_records'
]
