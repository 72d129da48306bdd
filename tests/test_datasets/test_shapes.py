"""Tests for the Shapes data set generator and ``ShapesDataset``."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from sokd_mmdet.datasets import (SHAPE_CLASSES, ShapesDataset, generate_classification_dataset,
                                 generate_detection_dataset, render_detection_image,
                                 sample_object_colour, split_statistics)

SMALL = (64, 64)


def read_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


def load_json(path):
    with open(path) as f:
        return json.load(f)


def split_files(paths, split):
    """Annotation bytes and ``{file name: image bytes}`` of one split."""
    folder = paths[f'{split}_img_dir']
    images = {name: read_bytes(osp.join(folder, name)) for name in sorted(os.listdir(folder))}
    return read_bytes(paths[f'{split}_ann_file']), images


@pytest.fixture(scope='module')
def shapes256(tmp_path_factory):
    """30 training images at 256x256, shared by the checks that need real statistics."""
    out = str(tmp_path_factory.mktemp('shapes256'))
    return generate_detection_dataset(out, num_train=30, num_val=2, seed=3, progress=False)


def test_same_seed_is_byte_identical(tmp_path):
    a = generate_detection_dataset(str(tmp_path / 'a'), 3, 2, SMALL, seed=7, progress=False)
    b = generate_detection_dataset(str(tmp_path / 'b'), 3, 2, SMALL, seed=7, progress=False)
    for split, count in (('train', 3), ('val', 2)):
        ann_a, images_a = split_files(a, split)
        ann_b, images_b = split_files(b, split)
        assert ann_a == ann_b
        assert len(images_a) == count
        assert images_a == images_b


def test_different_seed_differs(tmp_path):
    a = generate_detection_dataset(str(tmp_path / 'a'), 3, 1, SMALL, seed=0, progress=False)
    b = generate_detection_dataset(str(tmp_path / 'b'), 3, 1, SMALL, seed=1, progress=False)
    ann_a, images_a = split_files(a, 'train')
    ann_b, images_b = split_files(b, 'train')
    assert ann_a != ann_b
    assert all(images_a[name] != images_b[name] for name in images_a)
    # the splits are different streams too
    assert split_files(a, 'val')[1]['000000.png'] != images_a['000000.png']


def test_more_images_leave_the_first_unchanged(tmp_path):
    few = generate_detection_dataset(str(tmp_path / 'few'), 3, 0, SMALL, progress=False)
    more = generate_detection_dataset(str(tmp_path / 'more'), 5, 0, SMALL, progress=False)
    images_few, images_more = split_files(few, 'train')[1], split_files(more, 'train')[1]
    assert len(images_few) == 3 and len(images_more) == 5
    assert all(images_few[name] == images_more[name] for name in images_few)
    ann_few = load_json(few['train_ann_file'])['annotations']
    ann_more = [
        ann for ann in load_json(more['train_ann_file'])['annotations'] if ann['image_id'] <= 3
    ]
    assert ann_few == ann_more


def test_boxes_and_categories_are_valid(shapes256):
    coco = load_json(shapes256['train_ann_file'])
    assert [img['id'] for img in coco['images']] == list(range(1, 31))
    assert all((img['width'], img['height']) == (256, 256) for img in coco['images'])
    assert [cat['name'] for cat in coco['categories']] == list(SHAPE_CLASSES)
    boxes = np.array([ann['bbox'] for ann in coco['annotations']])
    x, y, w, h = boxes.T
    assert (x >= 0).all() and (y >= 0).all()
    assert (x + w <= 256).all() and (y + h <= 256).all()
    assert (w >= 2).all() and (h >= 2).all()
    areas = np.array([ann['area'] for ann in coco['annotations']])
    np.testing.assert_allclose(areas, w * h)
    assert (areas > 0).all()
    assert {ann['category_id'] for ann in coco['annotations']} <= set(range(1, 7))
    assert all(ann['iscrowd'] == 0 for ann in coco['annotations'])
    ids = [ann['id'] for ann in coco['annotations']]
    assert ids == list(range(1, len(ids) + 1))
    per_image = np.bincount([ann['image_id'] for ann in coco['annotations']], minlength=31)[1:]
    assert per_image.min() >= 1 and per_image.max() <= 8


def test_all_size_groups_and_classes_occur(shapes256):
    stats = split_statistics(shapes256['train_ann_file'])
    assert stats['images'] == 30
    assert stats['small'] > 0 and stats['medium'] > 0 and stats['large'] > 0
    assert stats['small'] + stats['medium'] + stats['large'] == stats['instances']
    assert set(stats['per_class']) == set(SHAPE_CLASSES)
    assert min(stats['per_class'].values()) > 0
    assert sum(stats['per_class'].values()) == stats['instances']


def test_pycocotools_reads_annotations(shapes256):
    from pycocotools.coco import COCO
    coco = COCO(shapes256['train_ann_file'])
    raw = load_json(shapes256['train_ann_file'])
    assert len(coco.getImgIds()) == 30
    assert len(coco.getAnnIds()) == len(raw['annotations'])
    assert coco.getCatIds(catNms=['ring']) == [5]
    first = coco.loadAnns(coco.getAnnIds(imgIds=[1]))
    assert [ann['bbox']
            for ann in first] == [a['bbox'] for a in raw['annotations'] if a['image_id'] == 1]


def test_shapes_dataset_loads_boxes_of_the_json(shapes256):
    from mmdet.registry import DATASETS
    from mmdet.utils import register_all_modules
    register_all_modules()
    dataset = DATASETS.build(
        dict(
            type='ShapesDataset',
            data_root=shapes256['root'],
            ann_file='annotations/instances_train.json',
            data_prefix=dict(img='train/'),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadAnnotations', with_bbox=True),
                dict(type='PackDetInputs')
            ]))
    assert isinstance(dataset, ShapesDataset)
    assert dataset.metainfo['classes'] == SHAPE_CLASSES
    assert len(dataset) == 30

    sample = dataset[1]
    assert tuple(sample['inputs'].shape) == (3, 256, 256)
    gt = sample['data_samples'].gt_instances
    anns = [
        a for a in load_json(shapes256['train_ann_file'])['annotations']
        if a['image_id'] == sample['data_samples'].img_id
    ]
    expected = np.array([[x, y, x + w, y + h] for x, y, w, h in (a['bbox'] for a in anns)])
    np.testing.assert_allclose(gt.bboxes.tensor.numpy(), expected)
    np.testing.assert_array_equal(gt.labels.numpy(), [a['category_id'] - 1 for a in anns])
    image = cv2.imread(osp.join(shapes256['train_img_dir'], '000001.png'))
    np.testing.assert_array_equal(sample['inputs'].permute(1, 2, 0).numpy(), image)


def test_render_uses_height_then_width():
    image, objects = render_detection_image(np.random.default_rng(0), (48, 80))
    assert image.shape == (48, 80, 3) and image.dtype == np.uint8
    assert 1 <= len(objects) <= 8
    for obj in objects:
        x, y, w, h = obj['bbox']
        assert x + w <= 80 and y + h <= 48 and min(w, h) >= 2


def test_colour_hints_at_the_class_but_does_not_solve_it():
    rng = np.random.default_rng(0)
    labels = np.arange(1200) % len(SHAPE_CLASSES)
    colours = np.stack([sample_object_colour(rng, k) for k in labels]).astype(np.uint8)
    hues = cv2.cvtColor(colours[None], cv2.COLOR_BGR2HSV)[0, :, 0].astype(float)
    preferred = np.arange(len(SHAPE_CLASSES)) * 30.0
    distance = np.abs(hues[:, None] - preferred[None])
    distance = np.minimum(distance, 180 - distance)  # hue is circular
    accuracy = (distance.argmin(axis=1) == labels).mean()
    # the design gives about 0.4: well above chance (1/6), far from solved
    assert 0.25 < accuracy < 0.55


def test_classification_layout_counts_and_determinism(tmp_path):
    a = generate_classification_dataset(str(tmp_path / 'a'), 13, 6, seed=2, progress=False)
    b = generate_classification_dataset(str(tmp_path / 'b'), 13, 6, seed=2, progress=False)
    c = generate_classification_dataset(str(tmp_path / 'c'), 13, 6, seed=3, progress=False)
    for split, per_class in (('train', [3, 2, 2, 2, 2, 2]), ('val', [1] * 6)):
        folder = a[f'{split}_img_dir']
        assert sorted(os.listdir(folder)) == sorted(SHAPE_CLASSES)
        counts = [len(os.listdir(osp.join(folder, name))) for name in SHAPE_CLASSES]
        assert counts == per_class
    first = osp.join('train', 'circle', '000000.png')
    assert sorted(os.listdir(osp.join(a['root'], 'train', 'star'))) == ['000003.png', '000009.png']
    assert read_bytes(osp.join(a['root'], first)) == read_bytes(osp.join(b['root'], first))
    assert read_bytes(osp.join(a['root'], first)) != read_bytes(osp.join(c['root'], first))
    assert cv2.imread(osp.join(a['root'], first)).shape == (32, 32, 3)
    assert load_json(a['meta_file'])['kind'] == 'classification'


def test_meta_skips_identical_and_regenerates_changed(tmp_path):
    out = str(tmp_path / 'shapes')
    paths = generate_detection_dataset(out, 3, 1, SMALL, seed=0, progress=False)
    first_ann = read_bytes(paths['train_ann_file'])
    marker = osp.join(paths['train_img_dir'], '000000.png')
    with open(marker, 'wb') as f:
        f.write(b'untouched')

    generate_detection_dataset(out, 3, 1, SMALL, seed=0, progress=False)
    assert read_bytes(marker) == b'untouched'  # same settings: nothing rewritten

    generate_detection_dataset(out, 2, 1, SMALL, seed=1, progress=False)
    assert read_bytes(marker) != b'untouched'
    assert read_bytes(paths['train_ann_file']) != first_ann
    assert load_json(paths['meta_file'])['seed'] == 1
    # the image a smaller data set no longer has is gone
    assert sorted(os.listdir(paths['train_img_dir'])) == ['000000.png', '000001.png']

    os.remove(osp.join(paths['val_img_dir'], '000000.png'))
    generate_detection_dataset(out, 2, 1, SMALL, seed=1, progress=False)
    assert osp.isfile(osp.join(paths['val_img_dir'], '000000.png'))  # missing file: rebuilt


def test_output_path_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / 'file'
    path.write_text('')
    with pytest.raises(NotADirectoryError, match='is a file'):
        generate_detection_dataset(str(path), 1, 1, SMALL, progress=False)
