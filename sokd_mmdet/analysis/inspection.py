"""Read what SoKD sees on a batch: features, DAFA's draw, DAM's heatmaps and regions.

:func:`inspect_batch` runs a distillation model's teacher and student on a batch (no
gradient, eval mode) and returns numpy arrays for the drawing functions of
:mod:`sokd_mmdet.visualization`. It reads the features the way the distiller does (its
recorders, the connector of each ``loss_forward_mappings`` entry), so the pictures show the
maps the SoKD losses are computed on.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from ..models.sokd import SoKDDistiller
from ..models.sokd.dam.regions import region_masks


def _np(t: Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy()


def level_mappings(distiller) -> Dict[int, Tuple[dict, dict]]:
    """Distillation points by level: ``data_idx -> (student record, teacher record)``.

    Read from the distiller's ``loss_forward_mappings``: an entry whose student and teacher
    records are one element (``data_idx``) of a recorded tuple, e.g. the FPN level ``i`` of
    a ``neck`` recorder. The student record keeps its ``connector``. The first entry of a
    level wins when several losses read it.

    Args:
        distiller (ConfigurableDistiller): the model's distiller.

    Returns:
        dict[int, tuple[dict, dict]]: ``get_record`` keyword arguments per level.
    """
    levels = dict()
    for mapping in getattr(distiller, 'loss_forward_mappings', {}).values():
        records = [dict(r) for r in mapping.values() if isinstance(r, dict)]
        student = [r for r in records if r.get('from_student')]
        teacher = [r for r in records if not r.get('from_student', True)]
        if len(student) != 1 or len(teacher) != 1:
            continue
        level = student[0].get('data_idx')
        if level is None:
            level = 0
        levels.setdefault(int(level), (student[0], teacher[0]))
    return levels


def base_losses(distiller, levels: Sequence[int]) -> Dict[int, nn.Module]:
    """The loss each distilled level is trained with, unwrapped from SoKD's loss (its
    ``base_loss``); the first loss of a level wins, as in :func:`level_mappings`."""
    by_level = {}
    for name, mapping in distiller.loss_forward_mappings.items():
        level = next(iter(mapping.values())).get('data_idx', 0)
        if level in levels and level not in by_level:
            loss = distiller.distill_losses[name]
            by_level[level] = getattr(loss, 'base_loss', loss)
    return by_level


def denormalize_images(model, inputs: Tensor) -> np.ndarray:
    """Undo the data preprocessor's normalisation: (N, 3, H, W) inputs -> RGB uint8.

    Args:
        model (nn.Module): the model whose ``data_preprocessor`` made ``inputs``.
        inputs (Tensor): (N, C, H, W) preprocessed batch (padded to the batch input size).

    Returns:
        np.ndarray: (N, H, W, 3) uint8 RGB, in the input resolution.
    """
    pre = model.data_preprocessor
    x = inputs.detach().float()
    if getattr(pre, '_enable_normalize', False):
        x = x * pre.std.to(x) + pre.mean.to(x)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    # images are read as BGR (mmcv); a channel conversion in the preprocessor made them RGB
    if not getattr(pre, '_channel_conversion', False):
        x = x.flip(1)
    return x.clamp(0, 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()


def _record(distiller, spec: dict, augment: Optional[bool] = None) -> Tensor:
    kwargs = dict(spec)
    if augment is not None:
        kwargs['augment'] = augment
    try:
        return distiller.get_record(**kwargs)
    except (AssertionError, IndexError) as err:
        side = 'student' if spec.get('from_student') else 'teacher'
        raise RuntimeError(
            f'inspect_batch: the {side} recorder {spec.get("recorder")!r} recorded nothing '
            'while running extract_feat (backbone + neck). It reads recorders on the '
            'backbone or the neck (e.g. source=\'neck\' for the FPN levels).') from err


def _dafa_draw(dafa, teacher: Sequence[Tensor], seed: Optional[int]):
    """Apply a fresh DAFA draw to the teacher levels without moving DAFA's random stream.

    The sampling generator is part of DAFA's state (and of the checkpoint): it is restored
    afterwards, so inspecting during training leaves the training run's draws unchanged.
    With a ``seed`` the draw comes from a generator seeded with it instead.

    Returns:
        tuple: augmented levels, chosen sub-policy per image (n,) and flags (n, K) on CPU,
        magnitudes (S, K) on CPU.
    """
    state = dafa.get_extra_state().clone()
    enabled = dafa.enabled
    try:
        dafa.enabled = True
        if seed is not None:
            dafa.set_extra_state(torch.Generator().manual_seed(seed).get_state())
        dafa.resample(teacher[0].shape[0])
        augmented = dafa(tuple(teacher))
        index, flags = dafa.last_draw
    finally:
        dafa.enabled = enabled
        dafa.set_extra_state(state)  # also drops the draw: the next loss() makes its own
    return augmented, index, flags, dafa.magnitudes.detach().cpu()


@torch.no_grad()
def inspect_batch(model,
                  data_batch: dict,
                  levels: Sequence[int] = (0, 1, 2),
                  seed: Optional[int] = None) -> dict:
    """Run a distillation model on a batch and collect what the SoKD pictures need.

    The batch goes through the data preprocessor (no training augmentation); the teacher
    and the student run ``extract_feat`` in eval mode with the distiller's recorders on;
    a fresh DAFA draw refines the teacher levels; DAM runs on the connector-mapped student
    features and the refined teacher features, and its regions are decoded as in training.
    The model's train/eval mode and DAFA's random stream are restored afterwards.

    A model without ``distiller.dafa`` (or with None) gets no augmentation
    (``feat_t_aug`` is ``feat_t``, ``sub_policy`` None); one without ``distiller.dam`` gets
    no heatmaps, regions or masks (the keys are missing).

    Args:
        model (nn.Module): a distillation algorithm (``teacher``, ``student``,
            ``distiller``), e.g. :class:`~sokd_mmdet.models.sokd.SoKD`; not wrapped.
        data_batch (dict): a batch from a dataloader (``inputs``, ``data_samples``).
        levels (Sequence[int]): distillation points to read, by ``data_idx`` of the
            ``loss_forward_mappings`` (the FPN level). Defaults to (0, 1, 2).
        seed (int, optional): seed of the DAFA draw. None: the next draw of DAFA's own
            random stream (which is then rewound, so the same model state gives the same
            draw again). Defaults to None.

    Returns:
        dict: ``input_hw`` (H, W) of the (padded) input batch; ``levels``; ``has_dafa``,
        ``has_dam``; ``min_score`` (DAM's, 0 without DAM); ``images``: one dict per image
        with

        - ``image``: (H, W, 3) uint8 RGB, the un-normalised input;
        - ``img_path`` (str or None), ``gt_boxes`` ((n, 4) float32 input pixels or None);
        - ``sub_policy`` (str or None), ``applied_ops`` (tuple of (op name, magnitude));
        - ``levels``: level -> dict with ``stride`` (sy, sx) input pixels per cell,
          ``feat_s`` (C, h, w) student feature after its connector, ``feat_t`` and
          ``feat_t_aug`` (C, h, w) teacher feature before and after DAFA, and with a DAM
          ``heat_s``, ``heat_t``, ``mutual``, ``mask`` (h, w), ``boxes`` (k, 4) regions in
          input pixels, ``boxes_cells`` (k, 4) in cells, ``scores`` (k,).
    """
    distiller = model.distiller
    available = level_mappings(distiller)
    levels = tuple(int(level) for level in levels)
    missing = [level for level in levels if level not in available]
    if missing:
        raise ValueError(f'inspect_batch: levels {missing} are not distillation points of '
                         f'this model; the loss_forward_mappings read levels '
                         f'{sorted(available)}')
    dafa = getattr(distiller, 'dafa', None)
    dam = getattr(distiller, 'dam', None)
    # SoKDDistiller.get_record would refine the teacher record itself; read the original
    sokd_lookup = isinstance(distiller, SoKDDistiller)

    was_training = model.training
    model.eval()
    try:
        data = model.data_preprocessor(data_batch, False)
        inputs, samples = data['inputs'], data['data_samples']
        with distiller.teacher_recorders:
            model.teacher.extract_feat(inputs)
        with distiller.student_recorders:
            model.student.extract_feat(inputs)
        feats_s = [_record(distiller, available[lv][0]) for lv in levels]
        feats_t = [
            _record(distiller, available[lv][1], False if sokd_lookup else None) for lv in levels
        ]
        index = flags = magnitudes = None
        feats_t_aug = feats_t
        if dafa is not None:
            feats_t_aug, index, flags, magnitudes = _dafa_draw(dafa, feats_t, seed)
        per_level = []
        in_h, in_w = inputs.shape[-2:]
        for feat_s, feat_t, feat_a in zip(feats_s, feats_t, feats_t_aug):
            h, w = feat_s.shape[-2:]
            stride = (in_h / h, in_w / w)
            out = dict(stride=stride, feat_s=feat_s, feat_t=feat_t, feat_t_aug=feat_a)
            if dam is not None:
                out.update(_dam_regions(dam, feat_s, feat_a, stride))
            per_level.append(out)
        result_images = _per_image(model, inputs, samples, levels, per_level, dafa, index, flags,
                                   magnitudes)
    finally:
        model.train(was_training)
    return dict(
        input_hw=(int(inputs.shape[-2]), int(inputs.shape[-1])),
        levels=levels,
        has_dafa=dafa is not None,
        has_dam=dam is not None,
        min_score=float(dam.min_score) if dam is not None else 0.0,
        images=result_images)


def _dam_regions(dam, feat_s: Tensor, feat_t: Tensor, stride: Tuple[float, float]) -> dict:
    """DAM's heatmaps, regions (cells and input pixels) and mask for one level (batched)."""
    reg = dam.regions(dam(feat_s), dam(feat_t))
    h, w = feat_s.shape[-2:]
    mask = region_masks(
        reg['boxes'], reg['scores'], h, w, weighted=dam.weighted_mask, min_score=dam.min_score)
    sy, sx = stride
    scale = reg['boxes'].new_tensor([sx, sy, sx, sy])
    return dict(
        heat_s=reg['heat_s'][:, 0],
        heat_t=reg['heat_t'][:, 0],
        mutual=reg['mutual'][:, 0],
        mask=mask[:, 0],
        boxes=reg['boxes'] * scale,
        boxes_cells=reg['boxes'],
        scores=reg['scores'])


def _per_image(model, inputs, samples, levels, per_level, dafa, index, flags, magnitudes) -> list:
    """Split the batched level results into per-image numpy dicts."""
    images = denormalize_images(model, inputs)
    batched = [{
        key: _np(value) if isinstance(value, Tensor) else value
        for key, value in out.items()
    } for out in per_level]
    results = []
    for i, image in enumerate(images):
        sample = samples[i] if samples is not None and i < len(samples) else None
        gt = None
        if sample is not None and 'gt_instances' in sample:
            gt = _np(sample.gt_instances.bboxes).reshape(-1, 4)
        sub_policy, applied = None, ()
        if dafa is not None:
            d = 0 if len(index) == 1 else i  # one draw per batch, or one per image
            k = int(index[d])
            sub_policy = dafa.sub_policy_name(k)
            ops = [dafa.op_names[j] for j in dafa.sub_policies[k].tolist()]
            applied = tuple(
                (op, float(magnitudes[k, j])) for j, op in enumerate(ops) if bool(flags[d, j]))
        lv = {
            level: {
                key: (value[i] if isinstance(value, np.ndarray) else value)
                for key, value in out.items()
            }
            for level, out in zip(levels, batched)
        }
        results.append(
            dict(
                image=image,
                img_path=sample.metainfo.get('img_path') if sample is not None else None,
                gt_boxes=gt,
                sub_policy=sub_policy,
                applied_ops=applied,
                levels=lv))
    return results
