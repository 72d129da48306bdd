"""One affine warp for all geometric ops of a draw: gating, composition, resampling.

Coordinates: pixel ``(i, j)`` (row, column) covers ``[j, j+1) x [i, i+1)``, so its centre is
``(j + 0.5, i + 0.5)`` and the image spans ``[0, W] x [0, H]``; this is ``grid_sample``'s
``align_corners=False`` convention and the convention of MMDetection's boxes. Ops give
*forward* matrices in centred coordinates (origin at ``(W/2, H/2)``); :func:`to_pixel`
moves them to pixel coordinates, in which boxes are transformed, and :func:`warp` samples
the output image at the inverse map.
"""
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def gated(matrix: Tensor, gate: Tensor) -> Tensor:
    """``I + b (A - I)``: the op's matrix where the gate is 1, the identity where it is 0.

    With a straight-through gate (value exactly 0 or 1, gradient of a relaxed sample), the
    value is the op or nothing, and the apply probability gets a gradient through the matrix.

    Args:
        matrix (Tensor): (N, 3, 3) the op's forward matrices.
        gate (Tensor): (N,) gates.

    Returns:
        Tensor: (N, 3, 3).
    """
    eye = torch.eye(3, dtype=matrix.dtype, device=matrix.device)
    return eye + gate.to(matrix.dtype)[:, None, None] * (matrix - eye)


def compose(matrices: Sequence[Tensor]) -> Tensor:
    """The matrix of applying ``matrices[0]`` first, then ``matrices[1]``, ...

    Args:
        matrices (Sequence[Tensor]): non-empty, each (N, 3, 3).

    Returns:
        Tensor: (N, 3, 3) ``A_k ... A_1 A_0``.
    """
    out = matrices[0]
    for m in matrices[1:]:
        out = m @ out
    return out


def to_pixel(centred: Tensor, h: int, w: int) -> Tensor:
    """A forward matrix in centred coordinates, expressed in pixel coordinates.

    ``T(c) A T(-c)`` with ``c = (W/2, H/2)``.

    Args:
        centred (Tensor): (N, 3, 3).
        h (int): image height.
        w (int): image width.

    Returns:
        Tensor: (N, 3, 3).
    """
    shift = torch.eye(3, dtype=centred.dtype, device=centred.device)
    back = shift.clone()
    shift[0, 2], shift[1, 2] = w / 2.0, h / 2.0
    back[0, 2], back[1, 2] = -w / 2.0, -h / 2.0
    return shift @ centred @ back


def sampling_theta(pixel: Tensor, h: int, w: int) -> Tensor:
    """``affine_grid``'s theta for a forward pixel-space matrix.

    ``affine_grid`` maps each *output* location to the *input* location it samples, in
    normalised coordinates ``n = D p`` with ``D = [[2/W, 0, -1], [0, 2/H, -1], [0, 0, 1]]``,
    so ``theta = D A^-1 D^-1``.

    Args:
        pixel (Tensor): (N, 3, 3) forward matrices in pixel coordinates (invertible).
        h (int): image height.
        w (int): image width.

    Returns:
        Tensor: (N, 2, 3).
    """
    d = torch.tensor([[2.0 / w, 0.0, -1.0], [0.0, 2.0 / h, -1.0], [0.0, 0.0, 1.0]],
                     dtype=pixel.dtype,
                     device=pixel.device)
    d_inv = torch.tensor([[w / 2.0, 0.0, w / 2.0], [0.0, h / 2.0, h / 2.0], [0.0, 0.0, 1.0]],
                         dtype=pixel.dtype,
                         device=pixel.device)
    return (d @ torch.linalg.inv(pixel) @ d_inv)[:, :2]


def warp(images: Tensor, pixel: Tensor) -> Tensor:
    """Resample images through forward pixel-space matrices (bilinear, zeros outside).

    Zeros are the padding value of MMDetection's preprocessor in normalised space (the mean
    colour), so what enters the frame looks like the batch's padding.

    Args:
        images (Tensor): (N, C, H, W).
        pixel (Tensor): (N, 3, 3) forward matrices in pixel coordinates.

    Returns:
        Tensor: (N, C, H, W); output pixel ``q`` holds the input at ``A^-1 q``.
    """
    n, c, h, w = images.shape
    if images.dtype in (torch.float16, torch.bfloat16) or torch.is_autocast_enabled(
            images.device.type):
        # grid_sample lacks half-precision CPU kernels: sample in float32, autocast off
        with torch.autocast(images.device.type, enabled=False):
            return warp(images.float(), pixel.float()).to(images.dtype)
    theta = sampling_theta(pixel.to(images.dtype), h, w)
    grid = F.affine_grid(theta, [n, c, h, w], align_corners=False)
    return F.grid_sample(images, grid, mode='bilinear', padding_mode='zeros', align_corners=False)
