"""TST: distillation on data the teacher handles well and the student does not."""
from typing import Dict, Tuple

import torch
from mmengine.optim import OptimWrapper
from mmrazor.models.algorithms import FpnTeacherDistill
from mmrazor.registry import MODELS
from torch import Tensor
from torch.func import functional_call

from ..steps import optim_entry, update_params


class TSTMixin:
    """The data side of TST (Shao et al., "Teaching What You Should Teach: A Data-Based
    Distillation Method", IJCAI 2023), for any single-teacher distillation algorithm with a
    ``train_step_preprocessed(inputs, data_samples, optim_wrapper)`` (one training step on a
    preprocessed batch).

    The algorithm owns a :class:`TSTAugmenter` (``self.augmenter``) and trains it in turn
    with the distillation. Each iteration (:meth:`train_step`):

    1. the augmenter draws gates and directions for the batch;
    2. every ``augment_interval``-th iteration, an **augmenter step** (:meth:`augmenter_step`)
       on the augmented batch minimises ``teacher task loss - student_weight * student task
       loss``: it searches for samples the teacher still gets right and the student gets
       wrong. Only the augmenter's parameters receive gradients (``backward(inputs=...)``);
       the student's BN statistics are not updated by this pass (cloned buffers);
    3. the batch is augmented again with the updated augmenter (same draw, no graph) and the
       **distillation step** (the host algorithm's ``train_step_preprocessed``) trains the
       student on the original batch plus the augmented one, concatenated.

    ``optim_wrapper`` must hold ``student`` and ``augmenter`` entries (and whatever else the
    host needs): see ``DistillOptimWrapperConstructor``.

    Args:
        augmenter (dict): a :class:`TSTAugmenter` config. Its ``mean``, ``std`` and ``rgb``
            default to the algorithm's data preprocessor's (images loaded as BGR, as
            MMCV does).
        augment_interval (int): an augmenter step every n-th iteration. Defaults to 1.
        student_weight (float): weight of the student's task loss in the augmenter's
            objective. Defaults to 1.0.
        **kwargs: the host algorithm's arguments.
    """

    def __init__(self,
                 augmenter: dict,
                 augment_interval: int = 1,
                 student_weight: float = 1.0,
                 **kwargs) -> None:
        if augment_interval < 1:
            raise ValueError(f'augment_interval must be >= 1, got {augment_interval}')
        if kwargs.get('teacher_trainable'):
            raise ValueError('TST augments for a frozen teacher: teacher_trainable must be '
                             'False')
        super().__init__(**kwargs)
        self.augmenter = MODELS.build(self._with_preprocessor_stats(augmenter))
        self.augment_interval = augment_interval
        self.student_weight = float(student_weight)
        # checkpointed, so that a resumed run keeps the augmenter-step schedule
        self.register_buffer('augment_iter', torch.zeros((), dtype=torch.long))

    def _with_preprocessor_stats(self, cfg: dict) -> dict:
        """The augmenter config, with the preprocessor's normalisation unless it has one."""
        cfg = dict(cfg)
        dp = self.data_preprocessor
        if getattr(dp, '_enable_normalize', False):
            cfg.setdefault('mean', dp.mean.flatten().tolist())
            cfg.setdefault('std', dp.std.flatten().tolist())
        cfg.setdefault('rgb', bool(getattr(dp, '_channel_conversion', False)))
        return cfg

    def train_step(self, data, optim_wrapper) -> Dict[str, Tensor]:
        """Preprocess, augment (and train the augmenter), distil on both batches."""
        augmenter_ow = optim_entry(optim_wrapper, 'augmenter', 'TST',
                                   "augmenter=dict(optimizer=dict(type='Adam', lr=1e-3))")
        data = self.data_preprocessor(data, True)
        inputs, samples, aug_log = self.augmented_batch(data['inputs'], data['data_samples'],
                                                        augmenter_ow)
        log_vars = self.train_step_preprocessed(inputs, samples, optim_wrapper)
        log_vars.update(aug_log)
        return log_vars

    def augmented_batch(self, inputs: Tensor, data_samples: list,
                        augmenter_ow: OptimWrapper) -> Tuple[Tensor, list, Dict[str, Tensor]]:
        """The original batch followed by its augmented copy (after any augmenter step).

        Returns:
            tuple: inputs (2N, 3, H, W), 2N data samples, log variables.
        """
        it = int(self.augment_iter)
        self.augment_iter += 1
        self.augmenter.resample(inputs.shape[0])
        log = dict()
        if it % self.augment_interval == 0:
            log.update(self.augmenter_step(inputs, data_samples, augmenter_ow))
        with torch.no_grad():
            aug_inputs, aug_samples = self.augmenter(inputs, data_samples)
        log.update({
            f'augmenter/{k}': torch.tensor(v)
            for k, v in self.augmenter.last_stats.items()
        })
        return torch.cat([inputs, aug_inputs]), list(data_samples) + aug_samples, log

    def augmenter_step(self, inputs: Tensor, data_samples: list,
                       augmenter_ow: OptimWrapper) -> Dict[str, Tensor]:
        """One step of the augmenter towards "teacher right, student wrong".

        Returns:
            dict: ``augmenter/teacher_loss``, ``augmenter/student_loss``,
            ``augmenter/objective``.
        """
        params = [p for p in self.augmenter.parameters() if p.requires_grad]
        aug_inputs, aug_samples = self.augmenter(inputs, data_samples)
        # the student runs in training mode (as it learns), on copies of its BN statistics
        buffers = {n: b.clone() for n, b in self.student.named_buffers()}
        with augmenter_ow.optim_context(self):
            teacher_losses = self.teacher(aug_inputs, aug_samples, mode='loss')
            student_losses = functional_call(self.student, buffers, (aug_inputs, aug_samples),
                                             {'mode': 'loss'})
        teacher_loss = self.parse_losses(teacher_losses)[0]
        student_loss = self.parse_losses(student_losses)[0]
        objective = teacher_loss - self.student_weight * student_loss
        # inputs=params: no gradient reaches (or is left in) the student or the teacher
        update_params(augmenter_ow, objective, params, inputs=params)
        return {
            'augmenter/teacher_loss': teacher_loss.detach(),
            'augmenter/student_loss': student_loss.detach(),
            'augmenter/objective': objective.detach(),
        }


