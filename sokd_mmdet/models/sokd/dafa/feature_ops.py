"""Feature augmentation operations searched by DAFA.

Nine operations on a feature map ``x`` of shape (N, C, H, W), each driven by a magnitude
``m`` in [0, 1] that is mapped linearly into the op's range. They are the feature-space
counterparts of the image operations of AutoAugment/DADA (DADA: Li et al., "Differentiable
Automatic Data Augmentation", ECCV 2020), as used by SoKD's DAFA (Shen et al., ACM MM 2024).

Every op splits its randomness from its application:

- ``sample(n, c, generator)`` draws the op's random parameters once per draw (signs, cutout
  centres, channel scores). They do not depend on the spatial size, so the same parameters
  are applied to every FPN level and the geometry stays consistent across levels.
- ``apply(x, magnitude, params, generator=None)`` applies the op to one level, vectorised
  over images and channels.

Gradients reach ``x`` and ``magnitude`` through the op itself, for every op. Cutout,
ChannelShuffle and ChannelDrop are written as continuous relaxations of their hard form
(an anti-aliased square, a blend with a permuted copy, a fractional last dropped channel):
a straight-through surrogate (``d out / d m = 1``) was measured to give these three exactly
no signal under CWD's spatial softmax and the same sign for all three under masked CWD, so
their learned magnitudes only drifted.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ...affine_matrices import stack_affine

__all__ = [
    'FeatureOp', 'FeatureShearX', 'FeatureShearY', 'FeatureTranslateX', 'FeatureTranslateY',
    'FeatureRotate', 'Cutout', 'Noise', 'ChannelShuffle', 'ChannelDrop', 'FEATURE_OPS', 'build_ops'
]

Params = Dict[str, Tensor]


def _random_signs(n: int, generator: Optional[torch.Generator]) -> Tensor:
    """(n,) tensor of -1/+1 with equal probability (AutoAugment's random sign)."""
    bits = torch.randint(0, 2, (n, ), generator=generator)
    return bits.float() * 2 - 1


class FeatureOp:
    """Base class of a DAFA feature augmentation op.

    Attributes:
        name (str): the op's name, as used in configs (``'Rotate'``).
        range (tuple[float, float]): the interval the magnitude is mapped into.
        signed (bool): whether the op's strength gets a random sign per image (shears,
            translations, rotation). Signed ops have a symmetric range ``(-hi, hi)`` and map
            ``m`` to ``sign * m * hi``, so that magnitude 0 is the identity.
    """

    name: str = ''
    range: Tuple[float, float] = (0.0, 1.0)
    signed: bool = False

    def value(self, magnitude: Tensor, params: Params) -> Tensor:
        """Map the magnitude into the op's range.

        Args:
            magnitude (Tensor): 0-dim magnitude in [0, 1].
            params (dict[str, Tensor]): the draw of :meth:`sample`; signed ops read
                ``params['sign']`` of shape (N,).

        Returns:
            Tensor: (N,) signed values for signed ops, a 0-dim value otherwise.
        """
        lo, hi = self.range
        if self.signed:
            return params['sign'].to(magnitude.dtype) * magnitude * hi
        return lo + magnitude * (hi - lo)

    def sample(self, n: int, c: int, generator: Optional[torch.Generator] = None) -> Params:
        """Draw the op's random parameters for ``n`` images with ``c`` channels.

        The parameters do not depend on the spatial size, so one draw is applied to every
        feature level.

        Args:
            n (int): number of images.
            c (int): number of channels.
            generator (torch.Generator, optional): source of randomness.

        Returns:
            dict[str, Tensor]: parameters with a leading dimension of size ``n``.
        """
        if self.signed:
            return {'sign': _random_signs(n, generator)}
        return {}

    def apply(self,
              x: Tensor,
              magnitude: Tensor,
              params: Params,
              generator: Optional[torch.Generator] = None) -> Tensor:
        """Apply the op to one feature level.

        Args:
            x (Tensor): feature map of shape (N, C, H, W).
            magnitude (Tensor): 0-dim magnitude in [0, 1].
            params (dict[str, Tensor]): the draw of :meth:`sample` for these N images, on
                ``x``'s device.
            generator (torch.Generator, optional): randomness drawn per level (Noise only).

        Returns:
            Tensor: augmented map of shape (N, C, H, W).
        """
        return self._apply(x, magnitude, params, generator)

    def _apply(self, x: Tensor, magnitude: Tensor, params: Params,
               generator: Optional[torch.Generator]) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f'{self.name}(range={self.range})'


class _AffineOp(FeatureOp):
    """An op that resamples the map through an affine transform in pixel space.

    Subclasses give the 2x3 *sampling* transform (``sampling_matrix``) in pixel units
    (centred coordinates), mapping an output pixel to the input location it samples (the
    inverse of the forward matrices of TST's image ops). It is converted to ``affine_grid``'s
    normalised coordinates here, so rotations and shears are true rotations and shears on
    non-square maps too, and the same parameters move every level by the same fraction.
    """

    signed = True

    def sampling_matrix(self, v: Tensor, h: int, w: int) -> Tensor:
        """(N, 2, 3) pixel-space transform for signed values ``v`` (N,) on an h x w map."""
        raise NotImplementedError

    def _apply(self, x, magnitude, params, generator):
        if x.dtype in (torch.float16, torch.bfloat16) or torch.is_autocast_enabled(x.device.type):
            # affine_grid/grid_sample lack half-precision CPU kernels (forward and backward):
            # under --amp, sample in float32 with autocast off, return the input's dtype
            with torch.autocast(x.device.type, enabled=False):
                return self._apply(x.float(), magnitude.float(), params, generator).to(x.dtype)
        n, _, h, w = x.shape
        v = self.value(magnitude, params).to(x.dtype).expand(n)
        a = self.sampling_matrix(v, h, w)
        # Normalised coordinates are pixel coordinates scaled by D = diag(2/W, 2/H):
        # theta = D A D^-1 for the linear part, D t for the translation.
        scale = x.new_tensor([2.0 / w, 2.0 / h])
        theta = torch.cat([
            a[:, :, :2] * scale[:, None] / scale[None, :],
            a[:, :, 2:] * scale[:, None],
        ],
                          dim=2)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode='bilinear', padding_mode='zeros', align_corners=False)


