"""The machine and the code a benchmark ran on, for ``results.json`` and the page."""
import os
import platform
import subprocess
from importlib import metadata
from typing import Optional

from . import REPO_ROOT


def _gpu_name() -> Optional[str]:
    """The GPU the runs train on (MMEngine's default device), or None."""
    import torch
    if not torch.cuda.is_available():
        return None
    count = torch.cuda.device_count()
    return torch.cuda.get_device_name(0) + (f' (x{count} visible)' if count > 1 else '')


def machine_info() -> dict:
    """CPU model, cores, thread setting, GPU, library versions, the commit of the code."""
    cpu = platform.processor() or '?'
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(
                line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    info = dict(
        cpu_model=cpu,
        logical_cores=os.cpu_count(),
        usable_cores=len(os.sched_getaffinity(0))
        if hasattr(os, 'sched_getaffinity') else os.cpu_count(),
        omp_num_threads=os.environ.get('OMP_NUM_THREADS'),
        python=platform.python_version(),
        platform=platform.platform(),
        gpu=_gpu_name())
    for pkg in ('torch', 'mmengine', 'mmcv', 'mmdet', 'mmrazor'):
        try:
            info[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            info[pkg] = None
    try:  # the code that ran: commit, and whether the working tree differed from it
        git = ['git', '-C', REPO_ROOT]
        info['commit'] = subprocess.run(
            git + ['rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()
        info['uncommitted_changes'] = bool(
            subprocess.run(  # read-only: no index refresh
                git + ['status', '--porcelain', '--untracked-files=no'],
                capture_output=True,
                text=True,
                env=dict(os.environ, GIT_OPTIONAL_LOCKS='0')).stdout.strip())
    except OSError:
        info['commit'] = None
    return info
