"""Mixed precision on the CPU: bfloat16 autocast, no loss scaling."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmrazor.registry import OPTIM_WRAPPERS
from torch import nn


@OPTIM_WRAPPERS.register_module()
class CPUAutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward passes run under CPU autocast (bfloat16 by default).

    MMEngine's ``AmpOptimWrapper`` refuses to run without a GPU. bfloat16 has float32's
    exponent range, so no loss scaling is needed: backward and step are the plain
    ``OptimWrapper``'s. ``tools/train.py --amp`` picks this wrapper on a machine without
    CUDA, and MMEngine's ``AmpOptimWrapper`` (float16 with dynamic loss scaling) with CUDA.

    Args:
        dtype (str): autocast dtype, ``'bfloat16'`` (or ``'float16'`` where the CPU has it).
        **kwargs: ``OptimWrapper``'s arguments.
    """

    def __init__(self, dtype: str = 'bfloat16', **kwargs) -> None:
        super().__init__(**kwargs)
        self.cast_dtype = getattr(torch, dtype)

    @contextmanager
    def optim_context(self, model: nn.Module):
        """The parent's context (gradient accumulation) plus CPU autocast."""
        with super().optim_context(model), torch.autocast('cpu', dtype=self.cast_dtype):
            yield
