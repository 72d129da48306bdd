"""Batched affine matrices from their entries, shared by DAFA's feature ops and TST's
image ops (which differ in what the matrix means: DAFA's map an output cell to the input
location it samples, TST's move an input point to its output location)."""
from typing import Sequence

import torch
from torch import Tensor


def stack_affine(rows: Sequence[Sequence[Tensor]]) -> Tensor:
    """Stack a 2x3 nested list of (N,) tensors into an (N, 2, 3) batch of affine matrices."""
    return torch.stack([torch.stack(list(r), dim=1) for r in rows], dim=1)


def homogeneous(affine: Tensor) -> Tensor:
    """(N, 2, 3) affine matrices as (N, 3, 3) with the last row (0, 0, 1), for composing."""
    last = affine.new_tensor([0.0, 0.0, 1.0]).expand(affine.shape[0], 1, 3)
    return torch.cat([affine, last], dim=1)
