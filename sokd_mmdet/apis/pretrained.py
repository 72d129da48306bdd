"""Where a config's ``Pretrained`` backbone weights come from on the built-in data.

The built-in-data detector configs name the weights that ``tools/train.py
configs/pretrain/<name>.py`` writes, ``work_dirs/<name>/iter_N.pth``: one convention, read
here by ``tools/train.py`` (the command a missing file is made by) and by the benchmark (what
it pretrains).
"""
import os.path as osp
from typing import Optional

# the repository's root (the package is used from a checkout: configs/ sits beside it)
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def is_pretrained_init(init) -> bool:
    """Whether an ``init_cfg`` is MMEngine's ``Pretrained`` (with or without a scope)."""
    return isinstance(init, dict) and str(init.get('type', '')).split('.')[-1] == 'Pretrained'


def pretrain_config_of(checkpoint: str, root: str = REPO_ROOT) -> Optional[str]:
    """``configs/pretrain/<name>.py`` (relative to ``root``) that writes ``checkpoint``.

    Args:
        checkpoint (str): a path of the form ``.../<name>/iter_N.pth``.
        root (str): the repository whose ``configs/pretrain`` is searched.

    Returns:
        str | None: the config's path relative to ``root``, or None when ``root`` has no
        pretraining config of that name.
    """
    name = osp.basename(osp.dirname(str(checkpoint)))
    path = osp.join('configs', 'pretrain', name + '.py')
    return path if name and osp.isfile(osp.join(root, path)) else None
