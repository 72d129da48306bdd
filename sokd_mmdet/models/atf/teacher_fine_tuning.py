"""The teacher side of ATF, shared by :class:`ATF` and :class:`ATFSoKD`."""
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from mmengine.optim import OptimWrapper
from torch import Tensor

from ..steps import update_params
from .alpha_divergence_loss import AlphaDivergenceLoss


def scaled_losses(losses: Dict[str, object], weight: float) -> Dict[str, object]:
    """``losses`` with every loss term (a key containing 'loss') multiplied by ``weight``."""
    out = dict()
    for key, value in losses.items():
        if 'loss' not in key:
            out[key] = value
        elif isinstance(value, (list, tuple)):
            out[key] = [weight * v for v in value]
        else:
            out[key] = weight * value
    return out


class TeacherFineTuningMixin:
    """What the teacher learns from the student in ATF, for a single-teacher algorithm.

    On teacher-update iterations (``teacher_interval``, ``teacher_begin``, ``teacher_end``;
    :meth:`teacher_update_at`) the teacher's objective is::

        teacher_task_weight * L_task(teacher)
            + teacher_weight * sum_l D_alpha'(p_S^l || p_T^l)

    over the distiller's :class:`AlphaDivergenceLoss` terms (:attr:`atf_losses`), with the
    student's logits detached (:meth:`teacher_divergences`). The host algorithm decides
    which teacher parameters are trainable, runs the forward passes and steps the teacher's
    optimiser (:func:`update_params`).

    Args:
        teacher_weight (float): weight of the teacher's divergence terms (on top of each
            loss's ``loss_weight``). Defaults to 1.0.
        teacher_task_weight (float): weight of the teacher's own task loss. Defaults to 1.0.
        teacher_alpha (float, optional): order ``alpha'`` of the teacher's divergence; None:
            each loss's ``alpha``. Defaults to None.
        teacher_interval (int): a teacher step every n-th iteration. Defaults to 1.
        teacher_begin (int): first iteration (0-based) with a teacher step. Defaults to 0.
        teacher_end (int, optional): no teacher steps from this iteration on; None: until the
            end. Defaults to None.
        **kwargs: the host algorithm's arguments.
    """

    def __init__(self,
                 teacher_weight: float = 1.0,
                 teacher_task_weight: float = 1.0,
                 teacher_alpha: Optional[float] = None,
                 teacher_interval: int = 1,
                 teacher_begin: int = 0,
                 teacher_end: Optional[int] = None,
                 **kwargs) -> None:
        if teacher_interval < 1:
            raise ValueError(f'teacher_interval must be >= 1, got {teacher_interval}')
        if teacher_weight < 0 or teacher_task_weight < 0:
            raise ValueError('teacher_weight and teacher_task_weight must be >= 0')
        super().__init__(**kwargs)
        self.teacher_weight = teacher_weight
        self.teacher_task_weight = teacher_task_weight
        self.teacher_alpha = teacher_alpha
        self.teacher_interval = teacher_interval
        self.teacher_begin = teacher_begin
        self.teacher_end = teacher_end
        self.atf_losses = self._find_atf_losses()

    def fine_tune_only(self, names: Sequence[str]) -> Tuple[str, ...]:
        """Make the teacher's submodules ``names`` (and only them) trainable.

        Returns:
            tuple[str]: the names (a single string becomes a one-name tuple).

        Raises:
            ValueError: ``names`` is empty, or names a module the teacher does not have.
        """
        if isinstance(names, str):
            names = (names, )
        if not names:
            raise ValueError('teacher_trainable_modules is empty: ATF needs something of the '
                             'teacher to fine-tune (a frozen teacher: use a plain '
                             'distillation algorithm)')
        modules = dict(self.teacher.named_modules())
        unknown = [n for n in names if n not in modules]
        if unknown:
            raise ValueError(f'teacher_trainable_modules: the teacher has no module '
                             f'{unknown[0]!r}')
        self.teacher.requires_grad_(False)
        for name in names:
            modules[name].requires_grad_(True)
        return tuple(names)

    def _find_atf_losses(self) -> List[str]:
        mappings = self.distiller.loss_forward_mappings
        names = [
            n for n, m in self.distiller.distill_losses.items()
            if isinstance(m, AlphaDivergenceLoss) and n in mappings
        ]
        if not names:
            raise ValueError('ATF needs at least one AlphaDivergenceLoss in '
                             'distiller.distill_losses (with its loss_forward_mappings entry): '
                             'it is what the teacher learns from the student')
        for name in names:
            mapping = mappings[name]
            if set(mapping) != {'preds_S', 'preds_T'} or any('connector' in rec
                                                             for rec in mapping.values()):
                raise ValueError(f'{name}: an AlphaDivergenceLoss of ATF reads preds_S and '
                                 'preds_T straight from the recorders (no connector: teacher '
                                 'and student logits have the same classes)')
        return names

    def teacher_update_at(self, it: int) -> bool:
        """Whether training step ``it`` (0-based) updates the teacher."""
        if it < self.teacher_begin or (self.teacher_end is not None and it >= self.teacher_end):
            return False
        return (it - self.teacher_begin) % self.teacher_interval == 0

    def teacher_divergences(self,
                            teacher_record: Optional[Callable[..., Tensor]] = None
                            ) -> Dict[str, Tensor]:
        """``teacher_weight * D_alpha'(p_S || p_T)`` per ATF loss, the student detached.

        Args:
            teacher_record (callable, optional): called with a teacher entry of
                ``loss_forward_mappings`` (``recorder=``, ``record_idx=``, ...), it returns
                the teacher logits; None: ``distiller.get_record``.
        """
        losses = dict()
        for name in self.atf_losses:
            mapping = self.distiller.loss_forward_mappings[name]
            preds_S = self.distiller.get_record(**mapping['preds_S'])
            reader = self.distiller.get_record if teacher_record is None else teacher_record
            preds_T = reader(**mapping['preds_T'])
            module = self.distiller.distill_losses[name]
            losses[name] = self.teacher_weight * module.divergence(preds_S.detach(), preds_T,
                                                                   self.teacher_alpha)
        return losses

    def step_teacher(self, optim_wrapper: OptimWrapper, terms: Dict[str,
                                                                    Tensor]) -> Dict[str, Tensor]:
        """One teacher step on its ``teacher.*`` terms; their log variables, the total as
        ``teacher.loss``."""
        loss, log_vars = self.parse_losses(terms)
        update_params(optim_wrapper, loss)
        log_vars['teacher.loss'] = log_vars.pop('loss')
        return log_vars
