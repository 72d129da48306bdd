"""Make the released OpenMMLab stack work on current PyTorch.

Imported first by :mod:`sokd_mmdet`, before anything touches ``mmrazor``. It fixes exactly two
known breakages of the pinned stack (``requirements/runtime.txt``: MMRazor 1.0.0, MMEngine
0.10.7 on torch 2.x) and nothing else:

1. **MMRazor 1.0.0 does not import on torch >= 2.1.** ``import mmrazor.models`` executes
   quantization code written for torch 1.13-2.0 (names removed from
   ``torch.ao.quantization``). Distillation never uses quantization, so a stand-in module is
   registered for ``mmrazor.structures.quantization``: it exports the two names the rest of
   MMRazor imports (``BackendConfigs``, ``QConfigHandler``), and both raise
   :class:`QuantizationUnavailableError` when used.
2. **MMEngine 0.10.7 cannot load its own checkpoints on torch >= 2.6**, where ``torch.load``
   defaults to ``weights_only=True`` and refuses the ``HistoryBuffer`` and numpy objects that
   the Runner's message hub writes. Loading stays ``weights_only=True``; the classes MMEngine
   writes are added to torch's allow-list (:data:`MMENGINE_CHECKPOINT_GLOBALS`), and the local
   checkpoint loader is replaced by one that turns a refusal into a clear error naming the
   objects that are not allowed. Checkpoints named by URL (``http(s)://``,
   ``torchvision://``, ``open-mmlab://``, ``pretrained=`` in ``init_cfg``), which MMEngine
   unpickled with ``weights_only=False`` through ``torch.hub``, go through the same loader
   (:func:`load_url_checkpoint`). Nothing ever loads with ``weights_only=False``.
   A history buffer also pickles its statistics methods, which protocol 2 writes as
   ``getattr(HistoryBuffer, 'min')``. ``builtins.getattr`` itself stays off the list (it would
   let a pickle read any attribute of an allowed object); the name is bound to
   :func:`history_buffer_attribute`, which resolves only those four methods.

Both fixes are no-ops where they are not needed (other versions, packages not installed).
``tests/test_compat.py`` fails when an upstream release makes either of them unnecessary.
"""
import importlib.util
import os.path as osp
import pickle
import sys
import types
from collections.abc import Mapping

import numpy as np
import torch
from packaging.version import Version

__all__ = [
    'QuantizationUnavailableError', 'UnsafeCheckpointError', 'CorruptCheckpointError',
    'MMENGINE_CHECKPOINT_GLOBALS', 'MMRAZOR_QUANTIZATION_MODULE',
    'install_mmrazor_quantization_standin', 'allow_mmengine_checkpoints', 'load_checkpoint_file',
    'load_url_checkpoint', 'history_buffer_attribute'
]

MMRAZOR_QUANTIZATION_MODULE = 'mmrazor.structures.quantization'
_TORCH = Version(torch.__version__.split('+')[0])


class QuantizationUnavailableError(RuntimeError):
    """Raised when MMRazor quantization is used under sokd_mmdet's compatibility layer."""


