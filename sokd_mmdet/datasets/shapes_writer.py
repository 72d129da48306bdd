"""Shapes on disk: the detection set in COCO format, the classification set in
MMPretrain's folder format, each regenerated only when its recorded description changes.

Every image is drawn (:mod:`.shapes_render`) from its own random generator seeded by
``(seed, kind, split, index)``, so an image depends only on those four numbers: the same
seed gives byte-identical files, and asking for more images leaves the first ones unchanged.
"""
import json
import os
import os.path as osp
import re

import cv2
import numpy as np

from .shapes_render import (GENERATOR_VERSION, SHAPE_CLASSES, check_image_size,
                            render_classification_image, render_detection_image)

__all__ = ['generate_detection_dataset', 'generate_classification_dataset', 'split_statistics']

_KIND_CODES = {'detection': 0, 'classification': 1}
_SPLIT_CODES = {'train': 0, 'val': 1}
_IMAGE_NAME = re.compile(r'\d{6,}\.png')


def _image_rng(seed, kind, split, index):
    """The generator of one image: a function of these four values only."""
    return np.random.default_rng([seed, _KIND_CODES[kind], _SPLIT_CODES[split], index])


def _check_arguments(out_dir, counts, seed):
    if osp.exists(out_dir) and not osp.isdir(out_dir):
        raise NotADirectoryError(
            f'output path {out_dir!r} exists and is a file; pass a directory (new or existing)')
    for split, count in counts.items():
        if int(count) != count or count < 0:
            raise ValueError(f'num_{split} must be a non-negative integer, got {count!r}')
    if int(seed) != seed or seed < 0:
        raise ValueError(f'seed must be a non-negative integer, got {seed!r}')


def _is_up_to_date(meta_file, meta, expected_files):
    """True when ``meta_file`` records exactly ``meta`` and every expected file exists."""
    if not osp.isfile(meta_file):
        return False
    try:
        with open(meta_file) as f:
            recorded = json.load(f)
    except (OSError, ValueError):
        return False
    return recorded == meta and all(osp.isfile(path) for path in expected_files)


def _progress_bar(total, progress):
    if not progress or total == 0:
        return None
    # imported here so that the generator itself works without MMEngine
    from mmengine.utils import ProgressBar
    return ProgressBar(total)


def _write_image(path, image):
    if not cv2.imwrite(path, image):
        raise OSError(f'could not write image {path!r}')


def _remove_stale_images(folder, keep):
    """Delete generated image files that the current data set no longer contains."""
    for name in os.listdir(folder):
        if _IMAGE_NAME.fullmatch(name) and name not in keep:
            os.remove(osp.join(folder, name))


def _write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f)


def _image_name(index):
    return f'{index:06d}.png'


def generate_detection_dataset(out_dir,
                               num_train=400,
                               num_val=100,
                               img_size=(256, 256),
                               seed=0,
                               progress=True):
    """Write the Shapes detection data set in COCO format.

    Layout: ``out_dir/{train,val}/000000.png ...``, ``out_dir/annotations/instances_{train,val}
    .json`` (``file_name`` relative to the split folder) and ``out_dir/meta.json``. When
    ``meta.json`` already records the same generator version, seed, counts and size and all
    files exist, nothing is rewritten; otherwise the data set is regenerated and image files
    left over from a larger earlier run are removed.

    Args:
        out_dir (str): Output directory; created if missing. Must not be a file.
        num_train (int): Number of training images.
        num_val (int): Number of validation images.
        img_size (tuple[int, int]): ``(height, width)`` of every image, each at least 32.
        seed (int): Non-negative seed; image ``i`` of a split depends only on it, the split and
            ``i``.
        progress (bool): Show an MMEngine progress bar per split.

    Returns:
        dict[str, str]: ``root``, ``meta_file``, ``train_img_dir``, ``val_img_dir``,
        ``train_ann_file`` and ``val_ann_file`` paths.
    """
    height, width = (int(v) for v in img_size)
    check_image_size(height, width)
    counts = dict(train=num_train, val=num_val)
    _check_arguments(out_dir, counts, seed)
    paths = dict(root=out_dir, meta_file=osp.join(out_dir, 'meta.json'))
    expected = []
    for split, count in counts.items():
        paths[f'{split}_img_dir'] = osp.join(out_dir, split)
        paths[f'{split}_ann_file'] = osp.join(out_dir, 'annotations', f'instances_{split}.json')
        expected.append(paths[f'{split}_ann_file'])
        expected += [osp.join(out_dir, split, _image_name(i)) for i in range(count)]
    meta = dict(
        generator='sokd_mmdet.datasets.shapes',
        kind='detection',
        version=GENERATOR_VERSION,
        seed=int(seed),
        num_train=int(num_train),
        num_val=int(num_val),
        img_size=[height, width],
        classes=list(SHAPE_CLASSES))
    if _is_up_to_date(paths['meta_file'], meta, expected):
        return paths

    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    # removed first, so an interrupted run is never mistaken for a complete one
    if osp.exists(paths['meta_file']):
        os.remove(paths['meta_file'])
    categories = [dict(id=i + 1, name=name) for i, name in enumerate(SHAPE_CLASSES)]
    for split, count in counts.items():
        img_dir = paths[f'{split}_img_dir']
        os.makedirs(img_dir, exist_ok=True)
        images, annotations = [], []
        bar = _progress_bar(count, progress)
        for index in range(count):
            image, objects = render_detection_image(
                _image_rng(seed, 'detection', split, index), (height, width))
            name = _image_name(index)
            _write_image(osp.join(img_dir, name), image)
            images.append(dict(id=index + 1, file_name=name, width=width, height=height))
            for obj in objects:
                annotations.append(
                    dict(id=len(annotations) + 1, image_id=index + 1, iscrowd=0, **obj))
            if bar is not None:
                bar.update()
        _remove_stale_images(img_dir, {_image_name(i) for i in range(count)})
        _write_json(
            paths[f'{split}_ann_file'],
            dict(
                info=dict(
                    description=f'Shapes {split}', version=GENERATOR_VERSION, seed=int(seed)),
                images=images,
                annotations=annotations,
                categories=categories))
    _write_json(paths['meta_file'], meta)
    return paths


