"""The virtual step of SoKD's policy search, as differentiable functions of the gradient.

The unrolled rule (:mod:`.unrolled`) needs the update ``delta(g)`` that the student would
take from its gradient ``g``, as a function autograd can differentiate (only the
vector-Jacobian product ``(d delta / d g)^T v`` is used). Two choices:

- ``'sgd'``: ``delta = -eta g`` (DARTS and the research code);
- ``'optimizer'``: the update the student's own optimiser would take now: its gradient
  clipping (``clip_grad=dict(max_norm=...)`` of the optim wrapper), then momentum SGD's or
  Adam(W)'s step from the optimiser's current state (momentum buffers, moments, step
  count), without changing that state.

Each step is a :class:`VirtualStep`: called on the gradients it returns the update
(differentiable), and its :meth:`~VirtualStep.vjp` returns ``(d delta / d g)^T v`` without
a graph over the whole parameter list (one parameter's at a time, the clipping's coupling in
closed form), so that the policy step need not hold the update's graph, several
parameter-sized tensors of it, through the outer pass.
"""
from typing import Callable, List, Optional, Sequence

import torch
from torch import Tensor

from .gradients import zeros_for_none

VIRTUAL_STEPS = ('sgd', 'optimizer')
Step = Callable[[Sequence[Tensor]], List[Tensor]]


def autograd_vjp(step: Step, grads: Sequence[Tensor], v: Sequence[Tensor]) -> List[Tensor]:
    """``(d step(g) / d g)^T v`` by autograd through ``step`` (its graph, then freed)."""
    g = [t.detach().requires_grad_() for t in grads]
    with torch.enable_grad():
        delta = step(g)
        u = torch.autograd.grad(
            delta, g, grad_outputs=[x.to(d.dtype) for x, d in zip(v, delta)], allow_unused=True)
    return zeros_for_none(g, u)


class VirtualStep:
    """A virtual step ``g -> delta(g)`` with its vector-Jacobian product.

    Args:
        update (callable): ``grads -> updates``, differentiable in the gradients.
        vjp (callable, optional): ``(grads, v) -> (d delta / d g)^T v``; None: by autograd
            through ``update`` (:func:`autograd_vjp`).
    """

    def __init__(self, update: Step, vjp: Optional[Callable] = None) -> None:
        self._update = update
        self._vjp = vjp

    def __call__(self, grads: Sequence[Tensor]) -> List[Tensor]:
        return self._update(grads)

    def vjp(self, grads: Sequence[Tensor], v: Sequence[Tensor]) -> List[Tensor]:
        """``(d delta / d g)^T v`` at ``grads`` (tensors without a graph)."""
        if self._vjp is None:
            return autograd_vjp(self._update, grads, v)
        return self._vjp(grads, v)

    def scaled(self, factor: float) -> 'VirtualStep':
        """The step times ``factor`` (its product too)."""
        return VirtualStep(lambda g: [factor * d for d in self(g)],
                           lambda g, v: [factor * u for u in self.vjp(g, v)])


def vjp_of(step: Step, grads: Sequence[Tensor], v: Sequence[Tensor]) -> List[Tensor]:
    """``step``'s own product if it is a :class:`VirtualStep`, else by autograd."""
    if isinstance(step, VirtualStep):
        return step.vjp(grads, v)
    return autograd_vjp(step, grads, v)


def sgd_step(lr: float) -> VirtualStep:
    """``g -> -lr * g`` (its product: ``-lr * v``)."""
    return VirtualStep(lambda grads: [-lr * g for g in grads],
                       lambda grads, v: [-lr * x for x in v])


def _global_norm(grads: Sequence[Tensor], norm_type: float) -> Tensor:
    """The ``norm_type``-norm of all the gradients seen as one vector (differentiable)."""
    return torch.linalg.vector_norm(
        torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads]), norm_type)


def _clip_scale(norm: Tensor, max_norm: float) -> Tensor:
    """PyTorch's clipping factor ``min(1, max_norm / (norm + 1e-6))``."""
    return (max_norm / (norm + 1e-6)).clamp(max=1.0)