class FeatureShearX(_AffineOp):
    """Horizontal shear: the output at (x, y) samples the input at (x + s*y, y).

    Range -0.3 .. 0.3 (``s``), random sign per image.
    """

    name = 'ShearX'
    range = (-0.3, 0.3)

    def sampling_matrix(self, v, h, w):
        one, zero = torch.ones_like(v), torch.zeros_like(v)
        return stack_affine([[one, v, zero], [zero, one, zero]])


class FeatureShearY(_AffineOp):
    """Vertical shear: the output at (x, y) samples the input at (x, y + s*x).

    Range -0.3 .. 0.3 (``s``), random sign per image.
    """

    name = 'ShearY'
    range = (-0.3, 0.3)

    def sampling_matrix(self, v, h, w):
        one, zero = torch.ones_like(v), torch.zeros_like(v)
        return stack_affine([[one, zero, zero], [v, one, zero]])


class FeatureTranslateX(_AffineOp):
    """Horizontal shift by a fraction ``t`` of the map width (content moves by t*W cells).

    Range -0.45 .. 0.45, random sign per image; positive values move content to the right.
    Uncovered cells are zero.
    """

    name = 'TranslateX'
    range = (-0.45, 0.45)

    def sampling_matrix(self, v, h, w):
        one, zero = torch.ones_like(v), torch.zeros_like(v)
        return stack_affine([[one, zero, -v * w], [zero, one, zero]])


class FeatureTranslateY(_AffineOp):
    """Vertical shift by a fraction ``t`` of the map height (content moves by t*H cells).

    Range -0.45 .. 0.45, random sign per image; positive values move content down.
    Uncovered cells are zero.
    """

    name = 'TranslateY'
    range = (-0.45, 0.45)

    def sampling_matrix(self, v, h, w):
        one, zero = torch.ones_like(v), torch.zeros_like(v)
        return stack_affine([[one, zero, zero], [zero, one, -v * h]])


