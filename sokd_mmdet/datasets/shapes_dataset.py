"""MMDetection data set class for the built-in Shapes data set."""
from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS

from .shapes_render import SHAPE_CLASSES, SHAPE_PALETTE


@DATASETS.register_module()
class ShapesDataset(CocoDataset):
    """The Shapes detection data set: six shape classes in COCO format.

    Only the class names and palette differ from :class:`mmdet.datasets.CocoDataset`; loading,
    filtering and evaluation are COCO's. Generate the files first (deterministic, offline,
    about 15 s for the default 400 + 100 images)::

        python tools/make_shapes_dataset.py --out data/shapes

    or :func:`sokd_mmdet.datasets.generate_detection_dataset`, then point a config at them::

        dict(type='ShapesDataset', data_root='data/shapes/',
             ann_file='annotations/instances_train.json', data_prefix=dict(img='train/'))
    """

    METAINFO = dict(classes=SHAPE_CLASSES, palette=list(SHAPE_PALETTE))