def clip_by_global_norm(grads: Sequence[Tensor],
                        max_norm: float,
                        norm_type: float = 2.0) -> List[Tensor]:
    """``torch.nn.utils.clip_grad_norm_`` as a differentiable function of the gradients.

    Scales every gradient by ``min(1, max_norm / (|g| + 1e-6))``, ``|g|`` the global
    ``norm_type``-norm, as PyTorch does.
    """
    scale = _clip_scale(_global_norm(grads, norm_type), max_norm)
    return [g * scale for g in grads]


def _param_groups(optimizer: torch.optim.Optimizer, params: Sequence[Tensor]) -> List[dict]:
    groups = {}
    for group in optimizer.param_groups:
        for p in group['params']:
            groups[id(p)] = group
    missing = [i for i, p in enumerate(params) if id(p) not in groups]
    if missing:
        raise ValueError(f"virtual_step='optimizer': {len(missing)} trainable student "
                         'parameters are not in the student optimiser, so its update is '
                         "undefined for them: use virtual_step='sgd' or add them")
    return [groups[id(p)] for p in params]


def _sgd_update(p: Tensor, g: Tensor, group: dict, state: dict) -> Tensor:
    """torch.optim.SGD's update (weight decay, momentum, dampening, Nesterov)."""
    lr, wd = group['lr'], group.get('weight_decay', 0.0)
    momentum, dampening = group.get('momentum', 0.0), group.get('dampening', 0.0)
    d = g + wd * p.detach() if wd else g
    if momentum:
        buf = state.get('momentum_buffer')
        # the first step starts the buffer at d (no dampening), as torch does
        buf = d if buf is None else momentum * buf.detach() + (1 - dampening) * d
        d = d + momentum * buf if group.get('nesterov', False) else buf
    return -lr * d


def _adam_update(p: Tensor, g: Tensor, group: dict, state: dict, decoupled: bool) -> Tensor:
    """torch.optim.Adam's / AdamW's update (no amsgrad)."""
    if group.get('amsgrad', False):
        raise ValueError("virtual_step='optimizer' does not support amsgrad: use "
                         "virtual_step='sgd'")
    lr, wd, eps = group['lr'], group.get('weight_decay', 0.0), group['eps']
    b1, b2 = group['betas']
    step = float(state['step']) + 1 if 'step' in state else 1.0
    decay = torch.zeros_like(p)
    if wd and decoupled:
        decay = -lr * wd * p.detach()
    elif wd:
        g = g + wd * p.detach()
    m = state.get('exp_avg')
    v = state.get('exp_avg_sq')
    m = (1 - b1) * g if m is None else b1 * m.detach() + (1 - b1) * g
    v = (1 - b2) * g * g if v is None else b2 * v.detach() + (1 - b2) * g * g
    m_hat = m / (1 - b1**step)
    # sqrt at 0 has an infinite slope: where v is 0, g is 0 too, and so is the update's
    # slope in g (the 0/0 limit is 0), so sqrt(v + tiny) there changes no value
    v_hat = v / (1 - b2**step)
    denom = torch.where(v_hat > 0, v_hat, torch.ones_like(v_hat)).sqrt() * (v_hat > 0) + eps
    return decay - lr * m_hat / denom


