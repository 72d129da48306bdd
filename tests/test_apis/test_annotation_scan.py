"""The start-up scan of COCO-format annotation files: bad data named before training."""
import json
import os.path as osp
import shutil

import pytest

from conftest import as_cli, config_path, tiny_options
from sokd_mmdet.apis.annotation_scan import AnnotationError, scan_coco_annotations
from sokd_mmdet.datasets import SHAPE_CLASSES


@pytest.fixture
def data(tiny_data, tmp_path):
    out = tmp_path / 'shapes'
    shutil.copytree(tiny_data, out)
    return out


def _ann(data):
    return str(data / 'annotations' / 'instances_train.json')


def test_a_good_file_passes(data):
    counts = scan_coco_annotations(_ann(data), str(data / 'train'), SHAPE_CLASSES)
    assert counts['images'] == 8 and counts['categories'] == len(SHAPE_CLASSES)


def test_malformed_json_names_file_line_and_column(data):
    text = open(_ann(data)).read()
    open(_ann(data), 'w').write(text[:200])
    with pytest.raises(
            AnnotationError,
            match=r'instances_train\.json is not valid JSON: '
            r'.* at line \d+, column \d+'):
        scan_coco_annotations(_ann(data), str(data / 'train'), SHAPE_CLASSES)


def test_categories_that_are_none_of_the_classes(data):
    with pytest.raises(
            AnnotationError,
            match=r"none of its categories \[.*'circle'.*\] is "
            r"one of the data set's classes \['person'.*metainfo"):
        scan_coco_annotations(_ann(data), str(data / 'train'), ('person', 'car'))


def test_undefined_category_ids_and_bad_images_are_named(data):
    ann = json.load(open(_ann(data)))
    ann['annotations'][0]['category_id'] = 99
    json.dump(ann, open(_ann(data), 'w'))
    with pytest.raises(
            AnnotationError, match=r'category ids \[99\] that "categories" does '
            'not define'):
        scan_coco_annotations(_ann(data), str(data / 'train'), SHAPE_CLASSES)
    ann['annotations'][0]['category_id'] = ann['categories'][0]['id']
    json.dump(ann, open(_ann(data), 'w'))
    first, second = (osp.join(str(data / 'train'), im['file_name']) for im in ann['images'][:2])
    open(first, 'wb').close()
    import os
    os.remove(second)
    with pytest.raises(
            AnnotationError,
            match=f'cannot be read: {first} \\(0 bytes\\), '
            f'{second} \\(missing\\)'):
        scan_coco_annotations(_ann(data), str(data / 'train'), SHAPE_CLASSES)


def test_train_tool_stops_before_training_naming_the_image(data, tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'train_tool', osp.join(osp.dirname(config_path('')), '..', 'tools', 'train.py'))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    ann = json.load(open(_ann(data)))
    empty = osp.join(str(data / 'train'), ann['images'][3]['file_name'])
    open(empty, 'wb').close()
    opts = tiny_options(str(data), str(tmp_path / 'work'))
    with pytest.raises(SystemExit, match=f'error: train: .*{empty} \\(0 bytes\\)'):
        train.main([
            config_path('quickstart/retinanet_r18_shapes_student.py'), '--cfg-options',
            *as_cli(opts)
        ])
