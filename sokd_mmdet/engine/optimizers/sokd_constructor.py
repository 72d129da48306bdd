"""Optimisers of a SoKD run: one for the student side, one for the DAFA policy."""
import copy

from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict
from mmrazor.registry import OPTIM_WRAPPER_CONSTRUCTORS
from torch import nn


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SoKDOptimWrapperConstructor:
    """Build ``OptimWrapperDict(student=..., policy=...)`` for a :class:`SoKD` model.

    ``student`` optimises the student detector and every trainable module of the distiller
    except the policy (connectors, DAM, parametric losses); ``policy`` optimises DAFA (its
    ``w``, ``p``, ``m`` and the RELAX control variate). Each entry is an ordinary MMEngine
    optim-wrapper config (``type``, ``optimizer``, ``clip_grad``, ``paramwise_cfg``...).

    Example::

        optim_wrapper = dict(
            constructor='mmrazor.SoKDOptimWrapperConstructor',
            student=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
            policy=dict(optimizer=dict(type='Adam', lr=3e-4, betas=(0.5, 0.999),
                                       weight_decay=1e-3)))

    Args:
        optim_wrapper_cfg (dict): with a ``student`` and (if the distiller has DAFA) a
            ``policy`` entry.
        paramwise_cfg (dict, optional): must be None; put it inside ``student``.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg=None) -> None:
        cfg = copy.deepcopy(dict(optim_wrapper_cfg))
        if paramwise_cfg is not None:
            raise ValueError('SoKDOptimWrapperConstructor: put paramwise_cfg inside '
                             'optim_wrapper.student')
        if 'student' not in cfg:
            raise KeyError("optim_wrapper needs a 'student' entry, e.g. "
                           "student=dict(optimizer=dict(type='SGD', lr=0.01))")
        self.student_cfg = cfg.pop('student')
        self.policy_cfg = cfg.pop('policy', None)
        if cfg:
            raise KeyError(f'unexpected optim_wrapper keys {sorted(cfg)}; SoKD takes '
                           "'student' and 'policy'")

    @staticmethod
    def _build(cfg: dict, module: nn.Module):
        cfg = copy.deepcopy(cfg)
        cfg.setdefault('type', 'OptimWrapper')
        return DefaultOptimWrapperConstructor(cfg, cfg.pop('paramwise_cfg', None))(module)

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        """Split ``model``'s parameters and build the two optim wrappers."""
        model = model.module if is_model_wrapper(model) else model
        dafa = getattr(model.distiller, 'dafa', None)
        student_side = nn.ModuleDict({'architecture': model.architecture})
        for name, child in model.distiller.named_children():
            if name != 'dafa':
                student_side[f'distiller_{name}'] = child
        wrappers = dict(student=self._build(self.student_cfg, student_side))
        if dafa is not None:
            if self.policy_cfg is None:
                raise KeyError("the distiller has a DAFA policy but optim_wrapper has no "
                               "'policy' entry: add policy=dict(optimizer=dict(type='Adam', "
                               'lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3))')
            wrappers['policy'] = self._build(self.policy_cfg, dafa)
        return OptimWrapperDict(**wrappers)
