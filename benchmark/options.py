"""The ``--cfg-options`` of every benchmark run: data, image size, length, seeds, sizes.

What differs between the rows is in their config files; what differs between the runs of
one row (the data set, the seed, the run length, the setting's image and model size) is
passed to ``tools/train.py`` as options, and is part of the run's key.
"""
import os.path as osp
from typing import List

from sokd_mmdet.apis.image_size import image_size_options
from .model_size import DEFAULT_SIZE, size_options
from .run_config import plain

# Runs save a checkpoint this often (and at their end), so that an interrupted benchmark
# resumes a run from its last checkpoint instead of from scratch.
CKPT_EVERY = 250


def common_options(data_root: str,
                   img: int,
                   iters: int,
                   eval_interval: int,
                   seed: int,
                   score_thr,
                   cfg,
                   task: str = 'detection',
                   models: str = DEFAULT_SIZE,
                   plain_role: str = 'student') -> List[str]:
    """``--cfg-options`` of one run.

    Args:
        data_root (str): the generated data set.
        img (int): the image side in pixels (detection; the classification images are
            used as generated).
        iters (int): the run's iterations.
        eval_interval (int): evaluate the held-out split every this many iterations.
        seed (int): the run's seed (also DAFA's and TST's own draws).
        score_thr (float, optional): the detectors' test score threshold; None keeps the
            config's.
        cfg (Config): the run's resolved config.
        task (str): ``'detection'`` or ``'classification'``.
        models (str): the teacher-student pair (a key of ``MODEL_SIZES``).
        plain_role (str): what a plain detector is, ``'teacher'`` or ``'student'``.

    Returns:
        list[str]: ``key=value`` strings, in a fixed order (they are hashed into the key).
    """
    data = [f'{s}_dataloader.dataset.data_root={data_root}/' for s in ('train', 'val', 'test')]
    length = [
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={eval_interval}',
        f'default_hooks.checkpoint.interval={min(iters, CKPT_EVERY)}', f'randomness.seed={seed}'
    ]
    if task == 'classification':  # 32 px images as generated: no resize, no annotation file
        opts = data + length
        if cfg.model.get('distiller', {}).get('dafa'):
            opts.append(f'model.distiller.dafa.seed={seed}')
        return opts
    ann = osp.join(data_root, 'annotations', 'instances_val.json')
    opts = data + [f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}']
    opts += image_size_options(cfg, img) + length
    model = cfg.model
    detector = 'model.architecture' if 'architecture' in model else 'model'
    if score_thr is not None:
        opts.append(f'{detector}.test_cfg.score_thr={score_thr}')
    if model.get('distiller', {}).get('dafa'):
        opts.append(f'model.distiller.dafa.seed={seed}')  # the policy's own sampling seed
    if model.get('augmenter'):
        opts.append(f'model.augmenter.seed={seed}')  # TST's augmentation draws
    return opts + size_options(plain(model), models, plain_role)
