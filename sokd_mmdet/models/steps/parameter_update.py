"""The one parameter update of every custom train step: backward, cross-rank average, step.

SoKD, TST and ATF each train more than one set of parameters in their own ``train_step``
(student and policy, student and augmenter, student and teacher), so MMEngine's
``OptimWrapper.update_params`` cannot run them as it is: the gradients of each set are
averaged across ranks by hand (the models are wrapped without DDP's gradient hooks, see
:class:`~sokd_mmdet.engine.DistillDataParallel`), between the backward and the step.
"""
from typing import Iterable, Optional, Sequence

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
