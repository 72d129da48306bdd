"""The SoKD form of any MMRazor distillation loss."""
from typing import Dict, List, Optional

from mmrazor.registry import MODELS
from torch import Tensor, nn

from .masked import masked_channel_wise_divergence, masked_distill_loss


@MODELS.register_module()
class SoKDLoss(nn.Module):
    """Wrap a distillation loss with SoKD's distinctive-area distillation.

    Student-Oriented Knowledge Distillation (Shen et al., ACM MM 2024). With the teacher
    feature already refined by DAFA (the distiller does that), this loss returns the terms of
    the inner objective for one distillation point:

    - ``masked``: ``L_DA = L_base(M * S, M * T)`` on the DAM regions ``M`` (times
      ``masked_weight``, the spec's beta);
    - ``align``: ``L_D``, agreement of the shared DAM heads on student and teacher (times
      ``align_weight``, lambda);
    - ``gt_*``: with a DAM in ``gt`` supervision and ground truth given, CenterNet losses of
      the DAM heads on both features (averaged);
    - ``loss``: the plain ``L_base(S, T)`` on the whole map (times ``full_weight``): 0 by
      default as in the spec; 1 with no DAM gives "DAFA alone".

    Without a DAM only ``loss`` is produced. The un-augmented ``L_base(S, T)`` of the outer
    (policy) objective is :meth:`base_forward`.

    Args:
        base_loss (dict): config of the wrapped MMRazor loss (e.g. ``ChannelWiseDivergence``,
            ``PKDLoss``, ``L2Loss``); it keeps its own ``loss_weight``.
        masked_weight (float): weight of ``L_DA``. Defaults to 1.0.
        align_weight (float): weight of ``L_D``. Defaults to 1.0.
        full_weight (float): weight of the unmasked base loss. Defaults to 0.0.
        gt_weight (float): weight of the DAM ground-truth losses. Defaults to 1.0.
        area_normalize (bool): normalise ``L_DA`` by the mask area (right for L2/MSE-type
            losses; turn off for CWD). Defaults to True.
        gt_to_features (bool): whether the DAM ground-truth losses also train what the DAM
            reads: the student's features (an auxiliary CenterNet objective for the
            student) and, through the refined teacher features, the DAFA magnitudes. False
            trains only the DAM heads with them (the features are detached for these terms,
            at the cost of a second pass of the small DAM heads). Defaults to True.
        masked_softmax (bool): for a ``ChannelWiseDivergence`` base loss, compute ``L_DA``
            with the spatial softmax over the masked positions only
            (:func:`~.masked.masked_channel_wise_divergence`) instead of on zero-filled
            maps, whose masked-out cells keep part of the softmax mass. Defaults to False.
    """

    def __init__(self,
                 base_loss: dict,
                 masked_weight: float = 1.0,
                 align_weight: float = 1.0,
                 full_weight: float = 0.0,
                 gt_weight: float = 1.0,
                 area_normalize: bool = True,
                 gt_to_features: bool = True,
                 masked_softmax: bool = False) -> None:
        super().__init__()
        self.base_loss = MODELS.build(base_loss)
        if masked_softmax:
            if type(self.base_loss).__name__ != 'ChannelWiseDivergence':
                raise ValueError('SoKDLoss(masked_softmax=True) restricts the spatial softmax '
                                 "of CWD: base_loss must be dict(type='ChannelWiseDivergence'"
                                 f', ...), got {type(self.base_loss).__name__}')
            if area_normalize:
                raise ValueError('SoKDLoss(masked_softmax=True) normalises over the mask by '
                                 'its softmax: set area_normalize=False')
        self.masked_softmax = masked_softmax
        self.masked_weight = masked_weight
        self.align_weight = align_weight
        self.full_weight = full_weight
        self.gt_weight = gt_weight
        self.area_normalize = area_normalize
        self.gt_to_features = gt_to_features
        # the last forward's DAM mask (detached), or None; the policy step reuses it
        self.last_mask: Optional[Tensor] = None

    @property
    def last_mask_area(self) -> Optional[Tensor]:
        """The share of the map the last forward's DAM mask covered (for the logs), or None."""
        return None if self.last_mask is None else self.last_mask.mean()

    def base_forward(self, preds_S: Tensor, preds_T: Tensor) -> Tensor:
        """The wrapped loss on the whole maps (the outer objective's ``L_base``)."""
        return self.base_loss(preds_S, preds_T)

    def forward(self,
                preds_S: Tensor,
                preds_T: Tensor,
                dam: Optional[nn.Module] = None,
                gt_bboxes: Optional[List[Tensor]] = None,
                stride: Optional[float] = None,
                mask: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Inner-objective terms for one distillation point.

        Args:
            preds_S (Tensor): student feature (N, C, H, W) after its connector.
            preds_T (Tensor): teacher feature (N, C, H, W) after DAFA.
            dam (nn.Module, optional): the distiller's shared DAM.
            gt_bboxes (list[Tensor], optional): per image (n_i, 4) boxes in input pixels.
            stride (float, optional): input pixels per feature cell.
            mask (Tensor, optional): a DAM mask (N, 1, H, W) to use instead of decoding one
                from this forward's DAM outputs: the policy step holds the mask of its draw
                fixed across its passes, so that they differentiate one function.

        Returns:
            dict[str, Tensor]: the weighted terms (keys as in the class docstring).
        """
        losses = dict()
        self.last_mask = None
        if self.full_weight:
            losses['loss'] = self.full_weight * self.base_loss(preds_S, preds_T)
        if dam is None:
            return losses
        out_s, out_t = dam(preds_S), dam(preds_T)
        if self.align_weight:
            losses['align'] = self.align_weight * dam.loss_align(out_s, out_t)
        if self.masked_weight:
            if mask is None:
                mask = dam.masks(out_s, out_t)
            self.last_mask = mask.detach()
            if self.masked_softmax:
                masked = masked_channel_wise_divergence(preds_S, preds_T, mask, self.base_loss.tau,
                                                        self.base_loss.loss_weight)
            else:
                masked = masked_distill_loss(self.base_loss, preds_S, preds_T, mask,
                                             self.area_normalize)
            losses['masked'] = self.masked_weight * masked
        if dam.supervision == 'gt' and gt_bboxes is not None and self.gt_weight:
            if not self.gt_to_features:
                out_s, out_t = dam(preds_S.detach()), dam(preds_T.detach())
            targets = dam.gt_targets(gt_bboxes, stride, out_s['heatmap'])  # one build, both sides
            gt_s = dam.loss_gt(out_s, gt_bboxes, stride, targets)
            gt_t = dam.loss_gt(out_t, gt_bboxes, stride, targets)
            for key in gt_s:
                losses[f'dam_gt_{key}'] = self.gt_weight * 0.5 * (gt_s[key] + gt_t[key])
        return losses
