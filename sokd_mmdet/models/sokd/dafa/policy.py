"""DAFA's augmentation policy: sub-policies, relaxed sampling and the RELAX gradient.

A sub-policy is an ordered tuple of ``K`` distinct feature ops. The policy has parameters
``w`` (S,) (logits of the categorical choice among the S sub-policies), ``p`` (S, K) (the
probability that each op of a sub-policy is applied) and ``m`` (S, K) (magnitudes; they get
ordinary gradients through the ops and do not appear here).

A draw is the choice ``k`` *and the K apply flags of that sub-policy*: one outcome of a
categorical over the ``C = S * 2^K`` pairs ``(k, b)``, with log-probability
``log pi_k + sum_i [b_i log p_ki + (1 - b_i) log(1 - p_ki)]`` (:func:`joint_log_probs`). Only
what the draw uses is random: the flags of the sub-policies not drawn are never sampled, so
the score function holds the drawn sub-policy's choice and its K flags only (an earlier
form drew all S*K flags, and 70 of the 72 score terms were pure noise).

The outcome is discrete, so ``(w, p)`` get a score-function gradient with a learned control
variate: RELAX (Grathwohl et al., "Backpropagation through the Void", ICLR 2018), as DADA does
for image augmentation (Li et al., ECCV 2020). RELAX needs a continuous relaxation ``z`` whose
hard threshold ``H(z)`` is the outcome and a sample ``z~`` of it conditioned on the outcome
(REBAR, Tucker et al. 2017); for the categorical over pairs both are Gumbel-max: ``z_j =
theta_j - log(-log u_j)``, ``(k, b) = argmax z``, ``z~`` from the other half of the noise.
Both are functions of stored uniform noise, so they can be rebuilt with a graph after the
outcome has been used.

All functions accept parameters of shape (S,)/(S, K) (shared by the n draws) or
(n, S)/(n, S, K) (one copy per draw, which is how per-draw gradients are computed).
"""
import itertools
from typing import NamedTuple, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    'ESTIMATORS', 'PolicyNoise', 'Outcome', 'enumerate_sub_policies', 'check_estimator',
    'flag_patterns', 'joint_log_probs', 'draw_noise', 'relaxed_sample', 'sample_outcome',
    'conditional_relaxed_sample', 'log_prob', 'control_variate_input', 'build_control_variate',
    'relax_gradient', 'relax_gradient_per_draw'
]

ESTIMATORS = ('relax', 'reinforce')


class PolicyNoise(NamedTuple):
    """Uniform(0, 1) noise of ``n`` policy draws over the ``C = S * 2^K`` outcomes.

    Attributes:
        u (Tensor): (n, C) noise of the sample ``z``.
        v (Tensor): (n, C) noise of the conditional sample ``z~``.
    """

    u: Tensor
    v: Tensor

    def to(self, *args, **kwargs) -> 'PolicyNoise':
        """Move/cast every field (arguments as for :meth:`torch.Tensor.to`)."""
        return PolicyNoise(*(t.to(*args, **kwargs) for t in self))


class Outcome(NamedTuple):
    """Discrete outcome of ``n`` policy draws.

    Attributes:
        index (Tensor): (n,) long, the chosen sub-policy ``k`` of each draw.
        flags (Tensor): (n, K) bool, the apply flags of the chosen sub-policy.
    """

    index: Tensor
    flags: Tensor

    def to(self, *args, **kwargs) -> 'Outcome':
        """Move every field to a device (arguments as for :meth:`torch.Tensor.to`)."""
        return Outcome(*(t.to(*args, **kwargs) for t in self))

    def joint(self) -> Tensor:
        """(n,) index of the outcome among the ``S * 2^K`` pairs: ``k * 2^K + sum b_i 2^i``."""
        k = self.flags.shape[-1]
        bits = (self.flags.long() << torch.arange(k, device=self.flags.device)).sum(-1)
        return self.index * 2**k + bits


