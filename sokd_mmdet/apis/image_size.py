"""One image size for a run: the ``scale`` of every ``Resize`` of its data pipelines.

The ``Resize`` transforms are found by their ``type``, so a config that adds a transform in
front of them (or a data-set wrapper around its data set) still gets the size asked for. The
benchmark, the demo and the cost benchmark set the built-in data's size this way.
"""
from typing import List, Tuple

DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _is_resize(transform) -> bool:
    # 'Resize', a scoped 'mmdet.Resize', or the class itself
    kind = transform.get('type', '') if isinstance(transform, dict) else ''
    kind = kind if isinstance(kind, str) else getattr(kind, '__name__', '')
    return kind.split('.')[-1] == 'Resize'


def _pipelines(dataset, prefix: str) -> List[Tuple[str, list]]:
    """``(dotted key, pipeline)`` of a data set and of the data sets that it wraps."""
    found = []
    if 'pipeline' in dataset:
        found.append((f'{prefix}.pipeline', dataset['pipeline']))
    if isinstance(dataset.get('dataset'), dict):  # RepeatDataset, ClassBalancedDataset, ...
        found += _pipelines(dataset['dataset'], f'{prefix}.dataset')
    for i, inner in enumerate(dataset.get('datasets') or []):  # ConcatDataset
        found += _pipelines(inner, f'{prefix}.datasets.{i}')
    return found


def resize_keys(cfg) -> List[str]:
    """The ``--cfg-options`` keys of the ``scale`` of every ``Resize`` the runs use.

    These are the pipelines of the train, val and test data loaders' data sets (wrapped
    data sets included), each searched for transforms of type ``Resize``. A config's
    top-level ``train_pipeline`` / ``test_pipeline`` are left alone: they are templates that
    the data loaders copied when the config was read, so no run reads them again.

    Args:
        cfg (Config | dict): a resolved config.

    Returns:
        list[str]: e.g. ``['train_dataloader.dataset.pipeline.2.scale', ...]``, train, val,
        test, each in pipeline order.

    Raises:
        ValueError: a data loader's pipeline without a ``Resize`` (the benchmark could not
            set its image size).
    """
    keys = []
    for loader in DATALOADERS:
        if loader not in cfg:
            continue
        for prefix, pipeline in _pipelines(cfg[loader]['dataset'], f'{loader}.dataset'):
            found = [f'{prefix}.{i}.scale' for i, t in enumerate(pipeline) if _is_resize(t)]
            if not found:
                types = [t.get('type') if isinstance(t, dict) else t for t in pipeline]
                raise ValueError(
                    f'{prefix} has no Resize transform ({types}): the image size is set '
                    'through the scale of Resize; add one to the pipeline')
            keys += found
    return keys


def image_size_options(cfg, size: int) -> List[str]:
    """``--cfg-options`` that make every image ``size`` x ``size`` (see :func:`resize_keys`).

    Args:
        cfg (Config | dict): a resolved config.
        size (int): the side of the square images, in pixels.

    Returns:
        list[str]: ``'<key>=(size,size)'`` for each key of :func:`resize_keys`.
    """
    return [f'{key}=({size},{size})' for key in resize_keys(cfg)]