class CorruptCheckpointError(ValueError):
    """A checkpoint file that is empty, truncated or not a checkpoint at all."""


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds objects outside the allow-list of what MMEngine writes."""


def _quantization_unavailable(*args, **kwargs):
    raise QuantizationUnavailableError(
        'MMRazor quantization is disabled by sokd_mmdet.compat: mmrazor 1.0.0 quantization '
        f'code does not run on torch {torch.__version__} (it needs torch 1.13-2.0). '
        'Distillation does not need it.')


class _UnavailableBackendConfigs(Mapping):
    """Stands in for ``mmrazor.structures.quantization.BackendConfigs``."""

    def __getitem__(self, key):
        _quantization_unavailable()

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0


class _UnavailableQConfigHandler:
    """Stands in for ``mmrazor.structures.quantization.QConfigHandler``."""

    def __init__(self, *args, **kwargs):
        _quantization_unavailable()

    replace_fakequant = staticmethod(_quantization_unavailable)


def _mmrazor_needs_standin() -> bool:
    if _TORCH < Version('2.1'):
        return False
    try:
        from importlib.metadata import version
        return Version(version('mmrazor')) <= Version('1.0.0')
    except Exception:  # mmrazor not installed: nothing to fix
        return False


def install_mmrazor_quantization_standin() -> bool:
    """Register the quantization stand-in for mmrazor <= 1.0.0 on torch >= 2.1.

    Returns:
        bool: whether the stand-in is in place.
    """
    if not _mmrazor_needs_standin():
        return False
    existing = sys.modules.get(MMRAZOR_QUANTIZATION_MODULE)
    if existing is not None:
        # already imported: either our stand-in, or the real one on a torch where it worked
        return getattr(existing, '__sokd_standin__', False)
    if 'mmrazor.structures' in sys.modules:
        # too late to intervene, and importing it failed or will fail: say what to do
        raise ImportError('sokd_mmdet must be imported before mmrazor (add '
                          "custom_imports=dict(imports=['sokd_mmdet']) first in the config)")
    module = types.ModuleType(MMRAZOR_QUANTIZATION_MODULE, __doc__)
    module.__sokd_standin__ = True
    module.BackendConfigs = _UnavailableBackendConfigs()
    module.QConfigHandler = _UnavailableQConfigHandler
    module.__all__ = ['BackendConfigs', 'QConfigHandler']
    sys.modules[MMRAZOR_QUANTIZATION_MODULE] = module
    return True


HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')


def history_buffer_attribute(obj, name: str):
    """What ``builtins.getattr`` means inside a checkpoint: only HistoryBuffer's statistics.

    Raises:
        UnsafeCheckpointError: for any other object or attribute.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    if obj is HistoryBuffer and name in HISTORY_BUFFER_STATISTICS:
        return getattr(obj, name)
    raise UnsafeCheckpointError(
        f'refused getattr({getattr(obj, "__name__", type(obj).__name__)}, {name!r}) in a '
        'checkpoint: only the statistics methods of mmengine HistoryBuffer are allowed')


def _mmengine_checkpoint_globals() -> list:
    """Every non-builtin global an MMEngine Runner checkpoint pickles (torch >= 2.6)."""
    found = []
    if importlib.util.find_spec('mmengine') is not None:
        from mmengine.logging.history_buffer import HistoryBuffer
        found += [HistoryBuffer, (history_buffer_attribute, 'builtins.getattr')]
    # numpy arrays (HistoryBuffer's storage) and numpy scalars (runtime info) pickle through
    # these; the dtype classes are those of the numeric values the Runner logs.
    multiarray = np.core.multiarray
    found += [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype]
    found += [
        type(np.dtype(t))
        for t in ('float64', 'float32', 'float16', 'int64', 'int32', 'int8', 'uint8', 'bool')
    ]
    return found


MMENGINE_CHECKPOINT_GLOBALS = _mmengine_checkpoint_globals()


def allow_mmengine_checkpoints() -> bool:
    """Add what MMEngine writes to torch's ``weights_only`` allow-list (torch >= 2.4).

    Returns:
        bool: whether the allow-list was extended.
    """
    if not hasattr(torch.serialization, 'add_safe_globals'):
        return False
    torch.serialization.add_safe_globals(MMENGINE_CHECKPOINT_GLOBALS)
    return True


