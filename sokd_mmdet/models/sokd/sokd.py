"""SoKD: single-teacher distillation whose teacher knowledge is refined for the student."""
import math
from contextlib import nullcontext
from typing import Dict, Optional, Tuple

import torch
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS
from torch import Tensor

from ..steps import (check_finite_losses, current_records, gradient_surrogate, optim_entry,
                     replaced_records, update_params)
from .policy_step import (HVPS, INNER, INNER_DISTILL, INNER_DISTILL_GRAPH, OUTER, OUTER_OBJECTIVES,
                          REWARD_BASELINES, PolicyStepMixin, random_stream)
from .sokd_distiller import SoKDDistiller
from .virtual_steps import VIRTUAL_STEPS


def takes_policy_step(it: int,
                      search_interval: int = 1,
                      search_begin: int = 0,
                      search_end: Optional[int] = None) -> bool:
    """Whether training step ``it`` (0-based) takes a policy step under a search schedule:
    every ``search_interval``-th step from ``search_begin`` on, none from ``search_end``."""
    if it < search_begin or (search_end is not None and it >= search_end):
        return False
    return (it - search_begin) % search_interval == 0


@MODELS.register_module()
class SoKD(PolicyStepMixin, SingleTeacherDistill):
    """Student-Oriented Knowledge Distillation (Shen et al., ACM MM 2024).

    ``SingleTeacherDistill`` with its own ``train_step``: the student trains on teacher
    knowledge refined by the distiller's DAFA policy and restricted to DAM's distinctive
    areas, and every ``search_interval``-th iteration the policy takes one step of the
    unrolled bi-level rule (:mod:`.unrolled`): a virtual step of the student on the refined
    knowledge, the outer loss (task + base distillation loss on the *original* knowledge) at
    the virtual weights, and the mixed second derivative of the inner loss times the outer
    gradient for the magnitudes (exactly, by double backward, or by finite differences); the
    discrete choices (sub-policy weights, apply probabilities) get DAFA's RELAX estimate with
    the outer loss as reward. The teacher runs once per iteration; the virtual student is
    evaluated with ``torch.func.functional_call`` on parameter dicts, never a copy of the
    detector, and with cloned buffers so that BN statistics are not touched.

    Every pass of a policy step evaluates one function: DAM's masks of the draw are held
    (:meth:`SoKDDistiller.hold_masks`), DAFA's random choices are fixed per draw, and the
    passes run in float32 whatever autocast the student trains under. A non-finite policy
    gradient or reward skips the policy step (a warning; ``policy/skipped_steps`` counts
    them), and a non-finite training loss stops the run with the term and iteration named.

    ``optim_wrapper`` must be an ``OptimWrapperDict`` with ``student`` (everything trainable
    but the policy) and ``policy`` (DAFA) entries: see ``DistillOptimWrapperConstructor``.

    Args:
        distiller (dict): a :class:`SoKDDistiller` config.
        teacher_forward (str): ``'extract_feat'`` runs only the teacher's backbone and neck
            (as ``FpnTeacherDistill``; right when recorders are on ``neck``), ``'loss'`` the
            whole teacher (recorders on heads, classifiers). Defaults to 'extract_feat'.
        search_interval (int): a policy step every n-th iteration. Defaults to 1.
        search_begin (int): first iteration of the search. Defaults to 0.
        search_end (int, optional): the search stops at this iteration (the policy is then
            frozen but still sampled). None searches for the whole run. Defaults to None.
        virtual_lr (float, optional): ``eta`` of the virtual step; None uses the student
            optimiser's current learning rate. Defaults to None.
        hvp (str): the mixed second-derivative product: ``'exact'`` (double backward
            through the student's features and the distillation losses, from the inner
            forward's graph, kept through the outer pass), ``'exact_recompute'`` (the same
            product from one more pass of the distillation terms at the end, so that the
            inner graph is freed before the outer pass, for one more student backbone/neck
            pass; measured in docs/sokd_tuning.md) or ``'finite_difference'`` (two more passes at
            ``theta +- e v``, DARTS' rule). Defaults to 'exact'.
        hvp_eps (float): finite-difference scale, ``e = hvp_eps / |v|`` (finite_difference
            only). Defaults to 0.01.
        reward_baseline (str): what RELAX's reward ``L_val(theta')`` is measured against:
            ``'unaugmented_step'``, the outer loss after the same virtual step on the
            un-augmented knowledge (one more inner and outer pass; the reward is then what
            the draw's augmentation changed), or ``'before_step'``, the outer loss before
            the virtual step (free, but the reward then holds the virtual step's own
            improvement, the same for every draw). Both are unbiased. Defaults to
            'unaugmented_step'.
        virtual_step (str): the virtual step's update: ``'sgd'`` (``-eta g``, DARTS) or
            ``'optimizer'`` (the student optimiser's own update from its current state,
            with the optim wrapper's gradient clipping; ``virtual_lr`` then scales it by
            ``virtual_lr / lr``). Defaults to 'sgd'.
        outer_batch (str): data of the outer loss. ``'same'``: the batch of the inner step
            (the research code's choice). ``'previous'``: the previous iteration's batch, held
            out from the inner step (its inputs and teacher records are kept for one
            iteration; the first search iteration of a run, or of a resumed run, has none
            and takes no policy step). Defaults to 'same'.
        outer_objective (str): what the virtual step is judged by, ``L_val``. ``'task+base'``:
            the student's task loss plus the base distillation loss against the teacher's
            knowledge as it is (the research code's). ``'task'``: the task loss alone, i.e.
            the knowledge is refined for what the student is trained for (the base term
            rewards a policy for leaving the teacher's features unchanged). Defaults to
            'task+base'.
        **kwargs: ``SingleTeacherDistill``'s arguments (``architecture``, ``teacher``,
            ``teacher_ckpt``, ...).
    """

    def __init__(self,
                 distiller: dict,
                 teacher_forward: str = 'extract_feat',
                 search_interval: int = 1,
                 search_begin: int = 0,
                 search_end: Optional[int] = None,
                 virtual_lr: Optional[float] = None,
                 hvp: str = 'exact',
                 hvp_eps: float = 0.01,
                 virtual_step: str = 'sgd',
                 reward_baseline: str = 'unaugmented_step',
                 outer_batch: str = 'same',
                 outer_objective: str = 'task+base',
                 **kwargs) -> None:
        if kwargs.get('teacher_trainable'):
            raise ValueError('SoKD refines a frozen teacher: teacher_trainable must be False')
        if teacher_forward not in ('extract_feat', 'loss'):
            raise ValueError(f"teacher_forward must be 'extract_feat' or 'loss', got "
                             f'{teacher_forward!r}')
        if outer_batch not in ('same', 'previous'):
            raise ValueError(f"outer_batch must be 'same' or 'previous', got {outer_batch!r}")
        if outer_objective not in OUTER_OBJECTIVES:
            raise ValueError(f'outer_objective must be one of {OUTER_OBJECTIVES}, got '
                             f'{outer_objective!r}')
        self._check_schedule(search_interval, search_begin, search_end)
        if hvp not in HVPS:
            raise ValueError(f'hvp must be one of {HVPS}, got {hvp!r}')
        if reward_baseline not in REWARD_BASELINES:
            raise ValueError(f'reward_baseline must be one of {REWARD_BASELINES}, got '
                             f'{reward_baseline!r}')
        if virtual_step not in VIRTUAL_STEPS:
            raise ValueError(f'virtual_step must be one of {VIRTUAL_STEPS}, got '
                             f'{virtual_step!r}')
        if not (isinstance(hvp_eps, (int, float)) and math.isfinite(hvp_eps) and hvp_eps > 0):
            raise ValueError(f'hvp_eps must be a finite number > 0, got {hvp_eps!r}')
        if virtual_lr is not None and not (isinstance(virtual_lr, (int, float))
                                           and math.isfinite(virtual_lr) and virtual_lr > 0):
            raise ValueError(f'virtual_lr must be a finite number > 0 (or None: the student '
                             f"optimiser's learning rate), got {virtual_lr!r}")
        super().__init__(distiller=distiller, **kwargs)
        if not isinstance(self.distiller, SoKDDistiller):
            raise TypeError("SoKD needs distiller=dict(type='SoKDDistiller', ...), got "
                            f'{type(self.distiller).__name__}')
        self.distiller.bind_teacher(self.teacher)  # for refine_logits (classifier heads)
        self.teacher_forward = teacher_forward
        self.search_interval = search_interval
        self.search_begin = search_begin
        self.search_end = search_end
        self.virtual_lr = virtual_lr
        self.hvp = hvp
        self.hvp_eps = hvp_eps
        self.virtual_step = virtual_step
        self.reward_baseline = reward_baseline
        self.outer_batch = outer_batch
        self.outer_objective = outer_objective
        self.skipped_policy_steps = 0
        self._held_out = None  # (inputs, data_samples, teacher records) of the last batch
        # training steps taken; a buffer, so that it is checkpointed and a resumed run keeps
        # the search schedule (and all ranks agree on it)
        self.register_buffer('train_iter', torch.zeros((), dtype=torch.long))
        sources = [r.source for r in self.distiller.student_recorders.recorders.values()]
        # The policy gradient of the inner loss needs student features, not the head: with
        # recorders on backbone/neck only, the cheaper extract_feat suffices.
        self._student_feat_only = bool(sources) and all(
            s.split('.')[0] in ('backbone', 'neck') for s in sources)

    @staticmethod
    def _check_schedule(interval, begin, end) -> None:

        def is_int(v):
            return isinstance(v, int) and not isinstance(v, bool)

        if not is_int(interval) or interval < 1:
            raise ValueError(f'search_interval must be an integer >= 1, got {interval!r}')
        if not is_int(begin) or begin < 0:
            raise ValueError(f'search_begin must be an integer >= 0, got {begin!r}')
        if end is not None and (not is_int(end) or end < begin):
            raise ValueError(f'search_end must be None or an integer >= search_begin '
                             f'({begin}), got {end!r}')

    # ----------------------------------------------------------------- forward passes
    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        """MMRazor's modes plus the passes of the bi-level step (used internally)."""
        if mode in (INNER, OUTER, INNER_DISTILL, INNER_DISTILL_GRAPH):
            return self._student_losses(inputs, data_samples, mode)
        return super().forward(inputs, data_samples, mode)

    def loss(self, batch_inputs: Tensor, data_samples=None) -> Dict[str, Tensor]:
        """The inner objective: task loss + SoKD distillation terms (teacher run once)."""
        self._record_teacher(batch_inputs, data_samples)
        dafa = self.distiller.dafa
        if dafa is not None:
            dafa.resample(batch_inputs.shape[0])
        return self._student_losses(batch_inputs, data_samples, INNER)

    def _record_teacher(self, inputs: Tensor, data_samples) -> None:
        self.distiller.set_deliveries_override(False)
        with self.distiller.teacher_recorders, self.distiller.deliveries, torch.no_grad():
            if self.teacher_forward == 'extract_feat':
                self.teacher.extract_feat(inputs)
            else:
                self.teacher(inputs, data_samples, mode='loss')
        self._new_knowledge(inputs, data_samples)

    def _new_knowledge(self, inputs: Tensor, data_samples) -> None:
        """After a teacher forward: forget the last draw's refined records, hand DAM the
        batch's boxes."""
        self.distiller.reset_augmentation()
        gt = None
        if data_samples and all(hasattr(s, 'gt_instances') for s in data_samples):
            gt = [s.gt_instances.bboxes for s in data_samples]
        self.distiller.set_ground_truth(gt, tuple(inputs.shape[-2:]))

    def _student_losses(self, inputs: Tensor, data_samples, mode: str) -> Dict[str, Tensor]:
        """Student pass on the recorded teacher knowledge.

        ``INNER``: task + refined distillation; ``OUTER``: task + base distillation on the
        original knowledge (the task alone with ``outer_objective='task'``);
        ``INNER_DISTILL``: the refined distillation terms alone (the only ones that depend on
        the policy), with the student run without a graph (what the policy gradient of the
        inner loss needs); ``INNER_DISTILL_GRAPH``: the same terms with the student's graph
        (what their mixed second derivative needs).
        """
        self.distiller.set_deliveries_override(True)
        self.distiller.reset_augmentation()
        losses = dict()
        with self.distiller.student_recorders, self.distiller.deliveries:
            if mode in (INNER_DISTILL, INNER_DISTILL_GRAPH):
                with torch.no_grad() if mode == INNER_DISTILL else nullcontext():
                    if self._student_feat_only:
                        self.student.extract_feat(inputs)
                    else:
                        self.student(inputs, data_samples, mode='loss')
            else:
                losses.update(
                    add_prefix(self.student(inputs, data_samples, mode='loss'), 'student'))
        if mode == OUTER:
            distill = ({}
                       if self.outer_objective == 'task' else self.distiller.compute_base_losses())
        else:
            distill = self.distiller.compute_distill_losses()
        losses.update(add_prefix(distill, 'distill'))
        return losses

    # ------------------------------------------------------------------- train step
    def train_step(self, data, optim_wrapper) -> Dict[str, Tensor]:
        """Preprocess the batch, then :meth:`train_step_preprocessed`."""
        self._split_optim_wrapper(optim_wrapper)  # a missing entry fails before any work
        data = self.data_preprocessor(data, True)
        return self.train_step_preprocessed(data['inputs'], data['data_samples'], optim_wrapper)

    def train_step_preprocessed(self, inputs: Tensor, samples, optim_wrapper) -> Dict[str, Tensor]:
        """One student step every iteration; one policy step on search iterations.

        The step on a batch that has been through the data preprocessor (so that an
        algorithm built on SoKD, e.g. TST's, can change the batch in between).
        """
        student_ow, policy_ow = self._split_optim_wrapper(optim_wrapper)
        it = int(self.train_iter)
        self.train_iter += 1
        search = policy_ow is not None and self.search_at(it)
        # the random draws of the student's own loss (Faster R-CNN's proposal and RoI
        # samplers) are one draw for the inner forward and every pass of the policy step
        seed = int(torch.randint(0, 2**62, ())) if search else None
        with student_ow.optim_context(self), random_stream(seed, inputs.device):
            losses = self.loss(inputs, samples)
        check_finite_losses(losses, it)
        loss, log_vars = self.parse_losses(losses)
        log_vars.update(self.distiller.mask_areas())  # before the search recomputes them
        held_out = self._held_out
        if self.outer_batch == 'previous':
            self._held_out = (inputs, samples, self._teacher_records())
            search = search and held_out is not None
        theta = list(self.student_side_parameters().values())
        if search:
            policy_grad, policy_log, student_grads = self._policy_gradient(
                loss, losses, inputs, samples, student_ow, held_out, seed)
            search = self._policy_step_is_finite(*policy_grad, it)
            log_vars.update(policy_log)
            log_vars['policy/skipped_steps'] = torch.tensor(float(self.skipped_policy_steps))
            if student_grads is not None and any(g is not None for g in student_grads):
                # the policy step has taken the student's gradient of this very loss: the
                # update reuses it instead of a second backward through the whole graph
                loss = gradient_surrogate(theta, student_grads)
        # restricted to theta: the backward then skips what only leads to the policy (the
        # grid and magnitude gradients of DAFA's ops on the teacher's features), which the
        # student's update does not use and the policy step computes itself
        update_params(student_ow, loss, theta, inputs=theta)
        # the policy steps after the student's backward: that backward reads the magnitudes
        # saved in the graph, which an earlier in-place policy step would have changed
        if search:
            self._policy_update(policy_ow, *policy_grad)
        return log_vars

    def _split_optim_wrapper(self, optim_wrapper) -> Tuple[OptimWrapper, Optional[OptimWrapper]]:
        if isinstance(optim_wrapper, OptimWrapperDict):
            student = optim_entry(optim_wrapper, 'student', 'SoKD',
                                  'student=dict(optimizer=...) and policy=dict(optimizer=...)')
            policy = optim_wrapper['policy'] if 'policy' in optim_wrapper else None
        else:
            student, policy = optim_wrapper, None
        if policy is None and self.distiller.dafa is not None:
            raise KeyError('the distiller has a DAFA policy but optim_wrapper has no "policy" '
                           "optimiser: add policy=dict(optimizer=dict(type='Adam', lr=3e-4, "
                           'betas=(0.5, 0.999), weight_decay=1e-3)) to optim_wrapper')
        return student, policy

    def search_at(self, it: int) -> bool:
        """Whether training step ``it`` (0-based) takes a policy step."""
        return takes_policy_step(it, self.search_interval, self.search_begin, self.search_end)

    def student_side_parameters(self) -> Dict[str, Tensor]:
        """``theta``: every trainable parameter but the teacher's and the policy's."""
        return {
            n: p
            for n, p in self.named_parameters()
            if p.requires_grad and not n.startswith(('teacher.', 'distiller.dafa.'))
        }

    def _teacher_records(self) -> Dict[str, list]:
        """The teacher recorders' current records (one list per recorder)."""
        return current_records(self.distiller.teacher_recorders)

    def _teacher_knowledge(self, records: Dict[str, list]):
        """Within the block, losses read ``records`` as the teacher's; restored after."""
        return replaced_records(self.distiller.teacher_recorders, records)
