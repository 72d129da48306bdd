"""Class logits for ATF: per-anchor layout of dense-head maps, and logit standardisation."""
import torch
from torch import Tensor


def anchor_class_logits(preds: Tensor, num_classes: int = None) -> Tensor:
    """Put the class axis last: one row of ``num_classes`` logits per sample or anchor.

    Args:
        preds (Tensor): classifier logits (N, C), or a dense head's classification map
            (N, A*C, H, W) laid out anchor-major as MMDetection's anchor heads produce it
            (channel ``a*C + c`` is class ``c`` of anchor ``a``; ``RetinaHead.retina_cls``).
        num_classes (int, optional): C. Needed for dense maps (to tell A from C); for (N, C)
            logits it is only checked.

    Returns:
        Tensor: (N, C) for classifier logits, (N, A, H, W, C) for dense maps.
    """
    if preds.dim() == 2:
        if num_classes is not None and preds.shape[1] != num_classes:
            raise ValueError(f'logits have {preds.shape[1]} classes, num_classes is '
                             f'{num_classes}')
        return preds
    if preds.dim() != 4:
        raise ValueError(f'expected (N, C) logits or (N, A*C, H, W) maps, got shape '
                         f'{tuple(preds.shape)}')
    if num_classes is None:
        raise ValueError('a dense-head map (N, A*C, H, W) needs num_classes to split its '
                         'channels into anchors and classes: set num_classes in the loss')
    n, channels, h, w = preds.shape
    if channels % num_classes:
        raise ValueError(f'the map has {channels} channels, not a multiple of num_classes='
                         f'{num_classes}: is the recorder on the classification conv?')
    return preds.reshape(n, channels // num_classes, num_classes, h, w).permute(0, 1, 3, 4, 2)


def standardize_logits(logits: Tensor,
                       tau: float = 1.0,
                       dim: int = -1,
                       eps: float = 1e-7) -> Tensor:
    """Z-score standardisation of logits over classes, then a temperature.

    ``(z - mean(z)) / sqrt(var(z) + eps) / tau``, mean and (population) variance over
    ``dim``. A softmax is invariant to a shift of the logits but not to their scale; after
    standardisation every sample has logits of mean 0 and standard deviation ``1/tau``, so a
    divergence between two models compares the *shape* of their class distributions, not
    how confident each model is overall (Sun et al., "Logit Standardization in Knowledge
    Distillation", CVPR 2024). In ATF this matters in both directions: the student need not
    reach the teacher's logit scale, and the teacher, pulled towards the student, need not
    give up its own confidence to match a less confident student.

    Args:
        logits (Tensor): any shape; classes along ``dim``.
        tau (float): temperature applied after standardisation. Defaults to 1.0.
        dim (int): the class axis. Defaults to -1.
        eps (float): inside the square root, so that constant logits (variance 0) map to 0
            with a finite gradient. Defaults to 1e-7.
    """
    centred = logits - logits.mean(dim=dim, keepdim=True)
    var = centred.pow(2).mean(dim=dim, keepdim=True)
    return centred * torch.rsqrt(var + eps) / tau
