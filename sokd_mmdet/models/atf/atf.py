"""ATF: adaptive teacher fine-tuning, offline distillation in which the teacher adapts too."""
from contextlib import ExitStack, nullcontext
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.optim import OptimWrapper
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS
from torch import Tensor

from ..steps import detached_records, optim_entry, update_params
from .teacher_fine_tuning import TeacherFineTuningMixin, scaled_losses

_ENTRIES_HINT = ("student=dict(optimizer=...) and teacher=dict(optimizer=dict(type='SGD', "
                 "lr=1e-4, momentum=0.9))")


@MODELS.register_module()
class ATF(TeacherFineTuningMixin, SingleTeacherDistill):
    """Adaptive Teacher Fine-tuning: teacher and student adapt to each other during
    offline distillation.

    Each iteration the student minimises its task loss plus the distiller's losses, with
    every teacher record detached (the teacher is its target, not something it can move).
    On teacher-update iterations (``teacher_interval``, ``teacher_begin``, ``teacher_end``)
    the teacher, too, takes a step, on::

        teacher_task_weight * L_task(teacher)
            + teacher_weight * sum_l D_alpha'(p_S^l || p_T^l)

    over the distiller's :class:`AlphaDivergenceLoss` terms, with the student's logits
    detached: the teacher is fine-tuned towards what the student can represent, while its
    own task loss keeps it a good detector. ``alpha'`` is ``teacher_alpha`` or each loss's own
    ``alpha``; with the default 0.5 both sides minimise the same symmetric divergence.
    Other distillation losses (e.g. CWD on FPN features) train the student only.

    Overrides, and why:

    - ``loss``: ``SingleTeacherDistill.loss`` with a trainable teacher lets every
      distillation loss backpropagate into the teacher; here the teacher's only signal from
      the student is its own divergence term, so the student's losses see detached teacher
      records. Off teacher-update iterations the teacher runs without a graph, and only its
      head's forward (``mode='tensor'``), as cheaply as in plain distillation.
    - ``train_step``: two optimisers (an ``OptimWrapperDict`` with ``student`` and
      ``teacher``, see ``DistillOptimWrapperConstructor``) each stepping on its own objective.
      Under several processes use ``model_wrapper_cfg =
      dict(type='mmrazor.DistillDataParallel')``, which delegates to this
      ``train_step``; gradients are averaged across ranks here before each step.

    The teacher's BatchNorm stays in eval mode (``teacher_norm_eval=True``, MMRazor's
    default): its running statistics remain those it was trained with, and its affine
    parameters are fine-tuned. The statistics are the teacher's calibration on its whole
    training set; re-estimating them from a detection batch of a few images would make them
    drift with every batch, and the student would learn from a train-mode teacher whose
    outputs depend on the batch, unlike the teacher at inference. With eval-mode BN the
    teacher the student sees is exactly the deployed teacher.

    Args:
        distiller (dict): a ``ConfigurableDistiller`` config with at least one
            :class:`AlphaDivergenceLoss` (the teacher's signal from the student).
        teacher_trainable_modules (Sequence[str], optional): the teacher's submodules that
            are fine-tuned (e.g. ``('bbox_head', )``), every other teacher parameter frozen;
            None fine-tunes what the teacher config leaves trainable. Defaults to None.
        teacher_weight (float): weight of the teacher's divergence terms (on top of each
            loss's ``loss_weight``). Defaults to 1.0.
        teacher_task_weight (float): weight of the teacher's own task loss; 0 fine-tunes the
            teacher on the divergence alone (and runs only its head's forward). Defaults to 1.0.
        teacher_alpha (float, optional): order of the teacher's divergence
            ``D_alpha'(p_S || p_T)``; None: each loss's ``alpha``. Defaults to None.
        teacher_interval (int): a teacher step every n-th iteration. Defaults to 1.
        teacher_begin (int): first iteration (0-based) with a teacher step. Defaults to 0.
        teacher_end (int, optional): no teacher steps from this iteration on; None: until the
            end. Defaults to None.
        **kwargs: ``SingleTeacherDistill``'s arguments (``architecture``, ``teacher``,
            ``teacher_ckpt``, ``teacher_norm_eval``, ...); ``teacher_trainable`` must be True.
    """

    def __init__(self,
                 teacher_trainable_modules: Optional[Sequence[str]] = None,
                 **kwargs) -> None:
        if not kwargs.setdefault('teacher_trainable', True):
            raise ValueError('ATF fine-tunes the teacher: teacher_trainable must be True (for '
                             "a frozen teacher use type='SingleTeacherDistill' or "
                             "'FpnTeacherDistill')")
        super().__init__(**kwargs)
        self.teacher_trainable_modules = teacher_trainable_modules
        if teacher_trainable_modules is not None:
            self.teacher_trainable_modules = self.fine_tune_only(teacher_trainable_modules)
        if not any(p.requires_grad for p in self.teacher.parameters()):
            raise ValueError('ATF fine-tunes the teacher, but every teacher parameter has '
                             'requires_grad=False (frozen_stages, norm_cfg.requires_grad=False '
                             'or a frozen model): leave at least its head trainable')
        # training steps taken; a buffer, so that a resumed run keeps the schedule
        self.register_buffer('train_iter', torch.zeros((), dtype=torch.long))

    # ----------------------------------------------------------------- losses
    def loss(self, batch_inputs: Tensor, data_samples=None) -> Dict[str, Tensor]:
        """Every term of a teacher-updating step; keys ``teacher.*`` are the teacher's."""
        return self._losses(batch_inputs, data_samples, update_teacher=True)

    def _losses(self, inputs: Tensor, data_samples, update_teacher: bool) -> Dict[str, Tensor]:
        update_teacher = update_teacher and not self.distillation_stopped
        losses = dict()
        self.distiller.set_deliveries_override(False)
        with self.distiller.teacher_recorders, self.distiller.deliveries, \
                nullcontext() if update_teacher else torch.no_grad():
            if update_teacher and self.teacher_task_weight > 0:
                task = self.teacher(inputs, data_samples, mode='loss')
                losses.update(add_prefix(scaled_losses(task, self.teacher_task_weight), 'teacher'))
            else:  # the records are all the step needs: the head's forward, no loss
                self.teacher(inputs, data_samples, mode='tensor')
        self.distiller.set_deliveries_override(True)
        with self.distiller.student_recorders, self.distiller.deliveries:
            student = self.student(inputs, data_samples, mode='loss')
        if self.calculate_student_loss:
            losses.update(add_prefix(student, 'student'))
        if not self.distillation_stopped:
            with detached_records(self.distiller.teacher_recorders):
                losses.update(add_prefix(self.distiller.compute_distill_losses(), 'distill'))
        if update_teacher:
            losses.update(add_prefix(self.teacher_divergences(), 'teacher.distill'))
        return losses

    # ------------------------------------------------------------- train step
    def train_step(self, data, optim_wrapper) -> Dict[str, Tensor]:
        """A student step every iteration; a teacher step on teacher-update iterations."""
        student_ow, teacher_ow = self._split_optim_wrapper(optim_wrapper)
        data = self.data_preprocessor(data, True)
        it = int(self.train_iter)
        self.train_iter += 1
        update_teacher = self.teacher_update_at(it)
        with ExitStack() as stack:  # autocast and accumulation contexts of both optimisers
            stack.enter_context(student_ow.optim_context(self))
            if update_teacher:
                stack.enter_context(teacher_ow.optim_context(self))
            losses = self._losses(data['inputs'], data['data_samples'], update_teacher)
        teacher_terms = {k: v for k, v in losses.items() if k.startswith('teacher.')}
        student_loss, log_vars = self.parse_losses({
            k: v
            for k, v in losses.items() if k not in teacher_terms
        })
        update_params(student_ow, student_loss)
        if teacher_terms:
            log_vars.update(self.step_teacher(teacher_ow, teacher_terms))
        return log_vars

    def _split_optim_wrapper(self, optim_wrapper) -> Tuple[OptimWrapper, OptimWrapper]:
        teacher = optim_entry(optim_wrapper, 'teacher', 'ATF', _ENTRIES_HINT,
                              ' (it fine-tunes the teacher)')
        return optim_entry(optim_wrapper, 'student', 'ATF', _ENTRIES_HINT), teacher
