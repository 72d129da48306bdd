"""The detectors' backbones, pretrained once per key on the built-in classification data.

On COCO both backbones start from ImageNet weights; here each detector config names the
weights that ``tools/train.py configs/pretrain/<name>.py`` writes
(``init_cfg=dict(type='Pretrained', checkpoint='work_dirs/<name>/iter_N.pth')``). The
benchmark trains that pretraining config once per (resolved config, data, length, depth),
like the teacher, and points the detector runs at the result with ``--cfg-options``. The
classification benchmark's CIFAR-style ResNets train from scratch and have no such stage.
"""
import os
import os.path as osp
from typing import Dict, List, Optional

from sokd_mmdet.apis.pretrained import is_pretrained_init, pretrain_config_of
from . import REPO_ROOT
from .methods import task_methods, teacher_config
from .model_size import DEFAULT_SIZE, MODEL_SIZES, resnet_stage_channels
from .run_config import load_config, write_run_config
from .training import once_plan, train_once

# the images of configs/_base_/datasets/shapes_classification_64.py (its crop size)
PRETRAIN_IMG = 64


def pretrained_checkpoint(detector: dict) -> Optional[str]:
    """The checkpoint of a detector config's ``Pretrained`` backbone init, or None."""
    init = detector.get('backbone', {}).get('init_cfg')
    return init.get('checkpoint') if is_pretrained_init(init) else None


def pretrain_configs(task: str) -> Dict[str, str]:
    """``{role: pretraining config}`` of the task's student and teacher backbones.

    Read from the ``student`` row's and the teacher's configs, so a change of their
    backbones' weights is a change of what is pretrained. Empty for classification.
    """
    if task == 'classification':
        return {}
    found = {}
    for role, cfg in (('student', task_methods(task)['student']['config']),
                      ('teacher', teacher_config(task))):
        ckpt = pretrained_checkpoint(load_config(osp.join(REPO_ROOT, cfg)).model)
        if ckpt is None:
            continue  # trained from scratch
        pretrain = pretrain_config_of(ckpt, REPO_ROOT)
        if pretrain is None:
            raise ValueError(f'{cfg}: its backbone loads {ckpt}, and no configs/pretrain/ '
                             'config writes it; the benchmark cannot make those weights')
        found[role] = pretrain
    return found


def pretrain_data_root(args) -> str:
    """The classification data of the pretraining under ``--out``, drawn with the teacher's
    generator seed (``--teacher-data-seed``): the backbones belong with the teacher."""
    return osp.join(
        args.out, 'data', f'shapes_cls-{args.pretrain_num_train}-{args.pretrain_num_val}-'
        f'{PRETRAIN_IMG}px-seed{args.teacher_data_seed}')


def pretrain_options(args, role: str, cfg) -> List[str]:
    """``--cfg-options`` of one pretraining run: data, length, seed 0, the setting's depth."""
    root = pretrain_data_root(args)
    n = args.pretrain_iters
    opts = [f'{s}_dataloader.dataset.data_root={root}/' for s in ('train', 'val', 'test')]
    opts += [
        f'train_cfg.max_iters={n}', f'train_cfg.val_interval={n}',
        f'default_hooks.checkpoint.interval={min(n, 250)}', 'randomness.seed=0'
    ]
    if args.models != DEFAULT_SIZE:
        teacher_depth, student_depth = MODEL_SIZES[args.models]
        depth = teacher_depth if role == 'teacher' else student_depth
        backbone = cfg.model.backbone
        width = resnet_stage_channels(depth, [3], backbone.get('base_channels', 64))[0]
        opts += [f'model.backbone.depth={depth}', f'model.head.in_channels={width}']
    return opts


def plan_pretrain(args, role: str, config: str, probe: str) -> dict:
    """One backbone's pretraining: options, key, work dir and checkpoint."""
    n = args.pretrain_iters
    cfg, text = write_run_config(probe, config, n, 1)
    name = osp.splitext(osp.basename(config))[0]
    return once_plan(args.out, f'pretrain-{name}', config, text, pretrain_options(args, role, cfg),
                     n)


def generate_pretrain_data(args) -> None:
    """The classification images of the pretraining (the generator skips what is there)."""
    from sokd_mmdet.datasets import generate_classification_dataset
    generate_classification_dataset(
        pretrain_data_root(args),
        num_train=args.pretrain_num_train,
        num_val=args.pretrain_num_val,
        img_size=PRETRAIN_IMG,
        seed=args.teacher_data_seed,
        progress=False)


def pretrain_backbone(args, role: str, config: str) -> dict:
    """Pretrain one backbone once per key (resuming an interrupted run); reuse it after
    (:func:`.training.train_once`).

    Returns:
        dict: ``config``, ``work_dir``, ``checkpoint``, ``key``, ``metrics`` (top-1 on the
        held-out classification images), ``cost``, ``cached``.
    """
    os.makedirs(args.out, exist_ok=True)
    probe = osp.join(args.out, f'pretrain-{role}.py')
    plan = plan_pretrain(args, role, config, probe)
    return train_once(f'{role} backbone', plan, probe, args.pretrain_iters, args.warmup_iters,
                      'classification', args.records, args.done_only)


def backbone_options(model: dict, pretrained: Dict[str, dict], plain_role: str) -> List[str]:
    """``--cfg-options`` that point a run's ``Pretrained`` backbones at the benchmark's own.

    A distillation model's student takes the student's weights (its teacher loads
    ``teacher_ckpt``); a plain detector takes those of ``plain_role``.
    """
    if 'architecture' in model:
        parts = [('model.architecture', model['architecture'], 'student')]
    else:
        parts = [('model', model, plain_role)]
    return [
        f'{prefix}.backbone.init_cfg.checkpoint={pretrained[role]["checkpoint"]}'
        for prefix, detector, role in parts
        if role in pretrained and pretrained_checkpoint(detector) is not None
    ]