def enumerate_sub_policies(num_ops: int, k: int) -> Tensor:
    """All sub-policies of ``k`` distinct ops out of ``num_ops``, in lexicographic order.

    Ops are applied in the order of the tuple, so ``(a, b)`` and ``(b, a)`` are not both
    listed (``itertools.combinations``: 9 ops, k=2 gives 36 sub-policies).

    Args:
        num_ops (int): number of available ops.
        k (int): ops per sub-policy, 1 <= k <= num_ops.

    Returns:
        LongTensor: (S, k) op indices, one row per sub-policy.
    """
    if not 1 <= k <= num_ops:
        raise ValueError(f'a sub-policy needs 1 <= num_ops (K) <= {num_ops} (the number of '
                         f'feature ops), got K={k}')
    return torch.tensor(list(itertools.combinations(range(num_ops), k)), dtype=torch.long)


def check_estimator(name: str) -> str:
    """Validate a policy-gradient estimator name.

    Args:
        name (str): ``'relax'`` or ``'reinforce'``.

    Returns:
        str: ``name``.

    Raises:
        ValueError: for any other name (e.g. ``'gumbel'``, not implemented).
    """
    if name not in ESTIMATORS:
        raise ValueError(f"DAFA estimator '{name}' is not implemented; implemented "
                         f'estimators are {ESTIMATORS}')
    return name


def flag_patterns(k: int, dtype: torch.dtype = torch.float64, device=None) -> Tensor:
    """(2^K, K) the flag patterns ``b``, pattern ``j`` with ``b_i = (j >> i) & 1``."""
    j = torch.arange(2**k, device=device)
    return ((j[:, None] >> torch.arange(k, device=device)) & 1).to(dtype)


def joint_log_probs(w: Tensor, p: Tensor) -> Tensor:
    """Log-probabilities ``theta`` of the ``S * 2^K`` outcomes ``(k, b)``.

    Args:
        w (Tensor): (S,) or (n, S) sub-policy logits.
        p (Tensor): (S, K) or (n, S, K) apply probabilities in (0, 1).

    Returns:
        Tensor: (C,) or (n, C), ``theta[k * 2^K + j] = log pi_k + log P(b = pattern j | k)``.
    """
    b = flag_patterns(p.shape[-1], torch.bool, p.device)  # (2^K, K)
    # where, not b * log p: p of exactly 0 or 1 gives 0 * -inf = nan in a product
    log_flags = torch.where(b,
                            torch.log(p)[..., None, :],
                            torch.log1p(-p)[..., None, :]).sum(-1)  # (..., S, 2^K)
    theta = F.log_softmax(w, dim=-1)[..., None] + log_flags
    return theta.flatten(-2)


def draw_noise(n: int,
               num_sub_policies: int,
               k: int,
               generator: Optional[torch.Generator] = None,
               dtype: torch.dtype = torch.float64) -> PolicyNoise:
    """Draw the uniform noise of ``n`` policy draws (on the generator's device).

    Values are kept inside the open interval (0, 1) so that every logarithm below is finite.
    float64 keeps the thresholds of ``z`` and ``z~`` exact enough that the conditional
    sample always reproduces the outcome.

    Args:
        n (int): number of draws.
        num_sub_policies (int): S.
        k (int): ops per sub-policy, K.
        generator (torch.Generator, optional): source of randomness.
        dtype (torch.dtype): floating dtype of the noise.

    Returns:
        PolicyNoise: two fields of shape (n, S * 2^K).
    """
    eps = torch.finfo(dtype).eps
    device = generator.device if generator is not None else None
    c = num_sub_policies * 2**k

    def uniform():
        u = torch.rand(n, c, generator=generator, dtype=dtype, device=device)
        return u.clamp_(eps, 1 - eps)

    return PolicyNoise(uniform(), uniform())