class FeatureRotate(_AffineOp):
    """Rotation about the map centre by an angle in degrees (pixel space).

    Range -30 .. 30 degrees, random sign per image. The output at pixel ``p`` samples the
    input at ``R(angle) p``; corners that leave the map are zero.
    """

    name = 'Rotate'
    range = (-30.0, 30.0)

    def sampling_matrix(self, v, h, w):
        rad = v * (math.pi / 180.0)
        cos, sin, zero = torch.cos(rad), torch.sin(rad), torch.zeros_like(v)
        return stack_affine([[cos, -sin, zero], [sin, cos, zero]])


def interval_coverage(centre: Tensor, half: Tensor, size: int) -> Tensor:
    """Share of each of ``size`` cells of [0, 1] covered by ``[centre - half, centre + half]``.

    Args:
        centre (Tensor): (N,) interval centres in [0, 1].
        half (Tensor): 0-dim or (N,) half-widths, in [0, 1] units.
        size (int): number of cells.

    Returns:
        Tensor: (N, size) in [0, 1]; piecewise linear in ``centre`` and ``half``, and exactly
        0/1 on cells the interval misses/contains.
    """
    edges = torch.arange(size + 1, device=centre.device, dtype=centre.dtype) / size
    lo = torch.maximum((centre - half)[:, None], edges[None, :-1])
    hi = torch.minimum((centre + half)[:, None], edges[None, 1:])
    return (hi - lo).clamp_min(0) * size


class Cutout(FeatureOp):
    """Zero a square whose side is ``m * 0.2`` of each side of the map, at a random centre.

    The centre is drawn uniformly in normalised [0, 1]^2 coordinates (shared by all levels);
    the square is clipped at the map border, as in image Cutout. The square is anti-aliased:
    a cell is scaled by ``1 - a`` where ``a`` is the share of its area the square covers
    (:func:`interval_coverage` along each axis), so cells inside are zeroed, cells outside
    untouched, and the border cells make the op continuous (and differentiable) in ``m``.
    Covered areas add up across levels, so the same draw removes the same share of every
    level. Range 0 .. 0.2.

    Params: ``centre`` (N, 2) as (x, y) in [0, 1].
    """

    name = 'Cutout'
    range = (0.0, 0.2)

    def sample(self, n, c, generator=None):
        return {'centre': torch.rand(n, 2, generator=generator)}

    def _apply(self, x, magnitude, params, generator):
        _, _, h, w = x.shape
        half = self.value(magnitude, params).to(x.dtype) / 2
        centre = params['centre'].to(x.dtype)
        cover_y = interval_coverage(centre[:, 1], half, h)  # (N, H)
        cover_x = interval_coverage(centre[:, 0], half, w)  # (N, W)
        hole = cover_y[:, :, None] * cover_x[:, None, :]
        return x * (1 - hole)[:, None]


class Noise(FeatureOp):
    """Add Gaussian noise with std ``m * 0.1 * std(x)``, std taken per image over (C, H, W).

    The noise field depends on the level's shape, so it is drawn in :meth:`apply` from the
    generator passed in (on the generator's device, then moved to ``x``'s). The feature's
    std is part of the function (after an op that depends on its own magnitude, the noise
    scale does too), computed as ``sqrt(max(var, tiny))`` so that its gradient stays finite
    on a constant map. Range 0 .. 0.1; differentiable in ``m``.
    """

    name = 'Noise'
    range = (0.0, 0.1)

    def _apply(self, x, magnitude, params, generator):
        if generator is None:
            eps = torch.randn_like(x)
        else:
            eps = torch.randn(
                x.shape, generator=generator, device=generator.device, dtype=x.dtype).to(x.device)
        flat = x.flatten(1)
        # Half-precision variance over C*H*W elements loses too much accuracy.
        if flat.dtype in (torch.float16, torch.bfloat16):
            flat = flat.float()
        tiny = torch.finfo(flat.dtype).tiny
        std = flat.var(dim=1).clamp_min(tiny).sqrt().to(x.dtype)
        scale = (self.value(magnitude, params).to(x.dtype) * std)[:, None, None, None]
        return x + scale * eps


