"""Load a training/testing config the way the tools do, and catch user errors early.

A distillation run fails late and obscurely when a path is wrong (after the teacher and the
student are built, or at the first validation). :func:`check_config` looks at the paths a
config names before anything is built and raises :class:`ConfigError` with what to change.
"""
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config

from ..engine.checkpoint_coverage import DEFAULT_MIN_COVERAGE, set_min_coverage
from .annotation_scan import AnnotationError, scan_coco_annotations
from .pretrained import is_pretrained_init, pretrain_config_of


class ConfigError(ValueError):
    """A config names something that does not exist; the message says what to change."""


def load_config(path: str,
                cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None,
                amp: bool = False,
                resume: Optional[str] = None,
                launcher: str = 'none') -> Config:
    """Read ``path`` and apply the command-line overrides of ``tools/train.py``.

    Args:
        path (str): config file.
        cfg_options (dict, optional): ``--cfg-options`` key/values, merged last.
        work_dir (str, optional): ``--work-dir``; default ``work_dirs/<config name>``.
        amp (bool): ``--amp``: mixed precision for every optimiser of the run.
        resume (str, optional): ``'auto'`` (latest checkpoint in the work dir) or a path.
        launcher (str): ``none``, ``pytorch``, ``slurm`` or ``mpi``.

    Returns:
        Config: the merged config.
    """
    if not osp.isfile(path):
        raise ConfigError(f'config file {path} does not exist')
    cfg = Config.fromfile(path)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(path))[0])
    if amp:
        _enable_amp(cfg)
    # the share of a model's tensors a teacher (or evaluated) checkpoint must fill
    set_min_coverage(cfg.get('checkpoint_min_coverage', DEFAULT_MIN_COVERAGE))
    if resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif resume is not None:
        if not osp.isfile(resume):
            raise ConfigError(f'--resume {resume}: no such checkpoint')
        cfg.resume, cfg.load_from = True, resume
    return cfg


def _enable_amp(cfg: Config) -> None:
    """Mixed precision for a single optimiser, or the student's of a SoKD optimiser dict.

    With CUDA: MMEngine's ``AmpOptimWrapper`` (float16, dynamic loss scaling). Without:
    :class:`CPUAutocastOptimWrapper` (bfloat16 autocast, no scaling needed). The policy's
    gradients are set by hand (unrolled + RELAX estimates, never scaled), so its optimiser
    stays a plain ``OptimWrapper``; the passes of the policy step run in float32 with
    autocast off (finite differences and second derivatives in half precision were noise).
    """
    import torch
    wrapper = cfg.optim_wrapper
    children = [
        v for k, v in wrapper.items() if k != 'policy' and isinstance(v, dict) and 'optimizer' in v
    ]
    for w in (children or [wrapper]):
        if torch.cuda.is_available():
            w.type = 'AmpOptimWrapper'
            w.loss_scale = 'dynamic'
        else:
            w.type = 'mmrazor.CPUAutocastOptimWrapper'
            w.dtype = 'bfloat16'


def _dataset_paths(dataset: dict):
    """(type, data_root, ann_file, image folder) of a dataset config, following wrappers."""
    while 'dataset' in dataset:  # RepeatDataset, ClassBalancedDataset, ...
        dataset = dataset['dataset']
    root = dataset.get('data_root') or ''
    ann = dataset.get('ann_file') or ''
    prefix = dataset.get('data_prefix') or {}
    if isinstance(prefix, str):  # MMPretrain's CustomDataset/ImageNet: the image folder
        img = prefix
    else:
        img = prefix.get('img') or prefix.get('img_path') or prefix.get('root') or ''
    return str(dataset.get('type', '')), root, ann, img


def _downloads_itself(dataset: dict) -> bool:
    """MMPretrain's CIFAR/MNIST data sets fetch their files into ``data_root`` when missing."""
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    kind = str(dataset.get('type', '')).split('.')[-1]
    return kind in ('CIFAR10', 'CIFAR100', 'MNIST', 'FashionMNIST') and \
        dataset.get('download', True)


