"""How far one DAFA op moves the distillation target, against the student's own gap.

The student distils from ``op(T)`` instead of ``T``. Whether that is a mild regulariser or
a different lesson depends on the size of the move next to what the student still has to
learn: :func:`op_target_shift` measures, for one op at one magnitude, the base loss of the
student against the clean and against the augmented target, and the loss between the
augmented and the clean target themselves.
"""
from typing import Callable, Optional

import torch
from torch import Tensor

from ..models.sokd.dafa.feature_ops import FeatureOp


@torch.no_grad()
def op_target_shift(loss_fn: Callable[[Tensor, Tensor], Tensor],
                    feat_s: Tensor,
                    feat_t: Tensor,
                    op: FeatureOp,
                    magnitude: float,
                    draws: int = 8,
                    generator: Optional[torch.Generator] = None) -> dict:
    """Base loss of the student against clean and ``op``-augmented teacher features.

    Args:
        loss_fn (callable): the distillation loss, ``loss_fn(preds_S, preds_T)`` -> 0-dim.
        feat_s (Tensor): (N, C, H, W) student feature (after its connector).
        feat_t (Tensor): (N, C, H, W) teacher feature at the same point.
        op (FeatureOp): the op to apply to the teacher feature.
        magnitude (float): the op's magnitude in [0, 1].
        draws (int): random draws of the op (signs, positions, channels) averaged over.
        generator (torch.Generator, optional): source of the draws.

    Returns:
        dict: ``clean`` = loss(S, T); ``augmented`` = mean over draws of loss(S, op(T));
        ``target_move`` = mean over draws of loss(op(T), T), all floats.
    """
    if feat_s.shape != feat_t.shape:
        raise ValueError(f'student {tuple(feat_s.shape)} and teacher {tuple(feat_t.shape)} '
                         'features differ in shape: map the student with its connector')
    if draws < 1:
        raise ValueError(f'draws must be >= 1, got {draws}')
    m = torch.tensor(float(magnitude), dtype=feat_t.dtype, device=feat_t.device)
    augmented, moved = [], []
    for _ in range(draws):
        params = op.sample(feat_t.shape[0], feat_t.shape[1], generator)
        params = {k: v.to(feat_t.device) for k, v in params.items()}
        target = op.apply(feat_t, m, params, generator)
        augmented.append(float(loss_fn(feat_s, target)))
        moved.append(float(loss_fn(target, feat_t)))
    return dict(
        clean=float(loss_fn(feat_s, feat_t)),
        augmented=sum(augmented) / draws,
        target_move=sum(moved) / draws)