def relaxed_sample(w: Tensor, p: Tensor, noise: PolicyNoise) -> Tensor:
    """Relaxed draw ``z = theta - log(-log u)`` (Gumbel-max over the outcomes).

    Args:
        w (Tensor): (S,) or (n, S) sub-policy logits.
        p (Tensor): (S, K) or (n, S, K) apply probabilities in (0, 1).
        noise (PolicyNoise): the draws' noise (``u`` is used).

    Returns:
        Tensor: (n, S * 2^K); its argmax is the outcome.
    """
    return joint_log_probs(w, p) - torch.log(-torch.log(noise.u))


def _outcome_of(joint: Tensor, k: int) -> Outcome:
    bits = joint % 2**k
    flags = ((bits[:, None] >> torch.arange(k, device=joint.device)) & 1).bool()
    return Outcome(joint // 2**k, flags)


@torch.no_grad()
def sample_outcome(w: Tensor, p: Tensor, noise: PolicyNoise) -> Outcome:
    """Discrete outcome ``H(z)`` of the relaxed draw: the argmax of ``z``.

    Args:
        w (Tensor): (S,) or (n, S) sub-policy logits.
        p (Tensor): (S, K) or (n, S, K) apply probabilities.
        noise (PolicyNoise): the draws' noise.

    Returns:
        Outcome: ``index`` (n,) ~ Cat(softmax(w)), ``flags`` (n, K) ~ Bernoulli(p[index]).
    """
    return _outcome_of(relaxed_sample(w, p, noise).argmax(dim=-1), p.shape[-1])


def conditional_relaxed_sample(w: Tensor, p: Tensor, noise: PolicyNoise,
                               outcome: Outcome) -> Tensor:
    """Relaxed draw ``z~ ~ p(z | H(z) = outcome)`` (REBAR/RELAX conditional sample).

    With ``q = softmax(theta)`` over the outcomes and ``j`` the drawn one:
    ``z~_j = -log(-log v_j)`` and ``z~_i = -log(-log(v_i) / q_i - log v_j)`` otherwise,
    which is always below ``z~_j`` (Gumbel-max conditioned on its argmax; the same sample
    plus a constant ``log sum exp theta = 0``, theta being normalised).

    Args:
        w (Tensor): (S,) or (n, S) sub-policy logits.
        p (Tensor): (S, K) or (n, S, K) apply probabilities.
        noise (PolicyNoise): the draws' noise (``v`` is used).
        outcome (Outcome): the outcome to condition on.

    Returns:
        Tensor: (n, S * 2^K) with argmax ``outcome.joint()``.
    """
    q = F.softmax(joint_log_probs(w, p), dim=-1)
    log_v = torch.log(noise.v)
    joint = outcome.joint()
    log_v_j = log_v.gather(1, joint[:, None])
    chosen = F.one_hot(joint, log_v.shape[1]).bool()
    return torch.where(chosen, -torch.log(-log_v), -torch.log(-log_v / q - log_v_j))


def log_prob(w: Tensor, p: Tensor, outcome: Outcome) -> Tensor:
    """Log-probability of each draw's outcome: the choice and the drawn sub-policy's flags.

    Args:
        w (Tensor): (S,) or (n, S) sub-policy logits.
        p (Tensor): (S, K) or (n, S, K) apply probabilities.
        outcome (Outcome): ``n`` outcomes.

    Returns:
        Tensor: (n,) ``log pi_k + sum_i [b_i log p_ki + (1 - b_i) log(1 - p_ki)]``.
    """
    n = outcome.index.shape[0]
    theta = joint_log_probs(w, p).expand(n, -1)
    return theta.gather(1, outcome.joint()[:, None])[:, 0]


def control_variate_input(z: Tensor, tau: float) -> Tensor:
    """Input of the control variate: the tempered relaxation, one row per draw.

    Args:
        z (Tensor): (n, S * 2^K) relaxed sample.
        tau (float): relaxation temperature (> 0).

    Returns:
        Tensor: (n, S * 2^K) ``softmax(z / tau)``.
    """
    return F.softmax(z / tau, dim=-1)


def build_control_variate(num_sub_policies: int, k: int, hidden: int) -> nn.Module:
    """The RELAX control variate ``c``: Linear(S * 2^K, hidden)-ReLU-Linear(hidden, 1).

    Args:
        num_sub_policies (int): S.
        k (int): ops per sub-policy, K.
        hidden (int): hidden width.

    Returns:
        nn.Module: maps (n, S * 2^K) to (n, 1).
    """
    return nn.Sequential(
        nn.Linear(num_sub_policies * 2**k, hidden), nn.ReLU(inplace=False), nn.Linear(hidden, 1))


def _evaluate_cv(control_variate: nn.Module, z: Tensor, tau: float) -> Tensor:
    """(n,) control-variate outputs, evaluated in the network's dtype."""
    x = control_variate_input(z, tau)
    weight = next(control_variate.parameters(), None)
    if weight is not None:
        x = x.to(weight.dtype)
    return control_variate(x).reshape(-1).to(z.dtype)


def _estimate(rewards: Tensor, w: Tensor, p: Tensor, noise: PolicyNoise, outcome: Outcome,
              control_variate: Optional[nn.Module], tau: float,
              joint: bool) -> Tuple[Tensor, Tensor, Tuple[Tensor, ...]]:
    """RELAX / REINFORCE estimates for leaf parameters ``w``, ``p`` (see the public APIs).

    ``joint=True``: ``w``, ``p`` are shared, ``rewards`` is 0-dim, one estimate for the
    joint outcome of all draws. ``joint=False``: ``w``, ``p`` have one copy per draw, so the
    gradient of a sum over draws holds each draw's own derivative in its row.
    """
    params = (w, p)
    logp = log_prob(w, p, outcome)
    dlogp = torch.autograd.grad(logp.sum(), params)
    if control_variate is None:
        if joint:
            return rewards * dlogp[0], rewards * dlogp[1], ()
        return rewards[:, None] * dlogp[0], rewards[:, None, None] * dlogp[1], ()

    c = _evaluate_cv(control_variate, relaxed_sample(w, p, noise), tau)
    c_tilde = _evaluate_cv(control_variate, conditional_relaxed_sample(w, p, noise, outcome), tau)
    # create_graph: the estimate itself is differentiated w.r.t. the control variate.
    dc = torch.autograd.grad((c - c_tilde).sum(), params, create_graph=True)
    if joint:
        coef = rewards - c_tilde.sum()
        g_w, g_p = coef * dlogp[0] + dc[0], coef * dlogp[1] + dc[1]
        surrogate = g_w.pow(2).sum() + g_p.pow(2).sum()
    else:
        coef = rewards - c_tilde
        g_w = coef[:, None] * dlogp[0] + dc[0]
        g_p = coef[:, None, None] * dlogp[1] + dc[1]
        surrogate = (g_w.pow(2).sum() + g_p.pow(2).sum()) / rewards.shape[0]

    cv_params = [q for q in control_variate.parameters() if q.requires_grad]
    cv_grads = torch.autograd.grad(surrogate, cv_params, allow_unused=True)
    cv_grads = tuple(
        torch.zeros_like(q) if g is None else g.detach() for q, g in zip(cv_params, cv_grads))
    return g_w.detach(), g_p.detach(), cv_grads


def _leaf(t: Tensor, dtype: torch.dtype, copies: Optional[int] = None) -> Tensor:
    """A detached, grad-requiring copy of ``t`` (optionally repeated ``copies`` times)."""
    t = t.detach().to(dtype)
    if copies is not None:
        t = t.unsqueeze(0).repeat(copies, *([1] * t.dim()))
    return t.requires_grad_()


def relax_gradient(reward: Union[float, Tensor],
                   w: Tensor,
                   p: Tensor,
                   noise: PolicyNoise,
                   outcome: Outcome,
                   control_variate: Optional[nn.Module],
                   tau: float = 0.5) -> Tuple[Tensor, Tensor, Tuple[Tensor, ...]]:
    """RELAX estimate of ``d E[f] / d(w, p)`` for one joint outcome of ``n`` draws.

    ``g = (f - c(z~)) d log p(b) + d c(z) - d c(z~)`` (Grathwohl et al., ICLR 2018), where
    ``b`` is the joint outcome of the n draws (each a sub-policy and its flags),
    ``log p(b)`` the sum of their log-probabilities and ``c(z)`` the sum of the control
    variate over the draws. All derivatives are taken by
    autograd. The estimate is unbiased for any control variate; the control variate is
    trained to minimise the estimate's variance, through the surrogate ``sum(g ** 2)`` whose
    gradient w.r.t. the control variate's parameters is returned (not applied).
    With ``control_variate=None`` this is the plain score-function (REINFORCE) estimate
    ``f d log p(b)``.

    Args:
        reward (float | Tensor): the scalar ``f(b)`` whose expectation is differentiated
            (DAFA passes the outer loss, and the policy optimiser descends the estimate).
        w (Tensor): (S,) sub-policy logits.
        p (Tensor): (S, K) apply probabilities in (0, 1).
        noise (PolicyNoise): the noise the outcome was drawn with; computation happens in
            its dtype and on its device.
        outcome (Outcome): ``n`` outcomes drawn from ``noise`` by :func:`sample_outcome`.
        control_variate (nn.Module | None): maps (n, S * 2^K) to (n, 1); None for REINFORCE.
        tau (float): relaxation temperature of the control variate's input.

    Returns:
        tuple: ``grad_w`` (S,) and ``grad_p`` (S, K) in the dtypes of ``w`` and ``p``, and
        ``cv_grads``, a tuple with the gradient of ``sum(g ** 2)`` for each trainable
        parameter of the control variate, in ``parameters()`` order (empty for REINFORCE).
    """
    dtype = noise.u.dtype
    f = torch.as_tensor(float(reward), dtype=dtype, device=noise.u.device)
    with torch.enable_grad():
        g_w, g_p, cv_grads = _estimate(
            f, _leaf(w, dtype), _leaf(p, dtype), noise, outcome, control_variate, tau, joint=True)
    return g_w.to(w.dtype), g_p.to(p.dtype), cv_grads


def relax_gradient_per_draw(rewards: Tensor,
                            w: Tensor,
                            p: Tensor,
                            noise: PolicyNoise,
                            outcome: Outcome,
                            control_variate: Optional[nn.Module],
                            tau: float = 0.5) -> Tuple[Tensor, Tensor, Tuple[Tensor, ...]]:
    """Independent RELAX estimates, one per draw, each with its own reward.

    Draw ``i`` gives ``g_i = (f_i - c(z~_i)) d log p(b_i) + d c(z_i) - d c(z~_i)``; their
    mean is a Monte Carlo estimate of ``d E[f] / d(w, p)`` and their spread measures the
    estimator's per-sample variance. Used to test the estimator and to train the control
    variate on many draws at once. ``control_variate=None`` gives REINFORCE estimates.

    Args:
        rewards (Tensor): (n,) reward of each draw.
        w (Tensor): (S,) sub-policy logits.
        p (Tensor): (S, K) apply probabilities in (0, 1).
        noise (PolicyNoise): the noise the outcomes were drawn with.
        outcome (Outcome): ``n`` outcomes.
        control_variate (nn.Module | None): maps (n, S * 2^K) to (n, 1); None for REINFORCE.
        tau (float): relaxation temperature.

    Returns:
        tuple: ``grad_w`` (n, S), ``grad_p`` (n, S, K) and ``cv_grads``, the gradient of the
        mean over draws of ``sum(g_i ** 2)`` for each trainable control-variate parameter
        (empty for REINFORCE).
    """
    dtype = noise.u.dtype
    n = outcome.index.shape[0]
    f = rewards.detach().to(dtype=dtype, device=noise.u.device).reshape(n)
    with torch.enable_grad():
        g_w, g_p, cv_grads = _estimate(
            f,
            _leaf(w, dtype, n),
            _leaf(p, dtype, n),
            noise,
            outcome,
            control_variate,
            tau,
            joint=False)
    return g_w.to(w.dtype), g_p.to(p.dtype), cv_grads
