"""Optimisers of a student-oriented distillation run: the student's, and one per learned part."""
import copy
from typing import Dict, Optional

from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict
from mmrazor.registry import OPTIM_WRAPPER_CONSTRUCTORS
from torch import nn

# Which module of the algorithm each non-student entry optimises (dotted attribute path).
LEARNED_PARTS = dict(policy='distiller.dafa', teacher='teacher', augmenter='augmenter')
# What an entry looks like when the model has the part but the config forgot it.
_EXAMPLES = dict(
    policy="policy=dict(optimizer=dict(type='Adam', lr=3e-4, betas=(0.5, 0.999), "
    'weight_decay=1e-3))',
    teacher="teacher=dict(optimizer=dict(type='SGD', lr=1e-4, momentum=0.9))",
    augmenter="augmenter=dict(optimizer=dict(type='Adam', lr=1e-3))")


def _find(model: nn.Module, path: str) -> Optional[nn.Module]:
    for name in path.split('.'):
        model = getattr(model, name, None)
        if model is None:
            return None
    return model if isinstance(model, nn.Module) else None


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class DistillOptimWrapperConstructor:
    """Build ``OptimWrapperDict(student=..., <part>=...)`` for a student-oriented algorithm.

    ``student`` optimises the student and every trainable module of the distiller that no
    other entry claims (connectors, DAM, parametric losses). The other entries each
    optimise one learned part of the algorithm, found by attribute path
    (:data:`LEARNED_PARTS`): ``policy`` the DAFA policy of :class:`SoKD` (its ``w``, ``p``,
    ``m`` and the RELAX control variate), ``teacher`` the teacher that ATF fine-tunes,
    ``augmenter`` TST's image augmenter. A part the model has needs its entry; an entry for a
    part the model lacks is an error. Each entry is an ordinary MMEngine optim-wrapper config
    (``type``, ``optimizer``, ``clip_grad``, ``paramwise_cfg``...).

    Example::

        optim_wrapper = dict(
            constructor='mmrazor.DistillOptimWrapperConstructor',
            student=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
            policy=dict(optimizer=dict(type='Adam', lr=3e-4, betas=(0.5, 0.999),
                                       weight_decay=1e-3)))

    Args:
        optim_wrapper_cfg (dict): a ``student`` entry and one per learned part.
        paramwise_cfg (dict, optional): must be None; put it inside an entry.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg=None) -> None:
        cfg = copy.deepcopy(dict(optim_wrapper_cfg))
        if paramwise_cfg is not None:
            raise ValueError('DistillOptimWrapperConstructor: put paramwise_cfg inside '
                             'optim_wrapper.student (or the entry it belongs to)')
        if 'student' not in cfg:
            raise KeyError("optim_wrapper needs a 'student' entry, e.g. "
                           "student=dict(optimizer=dict(type='SGD', lr=0.01))")
        self.student_cfg = cfg.pop('student')
        unknown = sorted(set(cfg) - set(LEARNED_PARTS))
        if unknown:
            raise KeyError(f'unexpected optim_wrapper keys {unknown}; the entries are '
                           f"'student' and {sorted(LEARNED_PARTS)}")
        self.part_cfgs: Dict[str, dict] = cfg

    @staticmethod
    def _build(cfg: dict, module: nn.Module):
        cfg = copy.deepcopy(cfg)
        cfg.setdefault('type', 'OptimWrapper')
        return DefaultOptimWrapperConstructor(cfg, cfg.pop('paramwise_cfg', None))(module)

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        """Split ``model``'s parameters and build one optim wrapper per entry."""
        model = model.module if is_model_wrapper(model) else model
        parts = {}
        for name, path in LEARNED_PARTS.items():
            module = _find(model, path)
            trainable = module is not None and any(p.requires_grad for p in module.parameters())
            if trainable:
                parts[name] = module
            if trainable and name not in self.part_cfgs:
                raise KeyError(f"the model has a {name} ({path}) but optim_wrapper has no "
                               f"'{name}' entry: add {_EXAMPLES[name]}")
            if name in self.part_cfgs and not trainable:
                raise KeyError(f"optim_wrapper has a '{name}' entry but the model has no "
                               f'trainable {path}: remove the entry')
        claimed = {id(m) for m in parts.values()}
        student_side = nn.ModuleDict({'architecture': model.architecture})
        for name, child in model.distiller.named_children():
            if id(child) not in claimed:
                student_side[f'distiller_{name}'] = child
        wrappers = dict(student=self._build(self.student_cfg, student_side))
        for name, module in parts.items():
            wrappers[name] = self._build(self.part_cfgs[name], module)
        return OptimWrapperDict(**wrappers)


# the name before 0.2 (SoKD-specific; TST and ATF use it too), kept so that their configs
# still load
OPTIM_WRAPPER_CONSTRUCTORS.register_module(
    name='SoKDOptimWrapperConstructor', module=DistillOptimWrapperConstructor)
