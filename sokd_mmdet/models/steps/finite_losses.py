"""Stop a run whose loss turns non-finite, naming the term and the iteration."""
import math
from typing import Dict, List, Mapping, Optional

import torch
from torch import Tensor


def non_finite_terms(losses: Mapping[str, object]) -> Dict[str, float]:
    """The loss terms (keys with 'loss' in them) that hold a NaN or an infinity.

    Args:
        losses (Mapping[str, object]): loss name -> tensor, list of tensors or number.

    Returns:
        dict[str, float]: name -> the first non-finite value found, in the input's order.
    """
    bad = dict()
    for name, value in losses.items():
        if 'loss' not in name:
            continue
        values: List[object] = list(value) if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if isinstance(v, Tensor):
                v = v.detach()
                if not bool(torch.isfinite(v).all()):
                    bad[name] = float(v[~torch.isfinite(v)].flatten()[0])
                    break
            elif isinstance(v, (int, float)) and not math.isfinite(v):
                bad[name] = float(v)
                break
    return bad


def check_finite_losses(losses: Mapping[str, object], iteration: Optional[int]) -> None:
    """Raise when a loss term is NaN or infinite, before anything is stepped or saved.

    Args:
        losses (Mapping[str, object]): the step's losses (or log variables).
        iteration (int, optional): the 0-based training iteration, for the message.

    Raises:
        FloatingPointError: naming every non-finite term, its value and the iteration.
    """
    bad = non_finite_terms(losses)
    if not bad:
        return
    where = 'at an unknown iteration' if iteration is None else f'at iteration {iteration + 1}'
    terms = ', '.join(f'{name} = {value}' for name, value in bad.items())
    raise FloatingPointError(
        f'training stopped {where}: non-finite loss term(s) {terms}; no checkpoint is written '
        'with them. Usual causes: a learning rate too high '
        '(lower optim_wrapper.optimizer.lr), no gradient clipping (optim_wrapper.clip_grad='
        'dict(max_norm=...)), or a loss weight too large for the features\' scale.')
