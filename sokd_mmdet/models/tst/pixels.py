"""Between the detector's normalised input and the pixel values colour ops act on.

MMDetection's data preprocessor feeds ``(pixel - mean) / std`` (per channel, after the
optional BGR->RGB swap) with 8-bit pixels in [0, 255]. TST's photometric ops are defined on
pixel values scaled to [0, 1], so the augmenter maps the input there and back with the
preprocessor's own ``mean`` and ``std``.
"""
from torch import Tensor


def to_unit_pixels(x: Tensor, mean: Tensor, std: Tensor, pixel_max: float = 255.0) -> Tensor:
    """``(x * std + mean) / pixel_max``: normalised (N, C, H, W) input to pixels in [0, 1].

    Args:
        x (Tensor): (N, C, H, W) normalised input.
        mean (Tensor): (C,) the preprocessor's mean (pixel units).
        std (Tensor): (C,) the preprocessor's std (pixel units).
        pixel_max (float): the largest pixel value (255 for 8-bit images).
    """
    mean, std = mean.to(x)[None, :, None, None], std.to(x)[None, :, None, None]
    return (x * std + mean) / pixel_max


def to_normalised(x: Tensor, mean: Tensor, std: Tensor, pixel_max: float = 255.0) -> Tensor:
    """The inverse of :func:`to_unit_pixels`: ``(x * pixel_max - mean) / std``."""
    mean, std = mean.to(x)[None, :, None, None], std.to(x)[None, :, None, None]
    return (x * pixel_max - mean) / std
