"""SoKD: single-teacher distillation whose teacher knowledge is refined for the student."""
from contextlib import contextmanager, nullcontext
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.dist import all_reduce_params, get_world_size
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS
from torch import Tensor
from torch.func import functional_call

from ..distillers import SoKDDistiller
from .optim_entries import optim_entry
from .unrolled import unrolled_policy_gradient

INNER, OUTER, INNER_DISTILL = 'sokd_inner', 'sokd_outer', 'sokd_inner_distill'


def grads_or_zeros(value: Tensor, tensors: Sequence[Tensor], **kwargs) -> List[Tensor]:
    """``d value / d tensors``, with zeros for tensors ``value`` does not depend on.

    Args:
        value (Tensor): a scalar; it may have no graph at all (then every gradient is 0).
        tensors (Sequence[Tensor]): what to differentiate with respect to.
        **kwargs: passed to :func:`torch.autograd.grad` (e.g. ``retain_graph``).
    """
    tensors = list(tensors)
    if not value.requires_grad:
        return [torch.zeros_like(t) for t in tensors]
    grads = torch.autograd.grad(value, tensors, allow_unused=True, **kwargs)
    return [torch.zeros_like(t) if g is None else g for t, g in zip(tensors, grads)]


def average_gradients(params) -> None:
    """Average the ``.grad`` of ``params`` over all ranks (nothing in a single process)."""
    if get_world_size() <= 1:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if grads:
        all_reduce_params(grads, coalesce=True, op='mean')


