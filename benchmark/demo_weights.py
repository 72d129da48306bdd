"""The weights ``make demo`` starts from, shipped in ``demo/weights/`` with their SHA-256 sums.

Two files, both made by ``python tools/make_demo_weights.py`` from the benchmark's cached
runs (trained first if they are not there):

- the teacher RetinaNet (ResNet-34-w32, 128 px), the benchmark's own teacher;
- the student's backbone (ResNet-18-w16) pretrained on the built-in classification data,
  its ``backbone.`` weights only (what ``init_cfg=dict(type='Pretrained',
  prefix='backbone.')`` reads).

Floating-point tensors are stored in half precision (the file is half the size; the demo
loads them into float32 models) and each file carries a ``meta`` record: where it came from
(the run's key and config) and what it measured there.
"""
import hashlib
import os
import os.path as osp
from typing import Dict

from . import REPO_ROOT

DEMO_DIR = osp.join(REPO_ROOT, 'demo', 'weights')
TEACHER_FILE = 'retinanet_r34-w32_shapes128_teacher.pth'
BACKBONE_FILE = 'resnet18-w16_shapes-cls64_backbone.pth'
SUMS_FILE = 'SHA256SUMS'
MAKE_COMMAND = 'python tools/make_demo_weights.py'


class DemoWeightsError(RuntimeError):
    """A shipped demo weight file that is missing or not the one its sum names."""


def half_state_dict(state_dict: dict, prefix: str = '') -> dict:
    """The entries of ``state_dict`` whose key starts with ``prefix``, floating-point tensors
    in half precision (integer buffers such as BatchNorm's counters unchanged)."""
    return {
        k: v.half() if v.is_floating_point() else v
        for k, v in state_dict.items() if k.startswith(prefix)
    }


def sha256_of(path: str) -> str:
    """The SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def export_weights(src: str, dst: str, meta: dict, prefix: str = '') -> dict:
    """Write ``src``'s state dict (its ``prefix`` entries) in half precision to ``dst``.

    Args:
        src (str): a ``tools/train.py`` checkpoint.
        dst (str): the file to write (its folder is created).
        meta (dict): plain values saved as the file's ``meta`` (readable with
            ``torch.load(weights_only=True)``).
        prefix (str): keep only the keys that start with it.

    Returns:
        dict: ``file``, ``sha256``, ``bytes`` and ``params`` (the number of values kept).
    """
    import torch

    from sokd_mmdet.compat import load_checkpoint_file  # the safe loader, MMEngine's objects
    ckpt = load_checkpoint_file(src, map_location='cpu')
    state = half_state_dict(ckpt.get('state_dict', ckpt), prefix)
    if not state:
        raise ValueError(f'{src}: no state_dict entry starts with {prefix!r}')
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise ValueError(f'{src}: {len(bad)} tensor(s) leave the float16 range ({bad[0]}, ...): '
                         'they cannot be shipped in half precision')
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    torch.save(dict(state_dict=state, meta=meta), dst)
    return dict(
        file=osp.basename(dst),
        sha256=sha256_of(dst),
        bytes=osp.getsize(dst),
        params=sum(v.numel() for v in state.values() if v.is_floating_point()))


def write_sums(folder: str, names) -> str:
    """Write ``SHA256SUMS`` (``sha256sum``'s format) for the files ``names`` of ``folder``."""
    path = osp.join(folder, SUMS_FILE)
    with open(path, 'w') as f:
        for name in sorted(names):
            f.write(f'{sha256_of(osp.join(folder, name))}  {name}\n')
    return path


def read_sums(folder: str) -> Dict[str, str]:
    """``{file name: sha256}`` of ``folder``'s ``SHA256SUMS``."""
    path = osp.join(folder, SUMS_FILE)
    if not osp.isfile(path):
        raise DemoWeightsError(f'{path} is missing: restore it with `git checkout -- {folder}` '
                               f'or remake the demo weights with `{MAKE_COMMAND}`')
    sums = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.split(maxsplit=1)
            if len(parts) != 2 or len(parts[0]) != 64:
                raise DemoWeightsError(f'{path}, line {number}: not "<sha256>  <file>": '
                                       f'restore it with `git checkout -- {path}`')
            sums[parts[1].strip().lstrip('*')] = parts[0]  # sha256sum -b marks binary with *
    return sums


def check_weights(folder: str = DEMO_DIR) -> Dict[str, str]:
    """The demo's weight files, each checked against ``SHA256SUMS``.

    Returns:
        dict: ``{'teacher': path, 'backbone': path}``.

    Raises:
        DemoWeightsError: a file that is missing, or whose sum is not the recorded one
            (e.g. a Git LFS pointer or a partial download), naming it and the fix.
    """
    sums = read_sums(folder)
    found = {}
    for role, name in (('teacher', TEACHER_FILE), ('backbone', BACKBONE_FILE)):
        path = osp.join(folder, name)
        fix = (f'restore it with `git checkout -- {path}` or remake the demo weights with '
               f'`{MAKE_COMMAND}`')
        if name not in sums:
            raise DemoWeightsError(f'{osp.join(folder, SUMS_FILE)} has no sum for {name}: {fix}')
        if not osp.isfile(path):
            raise DemoWeightsError(f'the demo {role} weights {path} are missing: {fix}')
        digest = sha256_of(path)
        if digest != sums[name]:
            raise DemoWeightsError(f'{path} is not the file SHA256SUMS names (sha256 {digest}, '
                                   f'expected {sums[name]}): {fix}')
        found[role] = path
    return found
