"""Image augmentation operations searched by TST's augmenter.

Two kinds of op, each driven by a magnitude ``m`` in [0, 1] that is mapped to a signed value
``v = sign * m * max_value`` (AutoAugment's random sign, so magnitude 0 is the identity):

- **geometric** ops (:class:`GeometricOp`) return a 3x3 *forward* affine matrix
  (``forward_matrix``) in centred pixel coordinates (origin at the image centre, x right,
  y down): the input point ``p`` moves to ``A p`` (DAFA's feature ops give the inverse,
  a sampling matrix, as ``grid_sample`` reads it). All geometric ops of a draw are
  composed into one matrix, applied to the image with a single ``grid_sample`` and to the
  boxes' corners (:mod:`.affine`, :mod:`.boxes`), so image and boxes move together;
- **photometric** ops (:class:`PhotometricOp`) act on pixel values scaled to [0, 1]
  (the augmenter un-normalises the preprocessed input first, :mod:`.pixels`), as PIL's
  ``ImageEnhance`` does: blend the image with a degenerate version of itself by the factor
  ``1 + v`` and clamp to [0, 1].

All ops are vectorised over the batch: ``v`` has one value per image, shape (N,). Every op
is differentiable in ``v`` (and so in the magnitude), except :class:`ImageHFlip`, which has no
magnitude (``max_value = 0``: only its apply probability is learned).
"""
import math
from typing import Dict, List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ..affine_matrices import homogeneous, stack_affine

__all__ = [
    'ImageOp', 'GeometricOp', 'PhotometricOp', 'ImageHFlip', 'ImageScale', 'ImageRotate',
    'ImageShearX', 'ImageShearY', 'ImageTranslateX', 'ImageTranslateY', 'Brightness', 'Contrast',
    'Saturation', 'Sharpness', 'IMAGE_OPS', 'build_image_ops', 'grey'
]

# ITU-R 601 luma weights of (R, G, B), as PIL's convert('L')
LUMA_RGB = (0.299, 0.587, 0.114)


class ImageOp:
    """Base class of a TST image op.

    Attributes:
        name (str): the op's name in configs (``'Rotate'``).
        max_value (float): ``v`` at magnitude 1; ``v = sign * m * max_value``. 0 for an op
            without a magnitude.
    """

    name: str = ''
    max_value: float = 0.0

    @property
    def has_magnitude(self) -> bool:
        """Whether the magnitude changes what the op does."""
        return self.max_value > 0

    def __repr__(self) -> str:
        return f'{self.name}(max_value={self.max_value})'


class GeometricOp(ImageOp):
    """An op that moves pixels: a forward affine matrix in centred pixel coordinates."""

    def forward_matrix(self, v: Tensor, h: int, w: int) -> Tensor:
        """The forward matrix of each image.

        Args:
            v (Tensor): (N,) signed values.
            h (int): image height in pixels.
            w (int): image width in pixels.

        Returns:
            Tensor: (N, 3, 3); the input point (x, y, 1) (centred) moves to ``A (x, y, 1)``.
        """
        raise NotImplementedError


class ImageHFlip(GeometricOp):
    """Horizontal flip about the image centre, ``x -> -x``. No magnitude."""

    name = 'HFlip'

    def forward_matrix(self, v, h, w):
        one, zero = torch.ones_like(v), torch.zeros_like(v)
        return homogeneous(stack_affine([[-one, zero, zero], [zero, one, zero]]))


class ImageScale(GeometricOp):
    """Zoom about the centre by ``1 + v``, ``v`` in -0.5 .. 0.5 (content grows for v > 0)."""

    name = 'Scale'
    max_value = 0.5

    def forward_matrix(self, v, h, w):
        s, zero = 1 + v, torch.zeros_like(v)
        return homogeneous(stack_affine([[s, zero, zero], [zero, s, zero]]))


class ImageRotate(GeometricOp):
    """Rotation about the centre by ``v`` degrees, -30 .. 30 (clockwise on screen, y down)."""

    name = 'Rotate'
    max_value = 30.0

    def forward_matrix(self, v, h, w):
        rad = v * (math.pi / 180.0)
        cos, sin, zero = torch.cos(rad), torch.sin(rad), torch.zeros_like(v)
        return homogeneous(stack_affine([[cos, -sin, zero], [sin, cos, zero]]))


class ImageShearX(GeometricOp):
    """Horizontal shear ``x -> x + v y``, ``v`` in -0.3 .. 0.3."""

    name = 'ShearX'
    max_value = 0.3

    def forward_matrix(self, v, h, w):
        one, zero = torch.ones_like(v), torch.zeros_like(v)
        return homogeneous(stack_affine([[one, v, zero], [zero, one, zero]]))


class ImageShearY(GeometricOp):
    """Vertical shear ``y -> y + v x``, ``v`` in -0.3 .. 0.3."""

    name = 'ShearY'
    max_value = 0.3

    def forward_matrix(self, v, h, w):
        one, zero = torch.ones_like(v), torch.zeros_like(v)
        return homogeneous(stack_affine([[one, zero, zero], [v, one, zero]]))