def _data_hint(dataset_type: str, root: str, split: str) -> str:
    if dataset_type.split('.')[-1] == 'ShapesDataset':
        how = ('Generate the built-in data set with `python tools/make_shapes_dataset.py '
               f'--out {root.rstrip("/") or "data/shapes"}`')
    elif osp.basename(root.rstrip('/')).startswith('shapes_cls'):
        how = ('Generate the built-in classification data set with `python '
               f'tools/make_shapes_dataset.py --classification --out {root.rstrip("/")}`')
    elif dataset_type.split('.')[-1] in ('ImageNet', 'CustomDataset'):
        how = ('Put the image folders there (ImageNet: data/imagenet/{train,val}/ and '
               'meta/{train,val}.txt, as in MMPretrain\'s dataset preparation)')
    else:
        how = (f'Put the {dataset_type or "data set"} files there (for COCO: '
               'data/coco/annotations/instances_{train,val}2017.json and '
               'data/coco/{train,val}2017/, as in MMDetection\'s dataset preparation)')
    return f' {how}, or set {split}_dataloader.dataset.data_root.'


def _coco_dataset(dataset: dict):
    """The class names of a COCO-format detection data set config, or None for others."""
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    from mmdet.datasets import CocoDataset
    from mmdet.registry import DATASETS
    name = str(dataset.get('type', ''))
    try:
        cls = DATASETS.get(name.split('.')[-1]) if name else None
    except KeyError:
        cls = None
    if not (isinstance(cls, type) and issubclass(cls, CocoDataset)):
        return None
    meta = dataset.get('metainfo') or {}
    return tuple(meta.get('classes') or cls.METAINFO['classes'])


def check_config(cfg: Config, splits: Sequence[str] = ('train', 'val', 'test')) -> None:
    """Raise :class:`ConfigError` for paths in ``cfg`` that do not exist.

    Checks the data root, annotation file and image folder of each split's dataset (for a
    COCO-format data set also the annotation file's contents and that every image it names
    is there and not empty: :func:`scan_coco_annotations`), the teacher checkpoint of a
    distillation model, the local ``Pretrained`` checkpoints of the model's ``init_cfg`` (when
    ``splits`` has ``train``), and ``load_from`` when not resuming.

    Args:
        cfg (Config): a loaded config.
        splits (Sequence[str]): dataloaders to check (``train``, ``val``, ``test``).
    """
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        if _downloads_itself(loader['dataset']):
            continue
        dataset_type, root, ann, img = _dataset_paths(loader['dataset'])
        hint = _data_hint(dataset_type, root, split)
        if root and not osp.isdir(root):
            raise ConfigError(f'{split} data root {root} does not exist.' + hint)
        if ann:
            ann_path = osp.join(root, ann)
            if not osp.isfile(ann_path):
                raise ConfigError(f'{split} annotation file {ann_path} does not exist.' + hint)
        if img and not osp.isdir(osp.join(root, img)):
            raise ConfigError(f'{split} image folder {osp.join(root, img)} does not exist.' + hint)
        coco = _coco_dataset(loader['dataset'])
        if coco is not None and ann:
            try:
                scan_coco_annotations(osp.join(root, ann), osp.join(root, img), coco)
            except AnnotationError as err:
                raise ConfigError(f'{split}: {err}') from None
    model = cfg.get('model', {})
    ckpt = model.get('teacher_ckpt')
    if ckpt and '://' not in ckpt:
        if not osp.isfile(ckpt):
            raise ConfigError(
                f'teacher checkpoint {ckpt} does not exist. Train the teacher first (see '
                'README) or set model.teacher_ckpt (--cfg-options model.teacher_ckpt=PATH).')
        if not os.access(ckpt, os.R_OK):
            raise ConfigError(f'teacher checkpoint {ckpt} is not readable')
    if 'train' in splits:  # MMEngine loads init_cfg weights when training only
        _check_pretrained(model)
    load_from = cfg.get('load_from')
    if load_from and not cfg.get('resume') and '://' not in load_from and \
            not osp.isfile(load_from):
        raise ConfigError(f'load_from {load_from} does not exist')