@MODELS.register_module()
class TST(TSTMixin, FpnTeacherDistill):
    """TST with MMRazor's configured distillation losses (CWD, PKD, ...) as the host.

    ``FpnTeacherDistill`` (a ``SingleTeacherDistill`` whose teacher runs only its backbone
    and neck) whose ``train_step`` is :class:`TSTMixin`'s: the student trains
    on the original and the augmented batch with its task loss and the distiller's losses,
    and the augmenter is trained in turn.

    Args:
        augmenter (dict): a :class:`TSTAugmenter` config.
        teacher_forward (str): ``'extract_feat'`` runs only the teacher's backbone and neck
            in the distillation step (as ``FpnTeacherDistill``; right when the recorders are
            on ``neck``), ``'loss'`` the whole teacher. The augmenter step always runs the
            whole teacher (it needs its task loss). Defaults to 'extract_feat'.
        augment_interval (int): see :class:`TSTMixin`. Defaults to 1.
        student_weight (float): see :class:`TSTMixin`. Defaults to 1.0.
        **kwargs: ``SingleTeacherDistill``'s arguments.
    """

    def __init__(self,
                 augmenter: dict,
                 teacher_forward: str = 'extract_feat',
                 augment_interval: int = 1,
                 student_weight: float = 1.0,
                 **kwargs) -> None:
        if teacher_forward not in ('extract_feat', 'loss'):
            raise ValueError(f"teacher_forward must be 'extract_feat' or 'loss', got "
                             f'{teacher_forward!r}')
        super().__init__(
            augmenter=augmenter,
            augment_interval=augment_interval,
            student_weight=student_weight,
            **kwargs)
        self.teacher_forward = teacher_forward

    def loss(self, batch_inputs: Tensor, data_samples=None) -> Dict[str, Tensor]:
        """MMRazor's distillation losses, with the teacher forward of ``teacher_forward``."""
        if self.teacher_forward == 'extract_feat':
            return super().loss(batch_inputs, data_samples)
        # the whole teacher: SingleTeacherDistill's loss, which FpnTeacherDistill overrides
        return super(FpnTeacherDistill, self).loss(batch_inputs, data_samples)

    def student_side_parameters(self) -> Dict[str, Tensor]:
        """Every trainable parameter but the teacher's and the augmenter's."""
        return {
            n: p
            for n, p in self.named_parameters()
            if p.requires_grad and not n.startswith(('teacher.', 'augmenter.'))
        }

    def train_step_preprocessed(self, inputs: Tensor, data_samples: list,
                                optim_wrapper) -> Dict[str, Tensor]:
        """One student step on a preprocessed batch (``OptimWrapper.update_params``, with the
        gradients averaged across ranks before the step)."""
        student_ow = optim_entry(optim_wrapper, 'student', 'TST',
                                 "student=dict(optimizer=dict(type='SGD', lr=0.01))")
        with student_ow.optim_context(self):
            losses = self.loss(inputs, data_samples)
        loss, log_vars = self.parse_losses(losses)
        update_params(student_ow, loss, self.student_side_parameters().values())
        return log_vars