class ImageTranslateX(GeometricOp):
    """Horizontal shift by ``v * W`` pixels, ``v`` in -0.3 .. 0.3 (right for v > 0)."""

    name = 'TranslateX'
    max_value = 0.3

    def forward_matrix(self, v, h, w):
        one, zero = torch.ones_like(v), torch.zeros_like(v)
        return homogeneous(stack_affine([[one, zero, v * w], [zero, one, zero]]))


class ImageTranslateY(GeometricOp):
    """Vertical shift by ``v * H`` pixels, ``v`` in -0.3 .. 0.3 (down for v > 0)."""

    name = 'TranslateY'
    max_value = 0.3

    def forward_matrix(self, v, h, w):
        one, zero = torch.ones_like(v), torch.zeros_like(v)
        return homogeneous(stack_affine([[one, zero, zero], [zero, one, v * h]]))


def grey(x: Tensor, rgb: bool = True) -> Tensor:
    """Luma of an (N, 3, H, W) image, (N, 1, H, W).

    Args:
        x (Tensor): images, channels in RGB order (``rgb=True``) or BGR.
        rgb (bool): channel order of ``x``.
    """
    weights = x.new_tensor(LUMA_RGB if rgb else LUMA_RGB[::-1])
    return (x * weights[None, :, None, None]).sum(dim=1, keepdim=True)


class PhotometricOp(ImageOp):
    """An op on pixel values in [0, 1]: ``clamp(degenerate + (1 + v) (x - degenerate))``.

    Factor 0 gives the degenerate image, 1 the input, above 1 an enhanced image.
    """

    max_value = 0.5

    def degenerate(self, x: Tensor, rgb: bool) -> Tensor:
        """The image the op blends with, broadcastable to ``x``."""
        raise NotImplementedError

    def apply(self, x: Tensor, v: Tensor, rgb: bool = True) -> Tensor:
        """Apply the op.

        Args:
            x (Tensor): (N, 3, H, W) pixel values in [0, 1].
            v (Tensor): (N,) signed values; the blend factor is ``1 + v``.
            rgb (bool): whether the channels are in RGB order (else BGR).

        Returns:
            Tensor: (N, 3, H, W) in [0, 1].
        """
        base = self.degenerate(x, rgb)
        factor = (1 + v).to(x.dtype)[:, None, None, None]
        return (base + factor * (x - base)).clamp(0.0, 1.0)


class Brightness(PhotometricOp):
    """Scale pixel values by ``1 + v`` (blend with black), ``v`` in -0.5 .. 0.5."""

    name = 'Brightness'

    def degenerate(self, x, rgb):
        return torch.zeros_like(x[:, :1, :1, :1])


class Contrast(PhotometricOp):
    """Blend with the image's mean luma by ``1 + v``, ``v`` in -0.5 .. 0.5."""

    name = 'Contrast'

    def degenerate(self, x, rgb):
        return grey(x, rgb).mean(dim=(2, 3), keepdim=True)


class Saturation(PhotometricOp):
    """Blend with the per-pixel luma (greyscale) by ``1 + v``, ``v`` in -0.5 .. 0.5."""

    name = 'Saturation'

    def degenerate(self, x, rgb):
        return grey(x, rgb)


class Sharpness(PhotometricOp):
    """Blend with a smoothed image (PIL's SMOOTH kernel) by ``1 + v``, ``v`` in -0.5 .. 0.5.

    The smoothing is a depthwise 3x3 convolution with weights [[1, 1, 1], [1, 5, 1],
    [1, 1, 1]] / 13 and replicated borders.
    """

    name = 'Sharpness'

    def degenerate(self, x, rgb):
        kernel = x.new_ones(3, 3)
        kernel[1, 1] = 5.0
        kernel = (kernel / kernel.sum()).expand(x.shape[1], 1, 3, 3)
        padded = F.pad(x, (1, 1, 1, 1), mode='replicate')
        return F.conv2d(padded, kernel, groups=x.shape[1])


IMAGE_OPS: Dict[str, ImageOp] = {
    op.name: op
    for op in (ImageHFlip(), ImageScale(), ImageRotate(), ImageShearX(), ImageShearY(),
               ImageTranslateX(), ImageTranslateY(), Brightness(), Contrast(), Saturation(),
               Sharpness())
}


def build_image_ops(names: Sequence[str]) -> List[ImageOp]:
    """The ops named in a config, in order.

    Args:
        names (Sequence[str]): names from :data:`IMAGE_OPS`, each at most once.

    Returns:
        list[ImageOp]: the ops.

    Raises:
        ValueError: for an empty list, an unknown name or a repeated one.
    """
    names = list(names)
    if not names:
        raise ValueError('TSTAugmenter needs at least one op')
    unknown = [n for n in names if n not in IMAGE_OPS]
    if unknown:
        raise ValueError(f'unknown TST image ops {unknown}; available: {sorted(IMAGE_OPS)}')
    if len(set(names)) != len(names):
        raise ValueError(f'TST image ops must be distinct, got {names}')
    return [IMAGE_OPS[n] for n in names]