def _pretrained_inits(node, where: str):
    """``(config key, checkpoint)`` of every ``Pretrained`` init_cfg under ``node``."""
    if isinstance(node, dict):
        init = node.get('init_cfg')
        if is_pretrained_init(init):
            yield f'{where}.init_cfg', init.get('checkpoint')
        for key, value in node.items():
            if key != 'init_cfg':
                yield from _pretrained_inits(value, f'{where}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _pretrained_inits(value, f'{where}.{i}')


def _check_pretrained(model: dict) -> None:
    """A local ``Pretrained`` checkpoint that is missing, with the command that makes it.

    A distillation model's teacher is left out when ``teacher_ckpt`` is set: its weights
    come from that checkpoint, not from its ``init_cfg``.
    """
    parts = {k: v for k, v in model.items() if not (k == 'teacher' and model.get('teacher_ckpt'))}
    for key, ckpt in _pretrained_inits(parts, 'model'):
        if not ckpt or '://' in str(ckpt) or osp.isfile(ckpt):
            continue
        pretrain = pretrain_config_of(ckpt)
        how = (f'Pretrain it with `python tools/train.py {pretrain}`'
               if pretrain else 'Put the weights there')
        raise ConfigError(f'pretrained weights {ckpt} ({key}) do not exist. {how}, or set '
                          f'{key}.checkpoint=PATH, or {key}=None to train from scratch.')


def init_cpu_distributed(cfg: Config) -> bool:
    """Start a gloo process group for ``--launcher pytorch`` on a machine without CUDA.

    MMEngine 0.10.7's PyTorch launcher always calls ``torch.cuda.set_device``, which fails
    without a GPU; a process group that already exists makes it skip its own set-up. With
    CUDA this does nothing and MMEngine initialises as usual (NCCL).

    Returns:
        bool: whether this function initialised the process group.
    """
    import torch
    import torch.distributed as dist
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available() or \
            dist.is_initialized():
        return False
    dist.init_process_group(backend='gloo')
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    return True


def _optimizer_layout(optim_wrapper: dict):
    """The names of the optimisers a config builds (an OptimWrapperDict), or None for one."""
    children = sorted(k for k, v in optim_wrapper.items() if isinstance(v, dict) and (
        'optimizer' in v or 'type' in v) and k not in ('optimizer', 'clip_grad', 'paramwise_cfg'))
    return children if 'constructor' in optim_wrapper and children else None


def check_resume(cfg: Config) -> None:
    """Raise :class:`ConfigError` when the checkpoint a run resumes from has other
    optimisers than the config builds (e.g. a SoKD run's student + policy resumed with a CWD
    config, which failed in MMEngine with ``KeyError: 'param_groups'``).

    Reads only the checkpoint's optimiser entry (memory-mapped). No-op when not resuming or
    when there is no checkpoint yet.
    """
    if not cfg.get('resume'):
        return
    import torch
    from mmengine.runner import find_latest_checkpoint
    path = cfg.get('load_from') or find_latest_checkpoint(cfg.work_dir)
    if not path or not osp.isfile(path):
        return
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True, mmap=True)
    except Exception:  # not a zip checkpoint, unsafe, corrupt: the loader reports it later
        return
    state = ckpt.get('optimizer') if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        return
    saved = None if 'param_groups' in state else sorted(state)
    wanted = _optimizer_layout(cfg.get('optim_wrapper') or {})
    if saved != wanted:

        def describe(layout):
            return 'one optimiser' if layout is None else f'optimisers {layout}'

        raise ConfigError(
            f'cannot resume from {path}: it was written by a run with {describe(saved)}, '
            f'and this config builds {describe(wanted)}. Resume with the config that run was '
            'trained with (MMEngine keeps a copy of it in the work dir), or start a new run '
            'with load_from=<checkpoint> to take only its weights.')
