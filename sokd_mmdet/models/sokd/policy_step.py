"""SoKD's policy step: the unrolled magnitude gradient, RELAX's reward, the guarded update.

A mixin of :class:`~.sokd.SoKD` (the algorithm's ``train_step`` calls it on search
iterations); the math is in :mod:`.unrolled` and :mod:`.virtual_steps`, the passes here run
the model's loss modes on parameter dicts (``torch.func.functional_call``). What it computes
and how it is tested: ``docs/policy_step.md``.
"""
import math
from contextlib import contextmanager, nullcontext
from functools import partial
from typing import Dict, Optional, Tuple

import torch
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmrazor.models.utils import add_prefix
from torch import Tensor
from torch.func import functional_call

from ..steps import average_gradients
from .gradients import grads_or_none, grads_or_zeros, zeros_for_none
from .unrolled import (finite_difference_mixed_product, gradient_mixed_product,
                       recomputed_mixed_product, unrolled_policy_gradient)
from .virtual_steps import optimizer_step, sgd_step

INNER, OUTER, INNER_DISTILL = 'sokd_inner', 'sokd_outer', 'sokd_inner_distill'
INNER_DISTILL_GRAPH = 'sokd_inner_distill_graph'  # INNER_DISTILL with the student's graph
HVPS = ('exact', 'exact_recompute', 'finite_difference')
REWARD_BASELINES = ('unaugmented_step', 'before_step')
OUTER_OBJECTIVES = ('task+base', 'task')


def float32_records(records: Dict[str, list]) -> Dict[str, list]:
    """Recorder records with every half-precision tensor (also inside tuples) in float32."""

    def widen(value):
        if isinstance(value, Tensor) and value.dtype in (torch.float16, torch.bfloat16):
            return value.float()
        if isinstance(value, (tuple, list)):
            return type(value)(widen(v) for v in value)
        return value

    return {name: [widen(r) for r in recs] for name, recs in records.items()}


@contextmanager
def random_stream(seed: Optional[int], device: torch.device):
    """Within the block, torch's global random stream restarts from ``seed``; restored after.

    The passes of one policy step evaluate one function only if the student's own random
    choices (a two-stage detector's proposal and RoI sampling) are the same in each: every
    pass runs under the seed the inner forward ran under. None: no change.
    """
    if seed is None:
        yield
        return
    devices = [device.index or 0] if device.type == 'cuda' else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


