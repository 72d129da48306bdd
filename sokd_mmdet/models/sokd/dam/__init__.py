"""DAM, the Distinctive Area detection Module of SoKD: heads, region decoding, targets."""
from .dam import DAM
from .regions import local_peaks, mutual_heatmap, region_masks, topk_regions
from .targets import centernet_targets, gaussian_focal_loss, gaussian_radius

__all__ = [
    'DAM', 'mutual_heatmap', 'local_peaks', 'topk_regions', 'region_masks', 'gaussian_radius',
    'centernet_targets', 'gaussian_focal_loss'
]
