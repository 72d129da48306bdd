"""Decide how tools/setup_env.sh builds mmcv's ops: CPU only, or CUDA for the local GPU.

    python tools/mmcv_build_plan.py      # prints shell assignments for setup_env.sh

The rule (:func:`plan`): CUDA kernels are built when the installed torch is a CUDA build, a
GPU is visible and ``nvcc`` has the same CUDA major version as torch; only for the visible
GPUs' architectures (``TORCH_CUDA_ARCH_LIST``), which keeps the build short. Otherwise CPU
ops only, saying why when a CUDA torch is there (``nms``/``roi_align`` then refuse CUDA
tensors). ``FORCE_CUDA=0`` forces CPU ops; ``FORCE_CUDA=1`` forces CUDA kernels (for the
architectures of ``TORCH_CUDA_ARCH_LIST``, or torch's list when unset) and fails without
``nvcc``. The key of the wheel cache includes the CUDA version and architectures.
"""
import os
import re
import shutil
import subprocess
import sys
from typing import List, Optional, Sequence, Tuple


def _major(version: Optional[str]) -> Optional[int]:
    return int(version.split('.')[0]) if version else None


def plan(torch_cuda: Optional[str],
         nvcc_cuda: Optional[str],
         capabilities: Sequence[Tuple[int, int]],
         force_cuda: Optional[str] = None,
         arch_list: Optional[str] = None) -> dict:
    """How to build mmcv's ops.

    Args:
        torch_cuda (str, optional): ``torch.version.cuda`` (None for a CPU build).
        nvcc_cuda (str, optional): the release of ``nvcc`` (``'13.0'``), None if not found.
        capabilities (Sequence[tuple]): compute capabilities of the visible GPUs.
        force_cuda (str, optional): the ``FORCE_CUDA`` environment variable.
        arch_list (str, optional): the ``TORCH_CUDA_ARCH_LIST`` environment variable.

    Returns:
        dict: ``cuda`` (bool), ``arch_list`` (str or None: what to set
        ``TORCH_CUDA_ARCH_LIST`` to), ``key`` (the cache key's ops part, e.g. ``'cpu'`` or
        ``'cu130-sm90'``) and ``message`` (what to tell the user, or '').

    Raises:
        ValueError: ``FORCE_CUDA=1`` where no CUDA build is possible, or an unknown value.
    """
    if force_cuda not in (None, '', '0', '1'):
        raise ValueError(f'FORCE_CUDA must be 0 or 1, got {force_cuda!r}')
    cuda_tag = 'cu' + torch_cuda.replace('.', '') if torch_cuda else None
    if force_cuda == '0':
        return dict(cuda=False, arch_list=None, key='cpu', message='FORCE_CUDA=0: CPU ops only')
    compatible = bool(torch_cuda and nvcc_cuda and _major(torch_cuda) == _major(nvcc_cuda))
    if force_cuda == '1':
        if not torch_cuda:
            raise ValueError('FORCE_CUDA=1 but the installed torch is a CPU build')
        if not nvcc_cuda:
            raise ValueError('FORCE_CUDA=1 but nvcc is not found (install the CUDA toolkit '
                             f'{torch_cuda} or put its bin/ on PATH)')
        if not compatible:
            raise ValueError(f'FORCE_CUDA=1 but nvcc is CUDA {nvcc_cuda} and torch was built '
                             f'with CUDA {torch_cuda}: install a CUDA {_major(torch_cuda)}.x '
                             'toolkit')
        archs = arch_list or _arch_list(capabilities)
        return dict(cuda=True, arch_list=archs, key=f'{cuda_tag}-{_arch_key(archs)}', message='')
    if not torch_cuda:
        return dict(cuda=False, arch_list=None, key='cpu', message='')
    why = None
    if not capabilities:
        why = ('no GPU is visible (set FORCE_CUDA=1 and TORCH_CUDA_ARCH_LIST to build CUDA '
               'kernels for another machine\'s GPU)')
    elif not nvcc_cuda:
        why = 'nvcc is not found'
    elif not compatible:
        why = f'nvcc is CUDA {nvcc_cuda} but torch was built with CUDA {torch_cuda}'
    if why:
        return dict(
            cuda=False,
            arch_list=None,
            key='cpu',
            message=(
                f'torch has CUDA {torch_cuda} but {why}: building CPU ops only; mmcv\'s nms and '
                'roi_align will refuse CUDA tensors (Faster R-CNN and every evaluation on a GPU)'))
    archs = arch_list or _arch_list(capabilities)
    return dict(cuda=True, arch_list=archs, key=f'{cuda_tag}-{_arch_key(archs)}', message='')


def _arch_list(capabilities: Sequence[Tuple[int, int]]) -> Optional[str]:
    if not capabilities:
        return None  # torch's own list
    return ';'.join(f'{a}.{b}' for a, b in sorted(set(capabilities)))


def _arch_key(archs: Optional[str]) -> str:
    if not archs:
        return 'torch-archs'
    return '-'.join('sm' + a.replace('.', '').replace('+PTX', 'ptx')
                    for a in re.split(r'[;\s]+', archs.strip()) if a)


def _nvcc_release() -> Optional[str]:
    nvcc = shutil.which('nvcc')
    if not nvcc:
        return None
    out = subprocess.run([nvcc, '--version'], capture_output=True, text=True).stdout
    match = re.search(r'release (\d+\.\d+)', out)
    return match.group(1) if match else None


def _capabilities() -> List[Tuple[int, int]]:
    import torch
    if not torch.cuda.is_available():
        return []
    return [torch.cuda.get_device_capability(i) for i in range(torch.cuda.device_count())]


def main() -> int:
    import torch
    try:
        result = plan(torch.version.cuda,
                      _nvcc_release() if torch.version.cuda else None, _capabilities(),
                      os.environ.get('FORCE_CUDA'), os.environ.get('TORCH_CUDA_ARCH_LIST'))
    except ValueError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    if result['message']:
        print(f'[setup_env] {result["message"]}', file=sys.stderr)
    print(f'MMCV_FORCE_CUDA={int(result["cuda"])}')
    print(f'MMCV_ARCH_LIST="{result["arch_list"] or ""}"')
    print(f'MMCV_OPS_KEY={result["key"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
