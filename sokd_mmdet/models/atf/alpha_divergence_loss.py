"""The alpha-divergence distillation loss on (normalised) class logits."""
from typing import Optional

from mmrazor.registry import MODELS
from torch import Tensor, nn

from .divergence import bernoulli_alpha_divergence, categorical_alpha_divergence
from .logits import anchor_class_logits, standardize_logits

KINDS = dict(categorical=categorical_alpha_divergence, bernoulli=bernoulli_alpha_divergence)


@MODELS.register_module()
class AlphaDivergenceLoss(nn.Module):
    """Amari alpha-divergence between the teacher's and the student's class distributions.

    The distillation loss of ATF (adaptive teacher fine-tuning): the student minimises
    ``D_alpha(p_T || p_S)``, the teacher (see :class:`ATF`) ``D_alpha'(p_S || p_T)``, each
    with the other side as a fixed target. ``alpha = 1`` is the classic KD term
    ``KL(p_T || p_S)`` (Hinton et al., 2015), ``alpha = 0`` the reverse KL, ``alpha = 0.5``
    the symmetric Hellinger-type divergence (Amari, "Information Geometry and Its
    Applications", 2016; alpha-divergences for KD: Wang et al., "AlphaNet", ICML 2021).

    Logits are first put in per-sample (or per-anchor) rows of classes, optionally
    z-score standardised over classes (:func:`standardize_logits`), divided by ``tau``, and
    turned into distributions: a softmax over classes (``kind='categorical'``, classifiers
    and softmax heads) or one sigmoid per class (``kind='bernoulli'``, sigmoid heads such as
    RetinaNet's; the divergence is summed over classes). The divergence is averaged over
    samples (anchors) and multiplied by ``tau ** 2``, so that its gradient does not shrink
    as the temperature grows (as in Hinton's KD).

    Standardisation is refused for ``kind='bernoulli'``: a sigmoid head scores each class
    against the fixed threshold 0, and the shared offset of an anchor's logits *is* its
    objectness; removing it would turn every background anchor (all logits near the prior,
    about -4.6) into a distribution of unit-variance noise around p = 0.5.

    Args:
        alpha (float): order of the divergence. Defaults to 0.5.
        tau (float): temperature. Defaults to 1.0.
        kind (str): ``'categorical'`` or ``'bernoulli'``. Defaults to 'categorical'.
        normalize (str, optional): ``'zscore'`` or None (temperature only). Defaults to
            'zscore'.
        num_classes (int, optional): classes C; needed for dense-head maps (N, A*C, H, W).
        loss_weight (float): weight of the loss. Defaults to 1.0.
    """

    def __init__(self,
                 alpha: float = 0.5,
                 tau: float = 1.0,
                 kind: str = 'categorical',
                 normalize: Optional[str] = 'zscore',
                 num_classes: Optional[int] = None,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f'kind must be one of {sorted(KINDS)}, got {kind!r}')
        if normalize not in ('zscore', None):
            raise ValueError(f"normalize must be 'zscore' or None, got {normalize!r}")
        if kind == 'bernoulli' and normalize is not None:
            raise ValueError("normalize='zscore' would erase a sigmoid head's objectness: use "
                             "kind='bernoulli' with normalize=None, or kind='categorical'")
        if tau <= 0:
            raise ValueError(f'tau must be positive, got {tau}')
        self.alpha = alpha
        self.tau = tau
        self.kind = kind
        self.normalize = normalize
        self.num_classes = num_classes
        self.loss_weight = loss_weight

    def _prepare(self, preds: Tensor) -> Tensor:
        logits = anchor_class_logits(preds, self.num_classes)
        if self.normalize == 'zscore':
            return standardize_logits(logits, self.tau)
        return logits / self.tau

    def divergence(self, target: Tensor, pred: Tensor, alpha: Optional[float] = None) -> Tensor:
        """The weighted loss ``D_alpha(target || pred)``; no side is detached here.

        Args:
            target (Tensor): logits of the distribution taken as the target, (N, C) or
                (N, A*C, H, W).
            pred (Tensor): logits of the other side, the same shape.
            alpha (float, optional): the order; None uses ``self.alpha``.
        """
        if target.shape != pred.shape:
            raise ValueError(f'teacher and student logits differ in shape: '
                             f'{tuple(target.shape)} vs {tuple(pred.shape)}')
        alpha = self.alpha if alpha is None else alpha
        value = KINDS[self.kind](self._prepare(target), self._prepare(pred), alpha)
        return self.loss_weight * self.tau**2 * value.mean()

    def forward(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """The student's loss ``D_alpha(p_T || p_S)``.

        Args:
            preds_S (Tensor): student logits, (N, C) or (N, A*C, H, W).
            preds_T (Tensor): teacher logits, the same shape.

        Returns:
            Tensor: the scalar loss.
        """
        return self.divergence(preds_T, preds_S)
