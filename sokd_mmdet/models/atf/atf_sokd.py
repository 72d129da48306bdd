"""ATF's teacher fine-tuning, restricted to the teacher's head, under SoKD."""
from contextlib import nullcontext
from functools import partial
from typing import Dict, Sequence, Tuple

import torch
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS
from torch import Tensor

from ..sokd import SoKD
from ..steps import detached, optim_entry, set_records
from .teacher_fine_tuning import TeacherFineTuningMixin, scaled_losses

_TEACHER_HINT = "teacher=dict(optimizer=dict(type='AdamW', lr=1e-4))"


def _depends_on_graph(record) -> bool:
    if isinstance(record, Tensor):
        return record.requires_grad
    if isinstance(record, (tuple, list)):
        return any(_depends_on_graph(r) for r in record)
    return False


@MODELS.register_module()
class ATFSoKD(TeacherFineTuningMixin, SoKD):
    """ATF + SoKD: SoKD's refined feature distillation from a teacher whose *head* ATF
    fine-tunes towards the student.

    The two compose when they act on different parts of the teacher. SoKD's policy search
    learns how to refine the teacher's features (FPN levels) for the student, which needs
    those features to stay put; ATF moves the teacher towards what the student can
    represent. Here ATF fine-tunes only ``teacher_trainable_modules`` (the dense head by
    default), everything upstream of them stays frozen, so the features DAFA refines and DAM
    looks at are the frozen teacher's, while the head's class logits (ATF's alpha-divergence
    losses, read unrefined: ``SoKDDistiller(unrefined_recorders=...)``) adapt.

    Each iteration:

    1. the teacher runs once: its whole forward with the task loss on teacher-update
       iterations (:meth:`teacher_update_at`; the graph reaches only the fine-tuned
       modules), the head's forward without a graph otherwise; every teacher record is then
       detached for the student's side;
    2. SoKD's step (:meth:`SoKD.train_step_preprocessed`): the student on the refined
       knowledge, the ATF divergences ``D_alpha(p_T || p_S)`` among its distillation terms,
       and the policy step;
    3. on teacher-update iterations, a teacher step (optimiser entry ``teacher``) on
       ``teacher_task_weight * L_task(teacher) + teacher_weight * D_alpha'(p_S || p_T)``,
       the student's logits of step 2 detached (:class:`TeacherFineTuningMixin`).

    A refined teacher record that depends on a fine-tuned parameter is an error: at build
    time when its recorder sits inside a fine-tuned module, at the first teacher step when
    it is computed from one.

    Args:
        teacher_trainable_modules (Sequence[str]): the teacher's submodules that ATF
            fine-tunes; every other teacher parameter stays frozen. Defaults to
            ('bbox_head', ).
        **kwargs: :class:`TeacherFineTuningMixin`'s (``teacher_weight``,
            ``teacher_task_weight``, ``teacher_alpha``, ``teacher_interval``,
            ``teacher_begin``, ``teacher_end``) and :class:`SoKD`'s arguments
            (``teacher_forward`` excepted: the teacher's head always runs).
    """

    def __init__(self, teacher_trainable_modules: Sequence[str] = ('bbox_head', ),
                 **kwargs) -> None:
        if 'teacher_forward' in kwargs:
            raise ValueError('ATFSoKD runs the whole teacher (its head gives the logits ATF '
                             'adapts): remove teacher_forward from the config')
        super().__init__(**kwargs)  # SoKD freezes the whole teacher
        self.teacher_forward = 'loss'  # the whole teacher runs (see _record_teacher)
        self.teacher_trainable_modules = self.fine_tune_only(teacher_trainable_modules)
        self._check_refined_outside(self.teacher_trainable_modules)
        self._teacher_step = False
        self._teacher_terms: Dict[str, Tensor] = dict()
        self._live_records = None

    def _check_refined_outside(self, names: Tuple[str, ...]) -> None:
        """No recorder whose records DAFA refines may sit inside a fine-tuned module."""
        distiller = self.distiller
        for rec_name, recorder in distiller.teacher_recorders.recorders.items():
            if rec_name in distiller.unrefined_recorders or distiller.dafa is None:
                continue
            inside = [
                n for n in names if recorder.source == n or recorder.source.startswith(n + '.')
            ]
            if inside:
                raise ValueError(
                    f'teacher recorder {rec_name!r} ({recorder.source}) is inside the '
                    f'fine-tuned {inside[0]!r}, and DAFA refines it: SoKD learns its policy '
                    'for fixed teacher knowledge. If the recorder holds logits (ATF\'s '
                    f"divergence), add it to distiller.unrefined_recorders=('{rec_name}', )")

    # ----------------------------------------------------------------- forward passes
    def _record_teacher(self, inputs: Tensor, data_samples) -> None:
        """The teacher's forward (with its task loss and a graph on teacher steps); the
        student's side then sees every record detached."""
        update = self._teacher_step
        self.distiller.set_deliveries_override(False)
        with self.distiller.teacher_recorders, self.distiller.deliveries, \
                nullcontext() if update else torch.no_grad():
            if update and self.teacher_task_weight > 0:
                task = self.teacher(inputs, data_samples, mode='loss')
                self._teacher_terms.update(
                    add_prefix(scaled_losses(task, self.teacher_task_weight), 'teacher'))
            else:
                self.teacher(inputs, data_samples, mode='tensor')
        records = self._teacher_records()
        if update:
            self._check_fixed_knowledge(records)
            self._live_records = records
        set_records(self.distiller.teacher_recorders, {
            n: [detached(r) for r in recs]
            for n, recs in records.items()
        })
        self._new_knowledge(inputs, data_samples)

    def _check_fixed_knowledge(self, records: Dict[str, list]) -> None:
        if self.distiller.dafa is None:
            return
        for name, recs in records.items():
            if name not in self.distiller.unrefined_recorders and _depends_on_graph(recs):
                raise RuntimeError(
                    f'teacher recorder {name!r} is computed from the fine-tuned '
                    f'{self.teacher_trainable_modules} and DAFA refines it: SoKD learns its '
                    'policy for fixed teacher knowledge, so fine-tune only modules after '
                    'every refined recorder (the head after the neck)')

    def loss(self, batch_inputs: Tensor, data_samples=None) -> Dict[str, Tensor]:
        """SoKD's inner objective; on teacher steps it also collects the teacher's terms."""
        losses = super().loss(batch_inputs, data_samples)
        if self._teacher_step:  # the student records of the inner pass are current
            # the teacher logits of this step's forward, with their graph, as recorded
            with self._teacher_knowledge(self._live_records):
                divergences = self.teacher_divergences(
                    partial(self.distiller.get_record, augment=False))
            self._teacher_terms.update(add_prefix(divergences, 'teacher.distill'))
            self._live_records = None
        return losses

    # ------------------------------------------------------------------- train step
    def train_step_preprocessed(self, inputs: Tensor, samples, optim_wrapper) -> Dict[str, Tensor]:
        """SoKD's step (student and policy), then the teacher's on teacher-update steps."""
        teacher_ow = optim_entry(optim_wrapper, 'teacher', 'ATFSoKD', _TEACHER_HINT,
                                 ' (ATF fine-tunes the teacher head)')
        self._teacher_step = (
            self.teacher_update_at(int(self.train_iter)) and not self.distillation_stopped)
        self._teacher_terms = dict()
        try:
            with teacher_ow.optim_context(self) if self._teacher_step else nullcontext():
                log_vars = super().train_step_preprocessed(inputs, samples, optim_wrapper)
        finally:
            self._teacher_step, self._live_records = False, None
        terms, self._teacher_terms = self._teacher_terms, dict()
        if terms:
            log_vars.update(self.step_teacher(teacher_ow, terms))
        return log_vars