class PolicyStepMixin:
    """The policy step of :class:`~.sokd.SoKD` (see the module docstring).

    Expects the algorithm's ``distiller`` (a ``SoKDDistiller``), ``student_side_parameters``,
    ``_teacher_records``/``_teacher_knowledge``, the loss modes ``INNER``/``OUTER``/
    ``INNER_DISTILL``/``INNER_DISTILL_GRAPH`` of its ``forward``, and the settings ``hvp``,
    ``hvp_eps``, ``virtual_step``, ``virtual_lr``, ``reward_baseline``, ``outer_objective``
    and ``skipped_policy_steps``.
    """

    def _policy_gradient(self,
                         loss: Tensor,
                         losses: Dict[str, Tensor],
                         inputs,
                         samples,
                         student_ow: OptimWrapper,
                         held_out=None,
                         seed: Optional[int] = None) -> Tuple[tuple, Dict[str, Tensor], list]:
        """The unrolled gradient of the magnitudes and the RELAX reward (see :mod:`.unrolled`).

        Every pass holds the DAM masks of this draw, runs in float32 (autocast off) and, with
        ``seed``, draws the student's own random choices from the stream the inner forward
        used (:func:`random_stream`).

        Args:
            held_out (tuple, optional): (inputs, data samples, teacher records) of the outer
                loss's batch with ``outer_batch='previous'``; None: the inner step's batch.
            seed (int, optional): the seed the inner forward ran under; None: the passes
                draw from the global stream.

        Returns:
            tuple: ((magnitude gradient, reward), log variables, the student's gradient).
            The last is ``grad_theta`` of ``loss`` in the order of
            ``student_side_parameters()`` (None where ``loss`` does not reach a parameter),
            taken for the virtual step and handed back so that the student's own update
            reuses it instead of backpropagating the same graph again; None under mixed
            precision, where the policy step's gradient is a float32 one and the student's
            update backpropagates the AMP graph itself.
        """
        device = inputs.device.type
        if held_out is not None:
            held_out = (*held_out[:2], float32_records(held_out[2]))
        # teacher records of an autocast forward are in half precision: widen them
        with self.distiller.hold_masks(), torch.autocast(device, enabled=False), \
                self._teacher_knowledge(float32_records(self._teacher_records())):
            return self._float32_policy_gradient(loss, losses, inputs, samples, student_ow,
                                                 held_out, seed)

    def _float32_policy_gradient(self, loss, losses, inputs, samples, student_ow, held_out, seed):
        dafa = self.distiller.dafa
        theta = self.student_side_parameters()
        buffers = {n: b.clone() for n, b in self.named_buffers() if not n.startswith('teacher.')}

        def run(params, mode, data=(inputs, samples)):
            with random_stream(seed, inputs.device):
                out = functional_call(self, {**params, **buffers}, data, {'mode': mode})
            return self.parse_losses(out)[0]

        # MMEngine's AmpOptimWrapper and the CPU autocast wrapper both carry cast_dtype
        mixed_precision = (
            loss.dtype in (torch.float16, torch.bfloat16)
            or getattr(student_ow, 'cast_dtype', None) is not None)
        if mixed_precision:  # the inner gradient again, in float32
            loss = run(dict(theta), INNER)
            losses = None
        # for the exact product the gradient keeps its graph (differentiated again in chi);
        # otherwise the inner forward's graph is freed here: the student's update reuses
        # this gradient (see the return value), so nothing backpropagates it again
        exact = self.hvp == 'exact'
        raw_grads = grads_or_none(loss, theta.values(), retain_graph=exact, create_graph=exact)
        grads = zeros_for_none(list(theta.values()), raw_grads)
        student_grads = None if mixed_precision else [
            None if g is None else g.detach() for g in raw_grads
        ]

        def on_outer_batch():
            """The outer loss's data: the inner batch, or the held-out one's knowledge."""
            return nullcontext() if held_out is None else self._teacher_knowledge(held_out[2])

        outer_data = (inputs, samples) if held_out is None else held_out[:2]
        outer_before = None  # the outer loss before the virtual step: free on the same batch
        with torch.no_grad():
            if held_out is None and losses is not None:  # the inner forward recorded it all
                before = {k: v for k, v in losses.items() if k.startswith('student.')}
                if self.outer_objective != 'task':
                    before.update(add_prefix(self.distiller.compute_base_losses(), 'distill'))
                outer_before = self.parse_losses(before)[0]
                if outer_before.dtype in (torch.float16, torch.bfloat16):  # an AMP forward's
                    outer_before = outer_before.float()
            elif self.reward_baseline == 'before_step':  # one more pass, for the reward
                with on_outer_batch():
                    outer_before = run({
                        n: p.detach()
                        for n, p in theta.items()
                    }, OUTER, outer_data)

        def outer_at(params):
            params = {n: p.requires_grad_() for n, p in params.items()}
            with on_outer_batch():
                value = run(params, OUTER, outer_data)
            return value, grads_or_zeros(value, params.values())

        if exact:  # from the inner forward's own graph: no further student pass

            def mixed(params, u):
                return gradient_mixed_product(grads, [dafa.magnitudes], u)
        elif self.hvp == 'exact_recompute':  # the same product from a new distillation pass

            def mixed(params, u):
                return recomputed_mixed_product(lambda p: run(p, INNER_DISTILL_GRAPH),
                                                [dafa.magnitudes], params, u)
        else:
            # no graph when the draw applied no op: nothing depends on the magnitudes
            mixed = partial(
                finite_difference_mixed_product,
                lambda p: grads_or_zeros(run(p, INNER_DISTILL), [dafa.magnitudes]),
                eps=self.hvp_eps)
        step = self._virtual_update(student_ow, theta)
        (grad_m, ), outer_after = unrolled_policy_gradient(outer_at, mixed, theta, grads, step)
        log = {}
        if self.reward_baseline == 'unaugmented_step':
            # the same virtual step on the knowledge as it is (DAFA off, DAM's masks of the
            # un-augmented features): a baseline that does not depend on the draw
            with self.distiller.released_masks(), self.distiller.dafa_off():
                plain = run(dict(theta), INNER)
            plain_grads = grads_or_zeros(plain, theta.values())
            virtual = {
                n: p.detach() + d.detach()
                for (n, p), d in zip(theta.items(), step(plain_grads))
            }
            with torch.no_grad(), on_outer_batch():
                baseline = run(virtual, OUTER, outer_data)
            log['policy/outer_unaugmented'] = baseline.detach()
        else:
            baseline = outer_before
        reward = float(outer_after - baseline)
        if outer_before is not None:
            log['policy/outer_before'] = outer_before.detach()
        log.update({
            'policy/outer_after': outer_after,
            'policy/reward': torch.tensor(reward),
            'policy/grad_norm_magnitude': grad_m.norm().detach(),
        })
        return (grad_m.detach(), reward), log, student_grads

    def _virtual_update(self, student_ow: OptimWrapper, theta: Dict[str, Tensor]):
        """The virtual step's ``g -> delta(g)`` (see :mod:`.virtual_steps`)."""
        lr = student_ow.get_lr()['lr'][0]
        if self.virtual_step == 'sgd':
            return sgd_step(self.virtual_lr if self.virtual_lr is not None else lr)
        clip = getattr(student_ow, 'clip_grad_kwargs', None) or None
        if clip is not None and student_ow.clip_func is not torch.nn.utils.clip_grad_norm_:
            raise ValueError("virtual_step='optimizer' follows norm clipping only; the student "
                             "optim wrapper clips by value: use virtual_step='sgd'")
        step = optimizer_step(student_ow.optimizer, list(theta.values()), clip)
        if self.virtual_lr is None:
            return step
        return step.scaled(self.virtual_lr / lr)

    def _policy_step_is_finite(self, grad_m: Tensor, reward: float, it: int) -> bool:
        """False (with a warning, counted) when the policy step would bring a NaN/inf."""
        if bool(torch.isfinite(grad_m).all()) and math.isfinite(reward):
            return True
        self.skipped_policy_steps += 1
        print_log(
            f'SoKD: iteration {it}: the policy step is not finite (magnitude gradient '
            f'norm {float(grad_m.norm())}, reward {reward}); skipped it, the policy '
            f'is unchanged ({self.skipped_policy_steps} skipped so far)',
            logger='current',
            level=30)
        return False

    def _policy_update(self, policy_ow: OptimWrapper, grad_m: Tensor, reward: float) -> None:
        """One policy step: unrolled magnitude gradient + RELAX for weights/probabilities."""
        dafa = self.distiller.dafa
        policy_ow.zero_grad()
        dafa.magnitudes.grad = grad_m
        dafa.relax_grads(reward)
        average_gradients(dafa.parameters())  # every rank must take the same policy step
        policy_ow.step()
        dafa.clamp_()
