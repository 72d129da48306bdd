"""Analysis of a distillation model, behind the hooks and ``tools/``: what SoKD sees on a
batch, what DAM's mask keeps, how far a DAFA op moves the target. Nothing here trains."""
from .dafa_target_shift import op_target_shift
from .dam_coverage import gt_centre_recall, region_losses
from .inspection import base_losses, inspect_batch, level_mappings

__all__ = [
    'op_target_shift', 'gt_centre_recall', 'region_losses', 'base_losses', 'inspect_batch',
    'level_mappings'
]
