"""The SoKD distiller: MMRazor's configurable distiller with refined teacher knowledge."""
from contextlib import contextmanager
from typing import Dict, List, Optional, Sequence

from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.registry import MODELS
from torch import Tensor, nn

from .sokd_loss import SoKDLoss


def _is_feature_map(record) -> bool:
    """A (N, C, H, W) tensor, or a tuple/list of them (the levels of a neck)."""
    if isinstance(record, (tuple, list)):
        return bool(record) and all(isinstance(r, Tensor) and r.dim() == 4 for r in record)
    return isinstance(record, Tensor) and record.dim() == 4


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

    DAFA refines feature maps (N, C, H, W). A teacher record of another shape (logits of a
    classifier, say) is read as it is, unless ``refine_logits`` names it: then it is
    recomputed from a DAFA-refined feature map by the teacher's own remaining layers, e.g.
    ``refine_logits=dict(fc=dict(feature='bb', head=('neck', 'head.fc')))`` makes the
    logit-KD target ``head.fc(neck(DAFA(layer4)))``, so logit losses learn from refined
    knowledge too and the policy gradient reaches DAFA through the teacher's head. A record
    that has the shape of a feature map but is not one (a dense head's class-logit map,
    (N, A*C, H, W)) is named in ``unrefined_recorders``: shearing or channel-shuffling
    logits is no refinement, so DAFA leaves it as it is.

    Args:
        dafa (dict, optional): config of the :class:`DAFA` policy; None turns the
            augmentation off ("DAM alone").
        dam (dict, optional): config of the :class:`DAM`; None turns the distinctive areas
            off ("DAFA alone", with ``SoKDLoss(full_weight=1)``).
        refine_logits (dict, optional): teacher recorder name -> ``dict(feature=<teacher
            recorder of the feature map>, head=<teacher module paths applied in order>,
            record_idx=0, data_idx=None)`` (which record of the feature recorder). The
            algorithm hands the teacher over with :meth:`bind_teacher`.
        unrefined_recorders (Sequence[str]): teacher recorders whose records DAFA never
            touches (e.g. ``('cls', )`` for ATF's logit divergence on a dense head).
            Defaults to ().
        **kwargs: :class:`ConfigurableDistiller`'s arguments.
    """

    def __init__(self,
                 dafa: Optional[dict] = None,
                 dam: Optional[dict] = None,
                 refine_logits: Optional[Dict[str, dict]] = None,
                 unrefined_recorders: Sequence[str] = (),
                 **kwargs):
        super().__init__(**kwargs)
        self.dafa = MODELS.build(dafa) if dafa else None
        self.dam = MODELS.build(dam) if dam else None
        self.refine_logits = self._check_refine_logits(refine_logits or {})
        self.unrefined_recorders = self._check_unrefined(unrefined_recorders)
        self._teacher_heads: Dict[str, nn.Module] = {}
        if self.dafa is not None:
            self._check_no_detached_targets()
        self._augmented = dict()
        self._held_masks: Optional[Dict[str, Tensor]] = None
        self._gt_bboxes: Optional[List[Tensor]] = None
        self._input_hw: Optional[Sequence[int]] = None
        sokd = [n for n, m in self.distill_losses.items() if isinstance(m, SoKDLoss)]
        if self.dam is not None and not sokd:
            raise ValueError('SoKDDistiller has a DAM but no SoKDLoss: wrap the distillation '
                             "losses as dict(type='SoKDLoss', base_loss=dict(...)) so that "
                             'the distinctive areas are used.')

    def _check_refine_logits(self, refine_logits: Dict[str, dict]) -> Dict[str, dict]:
        recorders = self.teacher_recorders.recorders
        checked = {}
        for name, spec in refine_logits.items():
            spec = dict(spec)
            unknown = set(spec) - {'feature', 'head', 'record_idx', 'data_idx'}
            if unknown or 'feature' not in spec or 'head' not in spec:
                raise ValueError(f'refine_logits[{name!r}] takes feature=, head= (and '
                                 f'record_idx=, data_idx=), got {sorted(spec)}')
            for key in (name, spec['feature']):
                if key not in recorders:
                    raise ValueError(f'refine_logits[{name!r}]: {key!r} is not a teacher '
                                     f'recorder (teacher recorders: {sorted(recorders)})')
            if isinstance(spec['head'], str):
                spec['head'] = (spec['head'], )
            checked[name] = spec
        return checked

    def _check_unrefined(self, names: Sequence[str]) -> frozenset:
        if isinstance(names, str):
            names = (names, )
        recorders = self.teacher_recorders.recorders
        for name in names:
            if name not in recorders:
                raise ValueError(f'unrefined_recorders: {name!r} is not a teacher recorder '
                                 f'(teacher recorders: {sorted(recorders)})')
            if name in self.refine_logits:
                raise ValueError(f'{name!r} is both in refine_logits and in '
                                 'unrefined_recorders: choose one')
        return frozenset(names)

    def _check_no_detached_targets(self) -> None:
        """A loss that detaches its refined teacher input would hide it from the policy."""
        for name, mappings in self.loss_forward_mappings.items():
            reads_refined = any(
                not rec.get('from_student', True) and rec.get('recorder') in self.refine_logits
                for rec in mappings.values())
            if reads_refined and getattr(self.distill_losses[name], 'teacher_detach', False):
                raise ValueError(
                    f'{name} reads refined teacher logits but detaches them, so the DAFA '
                    'policy would get no gradient from it: set teacher_detach=False in its '
                    'config (the teacher stays frozen; only the policy receives the gradient)')

    def bind_teacher(self, teacher: nn.Module) -> None:
        """Resolve the ``refine_logits`` head paths on the teacher (called by the algorithm).

        The modules are referenced, not registered: they stay the teacher's (frozen, saved
        once, in the teacher's state dict).
        """
        heads = {}
        for name, spec in self.refine_logits.items():
            modules = []
            for path in spec['head']:
                try:
                    modules.append(teacher.get_submodule(path))
                except AttributeError:
                    raise ValueError(f'refine_logits[{name!r}]: the teacher has no module '
                                     f'{path!r}') from None
            heads[name] = modules
        # a plain dict attribute: nn.Module would register (and save) them twice
        self.__dict__['_teacher_heads'] = heads

    def _refined_logits(self, name: str) -> Tensor:
        spec = self.refine_logits[name]
        if name not in self._teacher_heads:
            raise RuntimeError(f'refine_logits[{name!r}]: no teacher bound; the algorithm '
                               'must call distiller.bind_teacher(teacher)')
        out = self.get_record(spec['feature'], False, spec.get('record_idx', 0),
                              spec.get('data_idx'))
        for module in self._teacher_heads[name]:
            out = module(out)
        return out

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
        if (from_student or not augment or self.dafa is None or not self.dafa.enabled
                or recorder in self.unrefined_recorders):
            return super().get_record(recorder, from_student, record_idx, data_idx, connector,
                                      connector_idx)
        key = (recorder, record_idx, data_idx, connector, connector_idx)
        if key not in self._augmented:
            if recorder in self.refine_logits:
                if connector is not None:
                    raise ValueError(f'refine_logits[{recorder!r}] cannot take a teacher '
                                     'connector')
                self._augmented[key] = self._refined_logits(recorder)
                return self._augmented[key]
            record = super().get_record(recorder, from_student, record_idx, data_idx, connector,
                                        connector_idx)
            if not _is_feature_map(record):  # logits and other records: DAFA does not apply
                return record
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
            mask = None if self._held_masks is None else self._held_masks.get(name)
            terms = module(
                **kwargs,
                dam=self.dam,
                gt_bboxes=self._gt_bboxes,
                stride=self._stride(feat),
                mask=mask)
            for key, value in terms.items():
                losses[name if key == 'loss' else f'{name}_{key}'] = value
        return losses

    @contextmanager
    def hold_masks(self):
        """Within the block, every :class:`SoKDLoss` reuses the DAM mask of its last forward.

        DAM's masks are a discrete selection (top-k peaks of the mutual heatmap): rebuilt at
        the perturbed parameters of the policy step's passes, one flipped cell turns a
        central difference into a jump over ``2 eps``. Holding them makes every pass
        evaluate the same function of the parameters and the magnitudes.
        """
        self._held_masks = {
            name: module.last_mask
            for name, module in self.distill_losses.items()
            if isinstance(module, SoKDLoss) and module.last_mask is not None
        }
        try:
            yield
        finally:
            self._held_masks = None

    @contextmanager
    def released_masks(self):
        """Within a :meth:`hold_masks` block, let the losses decode their masks again; after
        it, their ``last_mask`` is the held one again."""
        held, self._held_masks = self._held_masks, None
        try:
            yield
        finally:
            self._held_masks = held
            for name, mask in (held or {}).items():
                self.distill_losses[name].last_mask = mask

    @contextmanager
    def dafa_off(self):
        """Within the block, teacher records are read as they are (DAFA disabled)."""
        if self.dafa is None:
            yield
            return
        enabled, self.dafa.enabled = self.dafa.enabled, False
        try:
            yield
        finally:
            self.dafa.enabled = enabled

    def mask_areas(self) -> Dict[str, Tensor]:
        """``dam/mask_area/<loss name>``: the mean DAM mask of each SoKD loss's last inner
        forward (the share of the map distilled; with ``weighted_mask``, the mean weight),
        for the logs. Keys without 'loss' in them, so no optimiser ever sums them."""
        return {
            f'dam/mask_area/{name}'.replace('loss_', ''): module.last_mask_area
            for name, module in self.distill_losses.items()
            if isinstance(module, SoKDLoss) and module.last_mask_area is not None
        }

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