@MODELS.register_module()
class SoKD(SingleTeacherDistill):
    """Student-Oriented Knowledge Distillation (Shen et al., ACM MM 2024).

    ``SingleTeacherDistill`` with its own ``train_step``: the student trains on teacher
    knowledge refined by the distiller's DAFA policy and restricted to DAM's distinctive
    areas, and every ``search_interval``-th iteration the policy takes one step of the
    unrolled bi-level rule (:mod:`.unrolled`): a virtual SGD step of the student on the
    refined knowledge, the outer loss (task + base distillation loss on the *original*
    knowledge) at the virtual weights, and a finite-difference Hessian-vector product for the
    magnitudes; the discrete choices (sub-policy weights, apply probabilities) get DAFA's
    RELAX estimate with the outer loss as reward. The teacher runs once per iteration; the
    virtual student is evaluated with ``torch.func.functional_call`` on parameter dicts, never
    a copy of the detector, and with cloned buffers so that BN statistics are not touched.

    ``optim_wrapper`` must be an ``OptimWrapperDict`` with ``student`` (everything trainable
    but the policy) and ``policy`` (DAFA) entries: see ``SoKDOptimWrapperConstructor``.

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
        hvp_eps (float): finite-difference scale, ``e = hvp_eps / |v|``. Defaults to 0.01.
        outer_batch (str): data of the outer loss. ``'same'``: the batch of the inner step
            (the research code's choice). ``'previous'``: the previous iteration's batch, held
            out from the inner step (its inputs and teacher records are kept for one
            iteration; the first search iteration of a run, or of a resumed run, has none
            and takes no policy step). Defaults to 'same'.
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
                 hvp_eps: float = 0.01,
                 outer_batch: str = 'same',
                 **kwargs) -> None:
        if kwargs.get('teacher_trainable'):
            raise ValueError('SoKD refines a frozen teacher: teacher_trainable must be False')
        if teacher_forward not in ('extract_feat', 'loss'):
            raise ValueError(f"teacher_forward must be 'extract_feat' or 'loss', got "
                             f'{teacher_forward!r}')
        if outer_batch not in ('same', 'previous'):
            raise ValueError(f"outer_batch must be 'same' or 'previous', got {outer_batch!r}")
        if search_interval < 1:
            raise ValueError(f'search_interval must be >= 1, got {search_interval}')
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
        self.hvp_eps = hvp_eps
        self.outer_batch = outer_batch
        self._held_out = None  # (inputs, data_samples, teacher records) of the last batch
        # training steps taken; a buffer, so that it is checkpointed and a resumed run keeps
        # the search schedule (and all ranks agree on it)
        self.register_buffer('train_iter', torch.zeros((), dtype=torch.long))
        sources = [r.source for r in self.distiller.student_recorders.recorders.values()]
        # The policy gradient of the inner loss needs student features, not the head: with
        # recorders on backbone/neck only, the cheaper extract_feat suffices.
        self._student_feat_only = bool(sources) and all(
            s.split('.')[0] in ('backbone', 'neck') for s in sources)

    # ----------------------------------------------------------------- forward passes
    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        """MMRazor's modes plus the three passes of the bi-level step (used internally)."""
        if mode in (INNER, OUTER, INNER_DISTILL):
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
        original knowledge; ``INNER_DISTILL``: the refined distillation terms alone, with the
        student run without a graph (all the policy gradient of the inner loss needs).
        """
        self.distiller.set_deliveries_override(True)
        self.distiller.reset_augmentation()
        losses = dict()
        with self.distiller.student_recorders, self.distiller.deliveries:
            if mode == INNER_DISTILL:
                with torch.no_grad():
                    if self._student_feat_only:
                        self.student.extract_feat(inputs)
                    else:
                        self.student(inputs, data_samples, mode='loss')
            else:
                losses.update(add_prefix(self.student(inputs, data_samples, mode='loss'),
                                         'student'))
        if mode == OUTER:
            distill = self.distiller.compute_base_losses()
        else:
            distill = self.distiller.compute_distill_losses()
        losses.update(add_prefix(distill, 'distill'))
        return losses

    # ------------------------------------------------------------------- train step
    def train_step(self, data, optim_wrapper) -> Dict[str, Tensor]:
        """Preprocess the batch, then :meth:`train_step_preprocessed`."""
        self._split_optim_wrapper(optim_wrapper)  # a missing entry fails before any work
        data = self.data_preprocessor(data, True)
        return self.train_step_preprocessed(data['inputs'], data['data_samples'],
                                            optim_wrapper)

    def train_step_preprocessed(self, inputs: Tensor, samples,
                                optim_wrapper) -> Dict[str, Tensor]:
        """One student step every iteration; one policy step on search iterations.

        The step on a batch that has been through the data preprocessor (so that an
        algorithm built on SoKD, e.g. TST's, can change the batch in between).
        """
        student_ow, policy_ow = self._split_optim_wrapper(optim_wrapper)
        it = int(self.train_iter)
        self.train_iter += 1
        search = policy_ow is not None and self.search_at(it)
        with student_ow.optim_context(self):
            losses = self.loss(inputs, samples)
        loss, log_vars = self.parse_losses(losses)
        log_vars.update(self.distiller.mask_areas())  # before the search recomputes them
        held_out = self._held_out
        if self.outer_batch == 'previous':
            self._held_out = (inputs, samples, self._teacher_records())
            search = search and held_out is not None
        if search:
            policy_grad, policy_log = self._policy_gradient(loss, losses, inputs, samples,
                                                            student_ow, held_out)
            log_vars.update(policy_log)
        # OptimWrapper.update_params, with the gradients averaged across ranks before the
        # step (see SoKDDistributedDataParallel)
        student_ow.backward(student_ow.scale_loss(loss))
        if student_ow.should_update():
            average_gradients(self.student_side_parameters().values())
            student_ow.step()
            student_ow.zero_grad()
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
        if it < self.search_begin or (self.search_end is not None and it >= self.search_end):
            return False
        return (it - self.search_begin) % self.search_interval == 0

    def student_side_parameters(self) -> Dict[str, Tensor]:
        """``theta``: every trainable parameter but the teacher's and the policy's."""
        return {
            n: p
            for n, p in self.named_parameters()
            if p.requires_grad and not n.startswith(('teacher.', 'distiller.dafa.'))
        }

    def _teacher_records(self) -> Dict[str, list]:
        """The teacher recorders' current records (one list per recorder)."""
        return {name: list(rec.data_buffer)
                for name, rec in self.distiller.teacher_recorders.recorders.items()}

    def _use_teacher_records(self, records: Dict[str, list]) -> None:
        # MMRazor's recorders have no public setter for their buffer
        for name, rec in self.distiller.teacher_recorders.recorders.items():
            rec._data_buffer = list(records[name])

    @contextmanager
    def _teacher_knowledge(self, records: Dict[str, list]):
        """Within the block, losses read ``records`` as the teacher's; restored after."""
        current = self._teacher_records()
        self._use_teacher_records(records)
        try:
            yield
        finally:
            self._use_teacher_records(current)

    def _policy_gradient(self, loss: Tensor, losses: Dict[str, Tensor], inputs, samples,
                         student_ow: OptimWrapper,
                         held_out=None) -> Tuple[tuple, Dict[str, Tensor]]:
        """The unrolled gradient of the magnitudes and the RELAX reward (see :mod:`.unrolled`).

        Args:
            held_out (tuple, optional): (inputs, data samples, teacher records) of the outer
                loss's batch with ``outer_batch='previous'``; None: the inner step's batch.

        Returns:
            tuple: ((magnitude gradient, reward), log variables).
        """
        dafa = self.distiller.dafa
        theta = self.student_side_parameters()
        # the student's own update (after this) backpropagates the same graph again, through
        # its optim wrapper, so that loss scaling and gradient accumulation stay exact
        grads = grads_or_zeros(loss, theta.values(), retain_graph=True)
        buffers = {n: b.clone() for n, b in self.named_buffers() if not n.startswith('teacher.')}
        lr = self.virtual_lr if self.virtual_lr is not None else student_ow.get_lr()['lr'][0]

        def run(params, mode, data=(inputs, samples)):
            with student_ow.optim_context(self):
                out = functional_call(self, {**params, **buffers}, data, {'mode': mode})
            return self.parse_losses(out)[0]

        def on_outer_batch():
            """The outer loss's data: the inner batch, or the held-out one's knowledge."""
            return nullcontext() if held_out is None else self._teacher_knowledge(held_out[2])

        outer_data = (inputs, samples) if held_out is None else held_out[:2]
        with torch.no_grad():  # reward baseline: the outer loss before the virtual step
            if held_out is None:  # the inner forward already recorded everything it needs
                before = {k: v for k, v in losses.items() if k.startswith('student.')}
                before.update(add_prefix(self.distiller.compute_base_losses(), 'distill'))
                outer_before = self.parse_losses(before)[0]
            else:
                with on_outer_batch():
                    outer_before = run({n: p.detach() for n, p in theta.items()}, OUTER,
                                       outer_data)

        def outer_at(params):
            params = {n: p.requires_grad_() for n, p in params.items()}
            with on_outer_batch():
                value = run(params, OUTER, outer_data)
            return value, grads_or_zeros(value, params.values())

        def magnitude_grad_at(params):
            # no graph when the draw applied no op: nothing depends on the magnitudes
            return grads_or_zeros(run(params, INNER_DISTILL), [dafa.magnitudes])

        (grad_m, ), outer_after = unrolled_policy_gradient(outer_at, magnitude_grad_at, theta,
                                                            grads, lr, self.hvp_eps)
        reward = float(outer_after - outer_before)
        log = {
            'policy/outer_before': outer_before.detach(),
            'policy/outer_after': outer_after,
            'policy/reward': torch.tensor(reward),
            'policy/grad_norm_magnitude': grad_m.norm().detach(),
        }
        return (grad_m.detach(), reward), log

    def _policy_update(self, policy_ow: OptimWrapper, grad_m: Tensor, reward: float) -> None:
        """One policy step: unrolled magnitude gradient + RELAX for weights/probabilities."""
        dafa = self.distiller.dafa
        policy_ow.zero_grad()
        dafa.magnitudes.grad = grad_m
        dafa.relax_grads(reward)
        average_gradients(dafa.parameters())  # every rank must take the same policy step
        policy_ow.step()
        dafa.clamp_()
