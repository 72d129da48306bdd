"""DAFA: the Differentiable Automatic Feature Augmentation module of SoKD."""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmrazor.registry import MODELS
from torch import Tensor, nn

from .feature_ops import FeatureOp, build_ops
from .policy import (Outcome, PolicyNoise, build_control_variate, check_estimator, draw_noise,
                     enumerate_sub_policies, relax_gradient, sample_outcome)

DEFAULT_OPS = ('ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate', 'Cutout', 'Noise',
               'ChannelShuffle', 'ChannelDrop')
DRAWS = ('batch', 'image')
# Seeds for the per-forward generators are drawn below 2**62 so that they fit an int64.
_SEED_HIGH = 2**62


class _Draw(NamedTuple):
    """One policy draw (see :meth:`DAFA.resample`)."""

    noise: PolicyNoise  # on the parameters' device, float64
    outcome: Outcome  # on the parameters' device
    index: Tensor  # (n,) chosen sub-policy per draw, CPU
    row_flags: Tensor  # (n, K) bool, the chosen sub-policy's apply flags, CPU
    param_seed: int  # seeds the op parameters (signs, centres, channel scores)
    noise_seed: int  # seeds the Noise op's per-level Gaussian fields
    batch_size: int


@MODELS.register_module()
class DAFA(nn.Module):
    """Differentiable Automatic Feature Augmentation (SoKD, Shen et al., ACM MM 2024).

    Holds the augmentation policy ``chi = (w, p, m)`` over the S sub-policies (ordered
    K-tuples of distinct feature ops, :func:`~.policy.enumerate_sub_policies`) and the RELAX
    control variate, and applies a sampled sub-policy to the teacher's feature levels. The
    policy is searched as in DADA (Li et al., ECCV 2020): magnitudes get gradients through
    the ops (straight-through where an op is not differentiable), the discrete choice and
    flags get the RELAX estimate (Grathwohl et al., ICLR 2018) from :meth:`relax_grads`.

    Usage per iteration: :meth:`resample` (one draw), :meth:`forward` on the feature levels
    (any number of times: between two draws it is a deterministic function of the features
    and the magnitudes, which the unrolled policy step relies on), :meth:`relax_grads` with
    the outer loss, the policy optimiser's step, then :meth:`clamp_`.

    The sampling uses a CPU ``torch.Generator`` seeded with ``seed``: it does not depend on
    the device, every DDP rank draws the same sub-policy, and its state is part of the
    ``state_dict`` (extra state), so a resumed run continues the same sequence.

    Args:
        ops (Sequence[str]): names of the feature ops, see
            :data:`~sokd_mmdet.models.sokd.dafa.feature_ops.FEATURE_OPS`. Defaults to the
            nine ops of the research code: ``('ShearX', 'ShearY', 'TranslateX',
            'TranslateY', 'Rotate', 'Cutout', 'Noise', 'ChannelShuffle', 'ChannelDrop')``.
        num_ops (int): K, ops per sub-policy. Defaults to 2 (36 sub-policies from 9 ops).
        draw (str): ``'batch'``: one sub-policy for the whole batch; ``'image'``: one per
            image. Defaults to ``'batch'``.
        estimator (str): gradient estimator of ``(w, p)``: ``'relax'`` (learned control
            variate) or ``'reinforce'`` (plain score function, no control variate; for
            ablations). Defaults to ``'relax'``.
        temperature (float): temperature of the relaxation fed to the control variate.
            Defaults to 0.5.
        cv_hidden (int): hidden width of the control variate, an MLP
            Linear(S * 2^K, cv_hidden)-ReLU-Linear(cv_hidden, 1) over the relaxed
            (sub-policy, flags) outcome. Defaults to 64.
        init_prob (float): initial apply probability of every op. Defaults to 0.5.
        init_magnitude (float): initial magnitude of every op. Defaults to 0.5.
        prob_eps (float): :meth:`clamp_` keeps probabilities in [eps, 1 - eps], so every
            outcome stays possible and the score function finite. Defaults to 1e-3.
        seed (int): seed of the policy's generator (the same on every rank). Defaults to 0.

    Attributes:
        weights (nn.Parameter): (S,) logits ``w`` of the sub-policy choice, init 0.
        probs (nn.Parameter): (S, K) apply probabilities ``p``.
        magnitudes (nn.Parameter): (S, K) magnitudes ``m`` in [0, 1].
        control_variate (nn.Module | None): the RELAX control variate (None for
            ``'reinforce'``).
        sub_policies (Tensor): (S, K) op indices of each sub-policy (buffer, not saved).
        enabled (bool): when False, :meth:`forward` returns its input unchanged (to evaluate
            on un-augmented knowledge).
    """

    def __init__(self,
                 ops: Sequence[str] = DEFAULT_OPS,
                 num_ops: int = 2,
                 draw: str = 'batch',
                 estimator: str = 'relax',
                 temperature: float = 0.5,
                 cv_hidden: int = 64,
                 init_prob: float = 0.5,
                 init_magnitude: float = 0.5,
                 prob_eps: float = 1e-3,
                 seed: int = 0):
        super().__init__()
        self.feature_ops: List[FeatureOp] = build_ops(ops)
        self.op_names = tuple(op.name for op in self.feature_ops)
        if draw not in DRAWS:
            raise ValueError(f"DAFA draw must be one of {DRAWS}, got '{draw}'")
        self.estimator = check_estimator(estimator)
        if not 0 < prob_eps < 0.5:
            raise ValueError(f'DAFA prob_eps must be in (0, 0.5), got {prob_eps}')
        if not prob_eps <= init_prob <= 1 - prob_eps:
            raise ValueError(f'DAFA init_prob must be in [prob_eps, 1 - prob_eps] = '
                             f'[{prob_eps}, {1 - prob_eps}], got {init_prob}')
        if not 0 <= init_magnitude <= 1:
            raise ValueError(f'DAFA init_magnitude must be in [0, 1], got {init_magnitude}')
        if temperature <= 0:
            raise ValueError(f'DAFA temperature must be > 0, got {temperature}')
        self.draw = draw
        self.temperature = float(temperature)
        self.prob_eps = float(prob_eps)
        self.seed = int(seed)
        self.enabled = True

        self.register_buffer(
            'sub_policies',
            enumerate_sub_policies(len(self.feature_ops), num_ops),
            persistent=False)
        s, k = self.sub_policies.shape
        self.weights = nn.Parameter(torch.zeros(s))
        self.probs = nn.Parameter(torch.full((s, k), float(init_prob)))
        self.magnitudes = nn.Parameter(torch.full((s, k), float(init_magnitude)))
        self.control_variate = (
            build_control_variate(s, k, cv_hidden) if estimator == 'relax' else None)

        self._generator = torch.Generator()
        self._generator.manual_seed(self.seed)
        self._draw: Optional[_Draw] = None
        self._param_cache: Dict[Tuple, Dict[str, Dict[str, Tensor]]] = {}

    @property
    def num_sub_policies(self) -> int:
        """S, the number of sub-policies."""
        return self.sub_policies.shape[0]

    def sub_policy_name(self, k: int) -> str:
        """Name of sub-policy ``k``, its ops joined by '+' (e.g. ``'Rotate+Cutout'``)."""
        return '+'.join(self.op_names[j] for j in self.sub_policies[k].tolist())

    def sub_policy_index(self, ops: Sequence[str]) -> int:
        """Index of the sub-policy made of ``ops``, in order (e.g. ``('Rotate', 'Cutout')``).

        Raises:
            ValueError: no sub-policy has these ops in this order.
        """
        name = '+'.join(ops)
        for k in range(self.num_sub_policies):
            if self.sub_policy_name(k) == name:
                return k
        raise ValueError(f'DAFA has no sub-policy {name!r}: sub-policies are ordered as the '
                         f'ops are listed, {self.op_names}')

    def policy_parameters(self) -> Tuple[nn.Parameter, nn.Parameter, nn.Parameter]:
        """The policy parameters ``(weights, probs, magnitudes)`` for the policy optimiser.

        The control variate's parameters (``control_variate.parameters()``) are trained by
        the same optimiser but are not part of the policy.
        """
        return self.weights, self.probs, self.magnitudes

    # --- sampling ---------------------------------------------------------------------
    def resample(self, batch_size: int) -> None:
        """Draw a new sub-policy (one per batch, or one per image with ``draw='image'``).

        Draws the policy noise, the outcome (chosen sub-policy and apply flags, from the
        current ``weights`` and ``probs``) and the seeds of the ops' random parameters, all
        on the CPU generator, so the draw does not depend on the parameters' device.

        Args:
            batch_size (int): number of images the next :meth:`forward` calls receive.
        """
        n = 1 if self.draw == 'batch' else int(batch_size)
        s, k = self.sub_policies.shape
        noise = draw_noise(n, s, k, self._generator)
        outcome = sample_outcome(self.weights.detach().cpu().double(),
                                 self.probs.detach().cpu().double(), noise)
        seeds = torch.randint(0, _SEED_HIGH, (2, ), generator=self._generator).tolist()
        device = self.weights.device
        self._draw = _Draw(
            noise=noise.to(device),
            outcome=outcome.to(device),
            index=outcome.index,
            row_flags=outcome.flags,
            param_seed=seeds[0],
            noise_seed=seeds[1],
            batch_size=int(batch_size))
        self._param_cache = {}

    @property
    def last_draw(self) -> Tuple[Tensor, Tensor]:
        """The current draw: chosen sub-policy (n,) and its apply flags (n, K), on CPU."""
        draw = self._require_draw()
        return draw.index, draw.row_flags

    def _require_draw(self) -> _Draw:
        if self._draw is None:
            raise RuntimeError('DAFA has no policy draw yet: call resample(batch_size) before '
                               'forward() or relax_grads()')
        return self._draw

    def op_params(self, batch_size: int, channels: int,
                  device: Union[str, torch.device]) -> Dict[str, Dict[str, Tensor]]:
        """Random parameters of every op for the current draw, shared by all levels.

        Sampled on the CPU from the draw's seed (so repeated calls agree), then moved to
        ``device``; cached per (batch_size, channels, device) until the next draw.

        Args:
            batch_size (int): N of the feature levels.
            channels (int): C of the feature levels.
            device (str | torch.device): device of the feature levels.

        Returns:
            dict[str, dict[str, Tensor]]: op name -> the op's ``sample`` output.
        """
        draw = self._require_draw()
        key = (batch_size, channels, torch.device(device))
        if key not in self._param_cache:
            # One generator per op: the channel scores' length depends on C, and must not
            # shift the signs or centres of the other ops between levels of different C.
            seeds = torch.randint(
                0,
                _SEED_HIGH, (len(self.feature_ops), ),
                generator=torch.Generator().manual_seed(draw.param_seed)).tolist()
            params = {}
            for op, seed in zip(self.feature_ops, seeds):
                sampled = op.sample(batch_size, channels, torch.Generator().manual_seed(seed))
                params[op.name] = {name: t.to(device) for name, t in sampled.items()}
            self._param_cache[key] = params
        return self._param_cache[key]

    # --- augmentation -----------------------------------------------------------------
    def _plan(self, draw: _Draw, device: torch.device) -> List[Tuple[int, Optional[Tensor], list]]:
        """Groups of images sharing a sub-policy: (k, image index or None for all, steps).

        Each step is (position i, op, index within the group or None for all of it);
        indices are on ``device``. Decided on the CPU copy of the draw: no device sync.
        """
        if self.draw == 'batch':
            k = int(draw.index[0])
            steps = [(i, self.feature_ops[j], None)
                     for i, j in enumerate(self.sub_policies[k].tolist())
                     if bool(draw.row_flags[0, i])]
            return [(k, None, steps)] if steps else []
        plan = []
        # A loop over the distinct sub-policies present (at most min(N, S)), not over images.
        for k in draw.index.unique().tolist():
            members = (draw.index == k).nonzero()[:, 0]
            flags = draw.row_flags[members]
            steps = []
            for i, j in enumerate(self.sub_policies[k].tolist()):
                if flags[:, i].all():
                    steps.append((i, self.feature_ops[j], None))
                elif flags[:, i].any():
                    steps.append((i, self.feature_ops[j], flags[:, i].nonzero()[:, 0].to(device)))
            if steps:
                plan.append((k, members.to(device), steps))
        return plan

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """Apply the drawn sub-policy to every feature level.

        Each op of the drawn sub-policy whose flag is 1 is applied in order, with magnitude
        ``magnitudes[k, i]`` (so the gradient reaches the magnitudes of the applied ops)
        and the same random parameters on every level.

        Args:
            feats (Sequence[Tensor]): feature levels, each (N, C_l, H_l, W_l).

        Returns:
            tuple[Tensor]: augmented levels, same shapes; the input levels when
            ``enabled`` is False or no op is applied.
        """
        feats = tuple(feats)
        if not self.enabled or not feats:
            return feats
        draw = self._require_draw()
        n = feats[0].shape[0]
        if any(x.dim() != 4 or x.shape[0] != n for x in feats):
            raise ValueError('DAFA expects feature levels of shape (N, C, H, W) with the same '
                             f'N, got {[tuple(x.shape) for x in feats]}')
        if self.draw == 'image' and n != draw.batch_size:
            raise ValueError(f"DAFA(draw='image') drew {draw.batch_size} sub-policies but got "
                             f'{n} images: call resample({n}) for this batch')
        device = feats[0].device
        plan = self._plan(draw, device)
        if not plan:
            return feats

        # One generator per forward, seeded by the draw: repeated forwards in the same
        # iteration see the same noise, and each level gets its own field.
        noise_gen = torch.Generator(device=device).manual_seed(draw.noise_seed)
        outs = []
        for x in feats:
            params = self.op_params(n, x.shape[1], device)
            out = x
            for k, members, steps in plan:
                if members is None:
                    xg, pg = x, params
                else:
                    xg = x.index_select(0, members)
                    pg = {
                        op: {
                            key: t[members]
                            for key, t in p.items()
                        }
                        for op, p in params.items()
                    }
                xg = self._apply_steps(xg, k, steps, pg, noise_gen)
                out = xg if members is None else out.index_copy(0, members, xg)
            outs.append(out)
        return tuple(outs)

    def _apply_steps(self, x: Tensor, k: int, steps: list, params: Dict[str, Dict[str, Tensor]],
                     noise_gen: torch.Generator) -> Tensor:
        """Apply the flagged ops of sub-policy ``k`` in order to a group of images."""
        for i, op, sel in steps:
            magnitude = self.magnitudes[k, i]
            if sel is None:
                x = op.apply(x, magnitude, params[op.name], noise_gen)
            else:
                sub = {key: t[sel] for key, t in params[op.name].items()}
                x = x.index_copy(0, sel, op.apply(x[sel], magnitude, sub, noise_gen))
        return x

    # --- policy gradient --------------------------------------------------------------
    def relax_grads(self, reward: Union[float, Tensor]) -> None:
        """Accumulate the policy gradient of the current draw into ``.grad``.

        Sets (accumulating onto existing gradients) ``weights.grad`` and ``probs.grad`` to
        the RELAX estimate of ``d E[reward] / d(w, p)`` (REINFORCE for
        ``estimator='reinforce'``), and the control variate's ``.grad`` to the gradient of
        the estimate's variance surrogate (:func:`~.policy.relax_gradient`). ``magnitudes``
        is left untouched: it gets its gradient by autograd through :meth:`forward`.

        Args:
            reward (float | Tensor): the scalar whose expectation the policy *minimises*
                (the outer loss of the draw, on un-augmented knowledge). Pass it for the
                draw made by the last :meth:`resample`, before the policy parameters change.
        """
        draw = self._require_draw()
        g_w, g_p, cv_grads = relax_gradient(
            float(reward), self.weights, self.probs, draw.noise, draw.outcome,
            self.control_variate, self.temperature)
        targets = [self.weights, self.probs]
        grads = [g_w, g_p]
        if self.control_variate is not None:
            targets += [q for q in self.control_variate.parameters() if q.requires_grad]
            grads += list(cv_grads)
        for param, grad in zip(targets, grads):
            grad = grad.to(param.dtype)
            if param.grad is None:
                param.grad = grad.clone()
            else:
                param.grad.add_(grad)

    @torch.no_grad()
    def clamp_(self) -> None:
        """Project the policy back into its domain after an optimiser step.

        ``probs`` into [prob_eps, 1 - prob_eps], ``magnitudes`` into [0, 1].

        Raises:
            FloatingPointError: a policy parameter holds a NaN or an infinity (clamping
                would keep the NaN, and every later draw would sample from it).
        """
        for name, param in (('weights', self.weights), ('probs', self.probs), ('magnitudes',
                                                                               self.magnitudes)):
            if not bool(torch.isfinite(param).all()):
                raise FloatingPointError(f'DAFA.{name} holds a non-finite value after the '
                                         'policy step; the policy optimiser received a NaN')
        self.probs.clamp_(self.prob_eps, 1 - self.prob_eps)
        self.magnitudes.clamp_(0.0, 1.0)

    # --- logging ----------------------------------------------------------------------
    @torch.no_grad()
    def policy_summary(self, topk: int = 5) -> dict:
        """Summary of the current policy, for logging.

        Args:
            topk (int): number of most likely sub-policies to list.

        Returns:
            dict: ``apply_prob``: op name -> expected probability that a draw applies the
            op, ``sum_k pi_k sum_i p_{k,i} [op_{k,i} = op]``; ``magnitude``: op name -> mean
            magnitude of the op weighted by ``pi_k p_{k,i}``; ``top_sub_policies``: list of
            ``(name, pi_k)`` of the ``topk`` most likely sub-policies, e.g.
            ``('Rotate+Cutout', 0.03)``.
        """
        pi = F.softmax(self.weights.double(), dim=0).cpu()
        weight = pi[:, None] * self.probs.double().cpu()  # (S, K)
        member = F.one_hot(self.sub_policies.cpu(), len(self.op_names)).double()  # (S, K, O)
        apply_prob = torch.einsum('sk,sko->o', weight, member)
        weighted_mag = torch.einsum('sk,sko->o', weight * self.magnitudes.double().cpu(), member)
        magnitude = weighted_mag / apply_prob.clamp(min=torch.finfo(torch.float64).tiny)
        top = pi.topk(min(topk, pi.numel()))
        return {
            'apply_prob':
            dict(zip(self.op_names, apply_prob.tolist())),
            'magnitude':
            dict(zip(self.op_names, magnitude.tolist())),
            'top_sub_policies': [(self.sub_policy_name(k), v)
                                 for k, v in zip(top.indices.tolist(), top.values.tolist())],
        }

    # --- state ------------------------------------------------------------------------
    def get_extra_state(self) -> Tensor:
        """The sampling generator's state (a uint8 tensor), saved in the ``state_dict``.

        A tensor rather than a dict, so checkpoint code that calls ``.cpu()`` on every
        ``state_dict`` value (MMEngine's) and ``torch.load(weights_only=True)`` accept it.
        """
        return self._generator.get_state()

    def set_extra_state(self, state: Tensor) -> None:
        """Restore the sampling generator (see :meth:`get_extra_state`); drops the draw."""
        self._generator.set_state(state.detach().cpu().to(torch.uint8))
        self._draw = None
        self._param_cache = {}

    def extra_repr(self) -> str:
        s, k = self.sub_policies.shape
        return (f'ops={self.op_names}, num_ops={k}, sub_policies={s}, draw={self.draw!r}, '
                f'estimator={self.estimator!r}, temperature={self.temperature}, '
                f'seed={self.seed}')