def generate_classification_dataset(out_dir,
                                    num_train=600,
                                    num_val=200,
                                    img_size=32,
                                    seed=0,
                                    progress=True):
    """Write the Shapes classification data set in MMPretrain's ``CustomDataset`` folder format.

    Layout: ``out_dir/{train,val}/<class_name>/000000.png`` plus ``out_dir/meta.json``. Image
    ``i`` of a split shows class ``i % 6``, so classes are balanced and every class folder
    exists (empty if a split has fewer than six images). Folder names sort alphabetically, so
    pass ``metainfo=dict(classes=SHAPE_CLASSES)`` to keep the label order of
    :data:`SHAPE_CLASSES`. Re-generation is skipped as in :func:`generate_detection_dataset`.

    Args:
        out_dir (str): Output directory; created if missing. Must not be a file.
        num_train (int): Number of training images.
        num_val (int): Number of validation images.
        img_size (int): Side of the square images, at least 32.
        seed (int): Non-negative seed; image ``i`` of a split depends only on it, the split and
            ``i``.
        progress (bool): Show an MMEngine progress bar per split.

    Returns:
        dict[str, str]: ``root``, ``meta_file``, ``train_img_dir`` and ``val_img_dir`` paths.
    """
    size = int(img_size)
    check_image_size(size, size)
    counts = dict(train=num_train, val=num_val)
    _check_arguments(out_dir, counts, seed)
    paths = dict(root=out_dir, meta_file=osp.join(out_dir, 'meta.json'))
    files = {}
    for split, count in counts.items():
        paths[f'{split}_img_dir'] = osp.join(out_dir, split)
        files[split] = [
            osp.join(out_dir, split, SHAPE_CLASSES[i % len(SHAPE_CLASSES)], _image_name(i))
            for i in range(count)
        ]
    meta = dict(
        generator='sokd_mmdet.datasets.shapes',
        kind='classification',
        version=GENERATOR_VERSION,
        seed=int(seed),
        num_train=int(num_train),
        num_val=int(num_val),
        img_size=[size, size],
        classes=list(SHAPE_CLASSES))
    if _is_up_to_date(paths['meta_file'], meta, files['train'] + files['val']):
        return paths

    os.makedirs(out_dir, exist_ok=True)
    if osp.exists(paths['meta_file']):
        os.remove(paths['meta_file'])
    for split, count in counts.items():
        for name in SHAPE_CLASSES:
            os.makedirs(osp.join(out_dir, split, name), exist_ok=True)
        bar = _progress_bar(count, progress)
        for index, path in enumerate(files[split]):
            rng = _image_rng(seed, 'classification', split, index)
            _write_image(path, render_classification_image(rng, size, index % len(SHAPE_CLASSES)))
            if bar is not None:
                bar.update()
        for class_index, name in enumerate(SHAPE_CLASSES):
            keep = {_image_name(i) for i in range(class_index, count, len(SHAPE_CLASSES))}
            _remove_stale_images(osp.join(out_dir, split, name), keep)
    _write_json(paths['meta_file'], meta)
    return paths


def split_statistics(ann_file):
    """Count images and instances of a COCO annotation file, by COCO size group and class.

    Args:
        ann_file (str): Path to a COCO ``instances_*.json``.

    Returns:
        dict: ``images``, ``instances``, ``small`` (area < 32**2), ``medium``, ``large``
        (area >= 96**2) as ints, and ``per_class``, a dict from class name to instance count.
    """
    with open(ann_file) as f:
        coco = json.load(f)
    areas = np.array([ann['area'] for ann in coco['annotations']], dtype=np.float64)
    names = {cat['id']: cat['name'] for cat in coco['categories']}
    per_class = {name: 0 for name in names.values()}
    for ann in coco['annotations']:
        per_class[names[ann['category_id']]] += 1
    return dict(
        images=len(coco['images']),
        instances=len(areas),
        small=int((areas < 32**2).sum()),
        medium=int(((areas >= 32**2) & (areas < 96**2)).sum()),
        large=int((areas >= 96**2).sum()),
        per_class=per_class)
