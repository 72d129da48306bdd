"""Data sets: the built-in, offline Shapes detection and classification data."""
from .shapes_dataset import ShapesDataset
from .shapes_render import (GENERATOR_VERSION, MIN_VISIBLE_FRACTION, SHAPE_CLASSES, SHAPE_PALETTE,
                            render_classification_image, render_detection_image,
                            sample_object_colour)
from .shapes_writer import (generate_classification_dataset, generate_detection_dataset,
                            split_statistics)

__all__ = [
    'SHAPE_CLASSES', 'SHAPE_PALETTE', 'GENERATOR_VERSION', 'MIN_VISIBLE_FRACTION',
    'sample_object_colour', 'render_detection_image', 'render_classification_image',
    'generate_detection_dataset', 'generate_classification_dataset', 'split_statistics',
    'ShapesDataset'
]
