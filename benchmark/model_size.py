"""The benchmark's detector sizes: which ResNets teach and learn, as ``--cfg-options``.

The built-in-data configs pair a ResNet-34 teacher with a ResNet-18 student (basic blocks).
The larger setting swaps in ResNet-101 -> ResNet-50 (bottleneck blocks, four times the
channels per stage); the FPN keeps its output width, so every distillation loss, connector,
DAM and head is unchanged and only the FPN's inputs follow the backbone.
"""
from typing import Dict, List, Sequence

# name -> (teacher depth, student depth)
MODEL_SIZES: Dict[str, tuple] = {'r34-r18': (34, 18), 'r101-r50': (101, 50)}
DEFAULT_SIZE = 'r34-r18'
# channels of ResNet stages 1-4 (mmdet's ResNet, base_channels 64)
_BASIC = (64, 128, 256, 512)  # ResNet-18/34
_BOTTLENECK = (256, 512, 1024, 2048)  # ResNet-50/101/152


def resnet_stage_channels(depth: int,
                          out_indices: Sequence[int],
                          base_channels: int = 64) -> List[int]:
    """Output channels of the ResNet stages ``out_indices`` (0-based).

    Args:
        depth (int): 18, 34, 50, 101 or 152.
        out_indices (Sequence[int]): stages whose outputs the neck reads.
        base_channels (int): the stem's width. Defaults to 64.
    """
    if depth in (18, 34):
        channels = _BASIC
    elif depth in (50, 101, 152):
        channels = _BOTTLENECK
    else:
        raise ValueError(f'no ResNet of depth {depth} (18, 34, 50, 101, 152)')
    return [channels[i] * base_channels // 64 for i in out_indices]


def _detector_options(prefix: str, detector: dict, depth: int) -> List[str]:
    backbone = detector['backbone']
    if backbone.get('type', 'ResNet').split('.')[-1] != 'ResNet':
        raise ValueError(f'{prefix}: the benchmark resizes ResNet backbones, not '
                         f"{backbone.get('type')}")
    channels = resnet_stage_channels(depth, backbone.get('out_indices', (0, 1, 2, 3)),
                                     backbone.get('base_channels', 64))
    in_channels = ','.join(str(c) for c in channels)
    return [f'{prefix}.backbone.depth={depth}', f'{prefix}.neck.in_channels=[{in_channels}]']


def size_options(model: dict, size: str, plain_role: str = 'student') -> List[str]:
    """``--cfg-options`` that turn a built-in-data config into the ``size`` pair.

    Args:
        model (dict): the config's ``model``: a distillation algorithm (``architecture`` and
            ``teacher``) or a plain detector.
        size (str): a key of :data:`MODEL_SIZES`. The default size adds no option, so its
            runs keep their keys (and their cached results).
        plain_role (str): what a plain detector is, ``'teacher'`` or ``'student'``.
            Defaults to 'student'.
    """
    if size not in MODEL_SIZES:
        raise ValueError(f'unknown model size {size!r} (choose from {", ".join(MODEL_SIZES)})')
    if plain_role not in ('teacher', 'student'):
        raise ValueError(f"plain_role must be 'teacher' or 'student', got {plain_role!r}")
    if size == DEFAULT_SIZE:
        return []
    teacher_depth, student_depth = MODEL_SIZES[size]
    if 'architecture' in model:
        return (_detector_options('model.architecture', model['architecture'], student_depth) +
                _detector_options('model.teacher', model['teacher'], teacher_depth))
    depth = teacher_depth if plain_role == 'teacher' else student_depth
    return _detector_options('model', model, depth)


def size_label(size: str) -> Dict[str, str]:
    """``{'teacher': 'R101', 'student': 'R50'}`` for the page."""
    teacher_depth, student_depth = MODEL_SIZES[size]
    return dict(teacher=f'R{teacher_depth}', student=f'R{student_depth}')