def _rank_by_score(scores: Tensor) -> Tensor:
    """(N, C) rank of every channel by descending score (0 = highest)."""
    order = scores.argsort(dim=1, descending=True)
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(order.shape[1], device=order.device).expand_as(order))
    return ranks


class ChannelShuffle(FeatureOp):
    """Blend every channel with another one: ``x + v * (perm(x) - x)``, ``v = m * 1.0``.

    ``perm`` is a uniformly random cyclic permutation of the channels (each channel takes
    the next one in the order of random scores, so every channel moves when C >= 2):
    ``v = 1`` is a full channel shuffle, ``v = 0`` the identity, and in between the output
    is linear in ``v``, which gives the magnitude a true gradient. Range 0 .. 1.

    Params: ``scores`` (N, C) uniform.
    """

    name = 'ChannelShuffle'
    range = (0.0, 1.0)

    def sample(self, n, c, generator=None):
        return {'scores': torch.rand(n, c, generator=generator)}

    def _apply(self, x, magnitude, params, generator):
        n, c = x.shape[:2]
        order = params['scores'].argsort(dim=1, descending=True)  # rank -> channel
        source = order.roll(-1, dims=1)  # rank r takes the channel of rank r + 1 (mod C)
        perm = torch.empty_like(order).scatter_(1, order, source)  # channel -> its source
        shuffled = x.gather(1, perm[:, :, None, None].expand_as(x))
        return x + self.value(magnitude, params).to(x.dtype) * (shuffled - x)


class ChannelDrop(FeatureOp):
    """Zero a share ``v = m * 0.5`` of the channels, those with the highest random scores.

    With ``v * C`` channels to drop, the channel of rank ``r`` (0 = highest score) keeps
    ``1 - clamp(v * C - r, 0, 1)`` of itself: the first ``floor(v * C)`` are zeroed, the next
    one is scaled by the fractional part, the rest are untouched. At integer ``v * C`` this
    is the hard drop; in between it is linear in ``m``, which gives the magnitude a true
    gradient (at integer counts, the right derivative: what dropping more would do). No
    rescaling of the kept channels: the op removes knowledge, it does not emulate dropout.
    Range 0 .. 0.5.

    Params: ``scores`` (N, C) uniform.
    """

    name = 'ChannelDrop'
    range = (0.0, 0.5)

    def sample(self, n, c, generator=None):
        return {'scores': torch.rand(n, c, generator=generator)}

    def _apply(self, x, magnitude, params, generator):
        count = self.value(magnitude, params).to(x.dtype) * x.shape[1]
        depth = count - _rank_by_score(params['scores']).to(x.dtype)
        # 1 - clamp(depth, 0, 1), with the right derivative at integer counts (the default
        # magnitude 0.5 gives one: 0.25 * 256 channels), where clamp's gradient is 0
        partial = (depth >= 0) & (depth < 1)
        keep = torch.where(partial, 1 - depth, (depth < 0).to(x.dtype))
        return x * keep[:, :, None, None]


FEATURE_OPS: Dict[str, FeatureOp] = {
    op.name: op
    for op in (FeatureShearX(), FeatureShearY(), FeatureTranslateX(), FeatureTranslateY(),
               FeatureRotate(), Cutout(), Noise(), ChannelShuffle(), ChannelDrop())
}


def build_ops(names: Sequence[str]) -> List[FeatureOp]:
    """Look up feature ops by name.

    Args:
        names (Sequence[str]): op names, e.g. ``('Rotate', 'Cutout')``.

    Returns:
        list[FeatureOp]: the ops, in the given order.

    Raises:
        ValueError: if a name is unknown (the message lists the valid names) or repeated.
    """
    names = list(names)
    unknown = [name for name in names if name not in FEATURE_OPS]
    if unknown:
        raise ValueError(f'unknown DAFA feature op(s) {unknown}; valid ops are '
                         f'{sorted(FEATURE_OPS)}')
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f'DAFA feature ops must be distinct, got {repeated} more than once')
    return [FEATURE_OPS[name] for name in names]
