"""A cheap look at a COCO-format annotation file before training starts.

What MMDetection would otherwise report deep inside data loading, without the file: a
malformed JSON (``JSONDecodeError``), annotations whose categories are none of the data
set's classes (``ValueError: need at least one array to concatenate``), images that are
missing or empty (a ``cv2.error`` at the first batch that meets them).
"""
import json
import os.path as osp
from typing import Optional, Sequence


class AnnotationError(ValueError):
    """An annotation file or the images it names cannot be trained on."""


def scan_coco_annotations(ann_file: str,
                          img_dir: str,
                          classes: Optional[Sequence[str]] = None,
                          max_listed: int = 5) -> dict:
    """Check a COCO-format annotation file and the files of the images it lists.

    Args:
        ann_file (str): the JSON file.
        img_dir (str): the folder the images' ``file_name`` are relative to.
        classes (Sequence[str], optional): the data set's class names (its ``metainfo``);
            at least one of the file's categories must be among them.
        max_listed (int): how many bad images an error names.

    Returns:
        dict: ``images``, ``annotations``, ``categories`` counts.

    Raises:
        AnnotationError: naming the file and what is wrong (the line and column of a JSON
            error; the categories found and the classes expected; the first missing or
            empty images).
    """
    try:
        with open(ann_file) as f:
            data = json.load(f)
    except json.JSONDecodeError as err:
        raise AnnotationError(f'annotation file {ann_file} is not valid JSON: {err.msg} at '
                              f'line {err.lineno}, column {err.colno}') from None
    if not isinstance(data, dict) or not {'images', 'annotations', 'categories'} <= set(data):
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise AnnotationError(f'annotation file {ann_file} is not in COCO format: it needs '
                              f'"images", "annotations" and "categories", found {found}')
    names = {c.get('id'): c.get('name') for c in data['categories']}
    if classes is not None and not set(names.values()) & set(classes):
        found = sorted(map(str, names.values()))[:10]
        raise AnnotationError(
            f'annotation file {ann_file}: none of its categories {found} '
            f'is one of the data set\'s classes {list(classes)[:10]}; set the dataset\'s '
            'metainfo=dict(classes=(...)) to the names used in the file')
    unknown = sorted({a.get('category_id') for a in data['annotations']} - set(names), key=str)
    if unknown:
        raise AnnotationError(f'annotation file {ann_file}: annotations use category ids '
                              f'{unknown[:10]} that "categories" does not define')
    bad = []
    for image in data['images']:
        path = osp.join(img_dir, image.get('file_name', ''))
        if not osp.isfile(path):
            bad.append(f'{path} (missing)')
        elif osp.getsize(path) == 0:
            bad.append(f'{path} (0 bytes)')
        if len(bad) >= max_listed:
            break
    if bad:
        raise AnnotationError(f'annotation file {ann_file} names images that cannot be read: ' +
                              ', '.join(bad))
    return dict(
        images=len(data['images']), annotations=len(data['annotations']), categories=len(names))
