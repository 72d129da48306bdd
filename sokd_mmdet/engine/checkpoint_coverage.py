"""Load a checkpoint into a model only if it covers the model: no silently random teacher.

MMRazor 1.0.0's ``SingleTeacherDistill`` loads ``teacher_ckpt`` with ``strict=False`` and
only logs MMEngine's "do not match exactly" notice, so a distillation checkpoint (keys under
``architecture.``/``teacher.``) or a ResNet-18 student's checkpoint given as a ResNet-34
teacher loaded nothing or half, and the student was distilled from a random teacher.
:func:`load_with_coverage` refuses a checkpoint that fills less than ``min_coverage`` of
the model's tensors (matching name and shape), or of which the model uses less than that
share (a deeper network's checkpoint fills a shallower one completely). It replaces the
loader of MMRazor's ``single_teacher_distill`` module (every distillation algorithm of
MMRazor and of this package loads its teacher there) and is what ``tools/test.py`` loads
the evaluated model with. The share required is the config's top-level
``checkpoint_min_coverage`` (default 0.95; ``tools/train.py`` and ``tools/test.py`` apply
it), for users who mean a partial load.
"""
from typing import Dict, Optional

import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader, load_state_dict
from torch import nn

DEFAULT_MIN_COVERAGE = 0.95
_settings = {'min_coverage': DEFAULT_MIN_COVERAGE}


class CheckpointCoverageError(ValueError):
    """A checkpoint fills too small a share of the model it is loaded into."""


def set_min_coverage(share: float) -> None:
    """The share of a model's tensors a checkpoint must fill (the run's setting)."""
    if not 0 <= share <= 1:
        raise ValueError(f'checkpoint_min_coverage must be in [0, 1], got {share}')
    _settings['min_coverage'] = float(share)


def _state_dict(ckpt) -> Dict[str, torch.Tensor]:
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    if not isinstance(state, dict):
        raise CheckpointCoverageError(f'holds a {type(state).__name__}, not a state dict')
    return {(k[7:] if k.startswith('module.') else k): v for k, v in state.items()}


def coverage(model: nn.Module, state: Dict[str, torch.Tensor]):
    """How well ``state`` and the model match, by name and shape.

    Returns:
        tuple: (share of the model's tensors that ``state`` fills, the missing names in the
        model's order, share of ``state``'s tensors the model uses, the unused names).
    """
    own = model.state_dict()

    def fits(k, v, other):
        return k in other and tuple(other[k].shape) == tuple(v.shape)

    missing = [k for k, v in own.items() if not fits(k, v, state)]
    unused = [k for k, v in state.items() if not fits(k, v, own)]
    return (1 - len(missing) / max(len(own), 1), missing, 1 - len(unused) / max(len(state), 1),
            unused)


def _names(names) -> str:
    shown = ', '.join(names[:5])
    return shown if len(names) <= 5 else f'{shown} and {len(names) - 5} more'


def _hint(model: nn.Module, state: Dict[str, torch.Tensor]) -> str:
    own = list(model.state_dict())
    for prefix in ('teacher.', 'architecture.'):
        if any(prefix + k in state for k in own):
            return (f' Its keys are under "{prefix}": it is a distillation checkpoint. Give '
                    'the teacher its own detector checkpoint, or export the student of a '
                    'distillation run with tools/export_student.py.')
    return (' It was probably saved from another architecture (another depth, width or '
            'number of classes than the config builds).')


def load_with_coverage(model: nn.Module,
                       filename: str,
                       map_location='cpu',
                       min_coverage: Optional[float] = None,
                       what: str = 'checkpoint',
                       logger='current') -> dict:
    """Load ``filename`` into ``model`` (``strict=False``) if it fills enough of it.

    Args:
        model (nn.Module): the model to fill.
        filename (str): any scheme MMEngine's ``CheckpointLoader`` knows (safe loaders).
        min_coverage (float, optional): required share; None: the run's setting.
        what (str): what is loaded, for the messages (``'teacher checkpoint'``).

    Returns:
        dict: the checkpoint.

    Raises:
        CheckpointCoverageError: names the file, the share, the first missing tensors, the
            likely cause and the switch.
    """
    share_needed = _settings['min_coverage'] if min_coverage is None else min_coverage
    ckpt = CheckpointLoader.load_checkpoint(filename, map_location=map_location)
    try:
        state = _state_dict(ckpt)
    except CheckpointCoverageError as err:
        raise CheckpointCoverageError(f'{what} {filename} {err}') from None
    share, missing, used, unused = coverage(model, state)
    switch = (' If a partial load is what you mean, set checkpoint_min_coverage=<share> in '
              'the config (--cfg-options checkpoint_min_coverage=0).')
    if share < share_needed:
        raise CheckpointCoverageError(
            f'{what} {filename} fills only {share:.1%} of the {type(model).__name__} it is '
            f'loaded into (at least {share_needed:.0%} is required); missing or of another '
            f'shape: {_names(missing)}.' + _hint(model, state) + switch)
    if used < share_needed:  # a bigger model's checkpoint fills a smaller one completely
        raise CheckpointCoverageError(
            f'{what} {filename} holds tensors the {type(model).__name__} it is loaded into '
            f'does not have: only {used:.1%} of them are used (at least {share_needed:.0%} '
            f'is required); unused: {_names(unused)}.' + _hint(model, state) + switch)
    if missing:
        print_log(
            f'{what} {filename}: {share:.1%} of the model loaded; not in it: '
            f'{", ".join(missing[:5])}',
            logger=logger,
            level=30)
    load_state_dict(model, state, strict=False, logger=logger)
    return ckpt


def _teacher_loader(model: nn.Module, filename: str, *args, **kwargs) -> dict:
    return load_with_coverage(model, filename, what='teacher checkpoint')


def install() -> None:
    """Make MMRazor's distillation algorithms load their teacher through the check."""
    from mmrazor.models.algorithms.distill.configurable import single_teacher_distill
    single_teacher_distill.load_checkpoint = _teacher_loader


install()
