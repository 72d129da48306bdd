"""Turn a distillation checkpoint into a student-only checkpoint that plain MMDetection loads."""
from collections import OrderedDict
from typing import Optional

import torch

from ..compat import load_checkpoint_file

STUDENT_PREFIX = 'architecture.'


def student_state_dict(state_dict: dict, prefix: str = STUDENT_PREFIX) -> OrderedDict:
    """The student's weights of a distillation ``state_dict``, without ``prefix``.

    Teacher, connectors, DAM and the DAFA policy (everything outside ``prefix``) are dropped.

    Args:
        state_dict (dict): the ``state_dict`` of an MMRazor distillation checkpoint.
        prefix (str): the student's prefix (MMRazor calls the student ``architecture``).

    Returns:
        OrderedDict: the student's ``state_dict``.

    Raises:
        KeyError: no key starts with ``prefix`` (not a distillation checkpoint).
    """
    out = OrderedDict((k[len(prefix):], v) for k, v in state_dict.items() if k.startswith(prefix))
    if not out:
        raise KeyError(f'no weights start with {prefix!r}: is this a distillation checkpoint '
                       f'(keys look like {list(state_dict)[:3]})?')
    return out


def export_student(src: str, dst: str, dataset_meta: Optional[dict] = None) -> dict:
    """Write the student of distillation checkpoint ``src`` to ``dst``.

    The result holds ``state_dict`` and ``meta`` only (no optimiser, no message hub, no
    teacher), and loads with ``mmdet.apis.init_detector(student_config, dst)``.

    Args:
        src (str): a checkpoint written by ``tools/train.py`` for a distillation config.
        dst (str): where to write the student checkpoint.
        dataset_meta (dict, optional): class names etc.; default: those of ``src``.

    Returns:
        dict: the written checkpoint.
    """
    ckpt = load_checkpoint_file(src, map_location='cpu')
    state = ckpt.get('state_dict', ckpt)
    meta = dict(ckpt.get('meta', {}))
    out_meta = {k: meta[k] for k in ('epoch', 'iter', 'mmengine_version') if k in meta}
    out_meta['dataset_meta'] = dataset_meta or meta.get('dataset_meta')
    out_meta['distilled_from'] = src
    out = {'state_dict': student_state_dict(state), 'meta': out_meta}
    torch.save(out, dst)
    return out