def load_checkpoint_file(filename, map_location=None):
    """Load a local checkpoint with ``weights_only=True`` and a clear error on refusal.

    Replaces MMEngine's loader for local paths (``CheckpointLoader`` scheme ``''``).

    Args:
        filename (str): path of the checkpoint.
        map_location: as in :func:`torch.load`.

    Returns:
        dict: the checkpoint.

    Raises:
        FileNotFoundError: the file does not exist.
        UnsafeCheckpointError: it holds objects outside the allow-list.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if not _looks_like_a_checkpoint(filename):
            raise CorruptCheckpointError(
                _corrupt(filename, 'it is neither a zip archive nor '
                         'a pickle')) from err
        try:
            names = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
        except Exception:  # not a zip checkpoint: the message of torch is all we have
            names = []
        raise UnsafeCheckpointError(
            f'refused to load {filename}: it contains objects that are not on the allow-list '
            f'of what MMEngine writes ({", ".join(names) or err}). Loading arbitrary pickles '
            'can run code. If you trust this file and know these classes are safe, allow them '
            'with torch.serialization.add_safe_globals([...]) before loading.') from err
    except EOFError as err:
        raise CorruptCheckpointError(_corrupt(filename, 'it is empty')) from err
    except RuntimeError as err:
        if 'zip archive' in str(err) or 'PytorchStreamReader' in str(err):
            raise CorruptCheckpointError(
                _corrupt(filename, 'its zip archive is truncated or '
                         'damaged')) from err
        raise


def _looks_like_a_checkpoint(filename) -> bool:
    """A zip archive (torch >= 1.6) or a pickle (protocol 2+: the legacy format)."""
    import zipfile
    if zipfile.is_zipfile(filename):
        return True
    with open(filename, 'rb') as f:
        return f.read(1) == b'\x80'


def _corrupt(filename, why: str) -> str:
    return (f'{filename} is not a readable PyTorch checkpoint: {why} '
            f'({osp.getsize(filename)} bytes). It was probably cut short while being written '
            'or downloaded: use an earlier checkpoint of the run (last_checkpoint in the work '
            'dir names the newest complete one), or download it again.')


def load_url_checkpoint(url, map_location=None, model_dir=None, progress=False):
    """Load an ``http(s)://`` checkpoint through the same allow-list as a local one.

    Replaces MMEngine's ``load_from_http`` (which calls ``torch.hub.load_state_dict_from_url``
    with its default ``weights_only=False``, so a pickle in the hub cache ran its code). The
    file is downloaded once into the torch hub cache (``$TORCH_HOME/hub/checkpoints``, as
    before; under DDP by local rank 0 first) and read by :func:`load_checkpoint_file`. The
    ``torchvision://`` and ``open-mmlab://`` schemes resolve to such URLs and come here too.

    Raises:
        RuntimeError: the file is not in the cache and cannot be downloaded (names the URL
            and the cache path where a copy can be put by hand).
        UnsafeCheckpointError: it holds objects outside the allow-list.
    """
    from urllib.parse import urlparse

    from mmengine.dist import get_dist_info
    rank, world_size = get_dist_info()
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    cached = osp.join(model_dir, osp.basename(urlparse(url).path))

    def download():
        if osp.isfile(cached):
            return
        import os
        os.makedirs(model_dir, exist_ok=True)
        try:
            torch.hub.download_url_to_file(url, cached, progress=progress)
        except Exception as err:  # URLError, HTTPError, timeouts, ...
            raise RuntimeError(
                f'cannot download the checkpoint {url} ({type(err).__name__}: {err}). '
                f'Download it on a machine with internet access and put it at {cached}, '
                'or give a local path instead of the URL.') from err

    if rank == 0:
        download()
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            download()
    return load_checkpoint_file(cached, map_location=map_location)


def _register_safe_loaders():
    if importlib.util.find_spec('mmengine') is None:
        return
    from mmengine.runner import checkpoint
    checkpoint.CheckpointLoader.register_scheme(prefixes='', force=True)(load_checkpoint_file)
    checkpoint.CheckpointLoader.register_scheme(
        prefixes=('http://', 'https://'), force=True)(
            load_url_checkpoint)
    # load_from_torchvision and load_from_openmmlab call this module-level name directly
    checkpoint.load_from_http = load_url_checkpoint


MMRAZOR_STANDIN_INSTALLED = install_mmrazor_quantization_standin()
if _TORCH >= Version('2.6'):
    allow_mmengine_checkpoints()
    _register_safe_loaders()
