"""The SoKD pictures of an inspected batch (:func:`sokd_mmdet.analysis.inspect_batch`), as
``tools/visualize_sokd.py`` and ``SoKDVisualizationHook`` write them."""
import os
import os.path as osp
from typing import Dict, Optional

import numpy as np

from .regions import draw_dafa, draw_feature_regions, draw_regions


def draw_inspection(result: dict,
                    out_dir: Optional[str] = None,
                    first_index: int = 0) -> Dict[str, np.ndarray]:
    """Draw the SoKD pictures of an :func:`inspect_batch` result.

    Per image ``i`` and level ``l``: ``regions_img<i>_lvl<l>`` (:func:`draw_regions`, with a
    DAM), ``features_img<i>_lvl<l>`` (:func:`draw_feature_regions`; regions and mask only
    with a DAM) and ``dafa_img<i>_lvl<l>`` (:func:`draw_dafa`, with a DAFA).

    Args:
        result (dict): :func:`inspect_batch`'s output.
        out_dir (str, optional): folder for ``<name>.png``; None saves nothing.
        first_index (int): number of the batch's first image in the names. Defaults to 0.

    Returns:
        dict[str, np.ndarray]: picture name -> (H, W, 3) uint8 RGB.
    """
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
    pictures = dict()

    def save(name):
        return None if out_dir is None else osp.join(out_dir, f'{name}.png')

    for i, item in enumerate(result['images'], start=first_index):
        for level, lv in item['levels'].items():
            sy, sx = lv['stride']
            stride = f'{sy:g}' if sy == sx else f'{sy:g}x{sx:g}'
            where = f'image {i} ({_file_name(item["img_path"])}), level {level}, ' \
                f'stride {stride}'
            suffix = f'img{i}_lvl{level}'
            if result['has_dam']:
                drawn = int((lv['scores'] > result['min_score']).sum())
                name = f'regions_{suffix}'
                pictures[name] = draw_regions(
                    item['image'],
                    lv['heat_s'],
                    lv['heat_t'],
                    lv['mutual'],
                    lv['boxes'],
                    lv['scores'],
                    item['gt_boxes'],
                    result['min_score'],
                    title=f'DAM regions, {where}: {drawn} regions',
                    out_file=save(name))
            name = f'features_{suffix}'
            pictures[name] = draw_feature_regions(
                lv['feat_s'],
                lv['feat_t_aug'],
                lv.get('boxes'),
                lv['stride'],
                lv.get('scores'),
                lv.get('mask'),
                result['min_score'],
                title=f'FPN features, {where}',
                out_file=save(name))
            if result['has_dafa']:
                name = f'dafa_{suffix}'
                pictures[name] = draw_dafa(
                    lv['feat_t'],
                    lv['feat_t_aug'],
                    item['sub_policy'],
                    item['applied_ops'],
                    title=where,
                    out_file=save(name))
    return pictures


def _file_name(path: Optional[str]) -> str:
    return osp.basename(path) if path else 'no file'
