"""The SoKD distiller: MMRazor's configurable distiller with refined teacher knowledge."""
from typing import Dict, List, Optional, Sequence

from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.registry import MODELS
from torch import Tensor

from ..losses import SoKDLoss


@MODELS.register_module()
class SoKDDistiller(ConfigurableDistiller):
    """A ``ConfigurableDistiller`` that refines the teacher's records for the student.

    It owns the two SoKD modules: ``dafa`` (the learned feature-augmentation policy, applied
    to every teacher record that a loss reads) and ``dam`` (the distinctive-area module
    shared by teacher and student, handed to every :class:`SoKDLoss`). Recorders,
    connectors, deliveries and ``loss_forward_mappings`` work exactly as in MMRazor.

    Two objectives are computed from the same records:

    - :meth:`compute_distill_losses` (the inner objective, what the student trains on): the
      teacher records go through DAFA, SoKD losses add their DAM terms;
    - :meth:`compute_base_losses` (the outer objective of the policy search): each loss's
      plain base loss on the un-augmented teacher records.

    Args:
        dafa (dict, optional): config of the :class:`DAFA` policy; None turns the
            augmentation off ("DAM alone").
        dam (dict, optional): config of the :class:`DAM`; None turns the distinctive areas
            off ("DAFA alone", with ``SoKDLoss(full_weight=1)``).
        **kwargs: :class:`ConfigurableDistiller`'s arguments.
    """

    def __init__(self, dafa: Optional[dict] = None, dam: Optional[dict] = None, **kwargs):
        super().__init__(**kwargs)
        self.dafa = MODELS.build(dafa) if dafa else None
        self.dam = MODELS.build(dam) if dam else None
        self._augmented = dict()
        self._gt_bboxes: Optional[List[Tensor]] = None
        self._input_hw: Optional[Sequence[int]] = None
        sokd = [n for n, m in self.distill_losses.items() if isinstance(m, SoKDLoss)]
        if self.dam is not None and not sokd:
            raise ValueError('SoKDDistiller has a DAM but no SoKDLoss: wrap the distillation '
                             "losses as dict(type='SoKDLoss', base_loss=dict(...)) so that "
                             'the distinctive areas are used.')

    def set_ground_truth(self, gt_bboxes: Optional[List[Tensor]],
                         input_hw: Optional[Sequence[int]]) -> None:
        """Boxes (per image, input pixels) and the padded input size, for DAM's ``gt`` mode."""
        self._gt_bboxes, self._input_hw = gt_bboxes, input_hw

    def reset_augmentation(self) -> None:
        """Forget the augmented records (call after a new teacher forward or a new draw)."""
        self._augmented.clear()

    def get_record(self,
                   recorder: str,
                   from_student: bool,
                   record_idx: int = 0,
                   data_idx: Optional[int] = None,
                   connector: Optional[str] = None,
                   connector_idx: Optional[int] = None,
                   augment: bool = True):
        """MMRazor's record lookup; teacher records come out refined by DAFA.

        The augmented record is computed once per draw and shared by every loss that reads
        it, so all losses see the same refined knowledge.
        """
        if from_student or not augment or self.dafa is None or not self.dafa.enabled:
            return super().get_record(recorder, from_student, record_idx, data_idx,
                                      connector, connector_idx)
        key = (recorder, record_idx, data_idx, connector, connector_idx)
        if key not in self._augmented:
            record = super().get_record(recorder, from_student, record_idx, data_idx,
                                        connector, connector_idx)
            if isinstance(record, (tuple, list)):
                self._augmented[key] = type(record)(self.dafa(tuple(record)))
            else:
                self._augmented[key] = self.dafa((record, ))[0]
        return self._augmented[key]

    def _forward_kwargs(self, name: str, mappings: dict, augment: bool) -> dict:
        kwargs = {k: self.get_record(**rec, augment=augment) for k, rec in mappings.items()}
        feats = [(k, v) for k, v in kwargs.items() if isinstance(v, Tensor) and v.dim() == 4]
        if len(feats) == 2 and feats[0][1].shape[1] != feats[1][1].shape[1]:
            (ks, s), (kt, t) = feats
            raise ValueError(
                f'{name}: {ks} has {s.shape[1]} channels but {kt} has {t.shape[1]}. Add a '
                "connector to the student side, e.g. connectors=dict(s_fpn=dict(type="
                f"'ConvModuleConnector', in_channel={s.shape[1]}, out_channel={t.shape[1]}, "
                "kernel_size=1)) and connector='s_fpn' in the loss_forward_mappings entry.")
        return kwargs

    def _stride(self, feat: Tensor) -> Optional[float]:
        if self._input_hw is None or feat.dim() != 4:
            return None
        return float(self._input_hw[0]) / feat.shape[-2]

    def compute_distill_losses(self) -> Dict[str, Tensor]:
        """The inner objective's distillation terms, on DAFA-refined teacher records.

        A :class:`SoKDLoss` named ``loss_x`` contributes ``loss_x`` (its unmasked term, if
        weighted) and ``loss_x_masked``, ``loss_x_align``, ``loss_x_dam_gt_*``.
        """
        losses = dict()
        for name, mappings in self.loss_forward_mappings.items():
            kwargs = self._forward_kwargs(name, mappings, augment=True)
            module = self.distill_losses[name]
            if not isinstance(module, SoKDLoss):
                losses[name] = module(**kwargs)
                continue
            feat = next(iter(kwargs.values()))
            terms = module(**kwargs, dam=self.dam, gt_bboxes=self._gt_bboxes,
                           stride=self._stride(feat))
            for key, value in terms.items():
                losses[name if key == 'loss' else f'{name}_{key}'] = value
        return losses

    def compute_base_losses(self) -> Dict[str, Tensor]:
        """The outer objective's distillation terms: base losses on the original records."""
        losses = dict()
        for name, mappings in self.loss_forward_mappings.items():
            kwargs = self._forward_kwargs(name, mappings, augment=False)
            module = self.distill_losses[name]
            if isinstance(module, SoKDLoss):
                losses[name] = module.base_forward(kwargs['preds_S'], kwargs['preds_T'])
            else:
                losses[name] = module(**kwargs)
        return losses