def clipped_vjp(grads: Sequence[Tensor],
                v: Sequence[Tensor],
                local_vjp: Callable,
                max_norm: float,
                norm_type: float = 2.0) -> List[Tensor]:
    """``(d A(c(g)) / d g)^T v`` for an update ``A`` applied tensor by tensor after the
    global-norm clip ``c`` (:func:`clip_by_global_norm`), one tensor's graph at a time.

    With ``s = min(1, max_norm / (|g| + 1e-6))`` and ``w_i = (dA_i / dx)^T v_i`` at
    ``x = s g_i``: ``u_j = s w_j + <w, g> ds/dg_j``, where ``ds/dg_j = -max_norm /
    (|g| + 1e-6)^2 d|g|/dg_j`` while the clip is active and 0 otherwise.

    Args:
        local_vjp (callable): ``(i, x, v_i) -> (dA_i / dx)^T v_i`` for tensor ``i``.
    """
    grads = [g.detach() for g in grads]
    norm = _global_norm(grads, norm_type)
    scale = _clip_scale(norm, max_norm)
    out = [local_vjp(i, g * scale, x) for i, (g, x) in enumerate(zip(grads, v))]
    if bool(scale < 1.0):  # active: the scale depends on every gradient
        coupling = sum((w * g).sum() for w, g in zip(out, grads))
        leaves = [g.detach().requires_grad_() for g in grads]  # the same storage, new leaves
        with torch.enable_grad():
            d_norm = torch.autograd.grad(_global_norm(leaves, norm_type), leaves)
        factor = float(-coupling * max_norm / (norm + 1e-6)**2)
        for w, dn in zip(out, d_norm):  # in place: no third parameter-sized list
            w.mul_(scale).add_(dn, alpha=factor)
    return out


def optimizer_step(optimizer: torch.optim.Optimizer,
                   params: Sequence[Tensor],
                   clip_grad: Optional[dict] = None) -> VirtualStep:
    """The update the student's optimiser would take now, as a function of the gradient.

    Args:
        optimizer (torch.optim.Optimizer): the student's optimiser (SGD, Adam or AdamW).
        params (Sequence[Tensor]): the parameters, in the order of the gradients.
        clip_grad (dict, optional): the optim wrapper's ``clip_grad`` (``max_norm``,
            ``norm_type``); only norm clipping is supported.

    Returns:
        VirtualStep: ``grads -> updates``, differentiable in the gradients, and its product
        one parameter at a time; the optimiser's state is read, never written.
    """
    if isinstance(optimizer, torch.optim.AdamW):
        update = lambda p, g, gr, st: _adam_update(p, g, gr, st, decoupled=True)  # noqa: E731
    elif isinstance(optimizer, torch.optim.Adam):
        update = lambda p, g, gr, st: _adam_update(p, g, gr, st, decoupled=False)  # noqa: E731
    elif isinstance(optimizer, torch.optim.SGD):
        update = _sgd_update
    else:
        raise ValueError(f"virtual_step='optimizer' supports SGD, Adam and AdamW, not "
                         f"{type(optimizer).__name__}: use virtual_step='sgd'")
    if clip_grad is not None and set(clip_grad) - {'max_norm', 'norm_type'}:
        raise ValueError(f"virtual_step='optimizer' follows norm clipping only, got "
                         f'clip_grad={clip_grad}')
    params = list(params)
    groups = _param_groups(optimizer, params)

    def step(grads: Sequence[Tensor]) -> List[Tensor]:
        grads = list(grads)
        if clip_grad is not None:
            grads = clip_by_global_norm(grads, clip_grad['max_norm'],
                                        clip_grad.get('norm_type', 2.0))
        return [
            update(p, g, group, optimizer.state.get(p, {}))
            for p, g, group in zip(params, grads, groups)
        ]

    def local_vjp(i: int, x: Tensor, v: Tensor) -> Tensor:
        """``(d update_i / d x)^T v`` by autograd over parameter ``i``'s update alone."""
        p = params[i]
        x = x.detach().requires_grad_()
        with torch.enable_grad():
            d = update(p, x, groups[i], optimizer.state.get(p, {}))
            (w, ) = torch.autograd.grad(d, x, grad_outputs=v.to(d.dtype), allow_unused=True)
        return torch.zeros_like(x) if w is None else w

    def vjp(grads: Sequence[Tensor], v: Sequence[Tensor]) -> List[Tensor]:
        if clip_grad is None:
            return [local_vjp(i, g.detach(), x) for i, (g, x) in enumerate(zip(grads, v))]
        return clipped_vjp(grads, v, local_vjp, clip_grad['max_norm'],
                           clip_grad.get('norm_type', 2.0))

    return VirtualStep(step, vjp)
