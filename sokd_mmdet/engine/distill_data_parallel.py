"""Data-parallel training for distillation algorithms with their own train step (SoKD, TST,
ATF), whose extra passes and optimisers DDP's reducer cannot follow."""
from mmengine.dist import broadcast, get_world_size
from mmrazor.registry import MODEL_WRAPPERS
from torch import nn


@MODEL_WRAPPERS.register_module()
class DistillDataParallel(nn.Module):
    """Multi-process data parallelism for SoKD, TST and ATF, without ``DistributedDataParallel``.

    DDP averages gradients from hooks that fire during ``backward``; SoKD's policy step
    differentiates virtual copies of the student with ``torch.autograd.grad`` and
    ``functional_call``, TST's augmenter step and ATF's teacher step backpropagate into
    other parameter sets than the student's, none of which DDP's reducer expects. This
    wrapper keeps the ranks in step explicitly instead:

    - at construction, parameters and buffers are broadcast from rank 0;
    - ``train_step`` delegates to the model's own ``train_step``, which averages the
      student gradients across ranks before each student step and the policy (and control
      variate) gradients before each policy step; DAFA draws its sub-policy from a generator
      with the same seed and state on every rank, so all ranks apply the same policy;
    - buffers (BN statistics) are broadcast from rank 0 after each step (DDP's
      ``broadcast_buffers``, done after the step so that validation and checkpoints see
      identical statistics on every rank).

    Use it with ``model_wrapper_cfg = dict(type='mmrazor.DistillDataParallel')``.

    Args:
        module (nn.Module): the distillation model (its ``train_step`` averages gradients
            across ranks, :func:`sokd_mmdet.models.steps.update_params`).
        broadcast_buffers (bool): broadcast buffers from rank 0 every step. Defaults to True.
        **kwargs: DDP arguments that MMEngine may pass (ignored: there is no reducer).
    """

    def __init__(self, module: nn.Module, broadcast_buffers: bool = True, **kwargs) -> None:
        super().__init__()
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        for tensor in list(module.parameters()) + list(module.buffers()):
            broadcast(tensor.data, src=0)

    def _sync_buffers(self) -> None:
        if self.broadcast_buffers and get_world_size() > 1:
            for buf in self.module.buffers():
                broadcast(buf.data, src=0)

    def train_step(self, data, optim_wrapper):
        """Delegate to the model's ``train_step`` (which reduces gradients across ranks)."""
        log_vars = self.module.train_step(data, optim_wrapper)
        self._sync_buffers()
        return log_vars

    def val_step(self, data):
        """Delegate to the model's ``val_step``."""
        return self.module.val_step(data)

    def test_step(self, data):
        """Delegate to the model's ``test_step``."""
        return self.module.test_step(data)

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)


# the name before 0.2 (SoKD-specific; TST and ATF use it too), kept so that their configs
# still load
MODEL_WRAPPERS.register_module(name='SoKDDistributedDataParallel', module=DistillDataParallel)
