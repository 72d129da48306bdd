"""The one parameter update of every custom train step: backward, cross-rank average, step.

SoKD, TST and ATF each train more than one set of parameters in their own ``train_step``
(student and policy, student and augmenter, student and teacher), so MMEngine's
``OptimWrapper.update_params`` cannot run them as it is: the gradients of each set are
averaged across ranks by hand (the models are wrapped without DDP's gradient hooks, see
:class:`~sokd_mmdet.engine.DistillDataParallel`), between the backward and the step.
"""
from typing import Iterable, Optional, Sequence

import torch
from mmengine.dist import all_reduce_params, get_world_size
from mmengine.optim import OptimWrapper
from torch import Tensor


def average_gradients(params: Iterable[Tensor]) -> None:
    """Average the ``.grad`` of ``params`` over all ranks (nothing in a single process)."""
    if get_world_size() <= 1:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if grads:
        all_reduce_params(grads, coalesce=True, op='mean')


def gradient_surrogate(params: Sequence[Tensor], grads: Sequence[Optional[Tensor]]) -> Tensor:
    """A scalar whose gradient with respect to ``params`` is ``grads``: ``sum_i <p_i, g_i>``.

    A train step that has already taken the gradient of its loss (SoKD's policy step takes
    it for the virtual step) hands this to :func:`update_params` instead of the loss: the
    optim wrapper then accumulates, scales and clips the gradient it has, with one cheap
    backward instead of a second pass through the whole graph. Parameters whose entry is
    None get no ``.grad`` (as after ``loss.backward()`` for a parameter the loss does not
    reach; an optimiser then skips them).
    """
    terms = [(p * g.detach()).sum() for p, g in zip(params, grads) if g is not None]
    if not terms:
        raise ValueError('gradient_surrogate: every gradient is None, nothing to update')
    return torch.stack(terms).sum()


def update_params(optim_wrapper: OptimWrapper,
                  loss: Tensor,
                  params: Optional[Iterable[Tensor]] = None,
                  inputs: Optional[Sequence[Tensor]] = None) -> None:
    """``OptimWrapper.update_params`` with the gradients averaged across ranks before the step.

    Args:
        optim_wrapper (OptimWrapper): the optimiser of the parameters to update; it honours
            its own gradient accumulation (``should_update``) and clipping.
        loss (Tensor): the scalar to minimise.
        params (Iterable[Tensor], optional): the parameters whose gradients are averaged;
            None: every parameter of the optimiser's groups.
        inputs (Sequence[Tensor], optional): restrict the backward to these leaves (passed to
            ``Tensor.backward``), so that a loss that also reaches other parameters leaves
            their ``.grad`` untouched.
    """
    kwargs = {} if inputs is None else dict(inputs=list(inputs))
    optim_wrapper.backward(optim_wrapper.scale_loss(loss), **kwargs)
    if optim_wrapper.should_update():
        if params is None:
            params = (p for group in optim_wrapper.param_groups for p in group['params'])
        average_gradients(params)
        optim_wrapper.step()
        optim_wrapper.zero_grad()
