"""TST's differentiable image augmenter, with a prior bias, for detection batches."""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
from mmengine.structures import InstanceData
from mmrazor.registry import MODELS
from torch import Tensor, nn

from .affine import compose, gated, to_pixel, warp
from .boxes import warp_box_lists
from .gates import straight_through_gates
from .image_ops import GeometricOp, ImageOp, PhotometricOp, build_image_ops
from .pixels import to_normalised, to_unit_pixels
from .prior import biased_magnitude, biased_probability

DEFAULT_OPS = ('HFlip', 'Scale', 'Rotate', 'ShearX', 'ShearY', 'TranslateX', 'TranslateY',
               'Brightness', 'Contrast', 'Saturation', 'Sharpness')
# noise stays inside the open interval (0, 1), where its logit is finite
_UNIFORM_EPS = 1e-6
PerOp = Union[float, Dict[str, float]]


class _Draw(NamedTuple):
    """The randomness of one draw, on the CPU."""

    uniforms: Tensor  # (N, O) gate noise
    signs: Tensor  # (N, O) -1/+1, the direction of each op


def _per_op(value: PerOp, names: Sequence[str], what: str) -> List[float]:
    """One float per op from a float (all ops) or a dict (op name -> value)."""
    if isinstance(value, dict):
        missing = [n for n in names if n not in value]
        extra = sorted(set(value) - set(names))
        if missing or extra:
            raise ValueError(f'TSTAugmenter {what}: give a value for every op in ops; '
                             f'missing {missing}, not in ops {extra}')
        return [float(value[n]) for n in names]
    return [float(value)] * len(names)


@MODELS.register_module()
class TSTAugmenter(nn.Module):
    """The data augmentation module of TST (Shao et al., "Teaching What You Should Teach: A
    Data-Based Distillation Method", IJCAI 2023).

    A set of image ops (:mod:`.ops`), each with a learned apply probability and a learned
    magnitude. Each image of a batch draws, for every op, a gate (apply or not, probability
    ``p``) and a direction (the sign of the op's value); the applied photometric ops act in
    order on pixel values, then all applied geometric ops are composed into one affine
    matrix that warps the image and moves its boxes (:mod:`.boxes`).

    **Prior bias.** Probabilities and magnitudes are a prior plus a bounded learned offset
    (:mod:`.prior`): ``p = sigmoid(logit(prior_prob) + prob_bound * tanh(a))`` and
    ``m = prior_magnitude + magnitude_bound * tanh(c)``, with ``a = c = 0`` at the start.
    The search can move the policy at most that far from a hand-set augmentation.

    **Gradients.** Magnitudes get the exact gradient through the ops (the affine warp is
    differentiable in its matrix, the colour ops in their factor). Probabilities get a
    straight-through relaxed-Bernoulli gradient (:mod:`.gates`) through gates used linearly.

    **Boxes.** Boxes of ``gt_instances`` (and ``ignored_instances``) move with the image,
    are clipped to the batch input's ``H x W``, and are dropped with all their instance
    fields (labels...) when less than ``min_visible`` of their moved box remains in the
    image or it is thinner than ``min_size`` pixels. A sample that loses *all* its objects
    to the warp keeps its un-warped geometry: its image is the photometrically augmented
    one without the warp, and its instances are the original ones. The warp acts on the
    whole padded batch input (centre of rotation: its centre), so augmented samples get
    ``img_shape = pad_shape = batch_input_shape``: content may now lie in the padding.

    **Sampling.** A CPU ``torch.Generator`` seeded with ``seed`` draws the noise in
    :meth:`resample`; its state is part of the ``state_dict``, so a resumed run continues
    the same sequence, and every DDP rank draws the same gates. Between two draws,
    :meth:`forward` is a deterministic function of the input and the parameters.

    Args:
        ops (Sequence[str]): op names from :data:`~.ops.IMAGE_OPS`. Defaults to all eleven:
            ``('HFlip', 'Scale', 'Rotate', 'ShearX', 'ShearY', 'TranslateX', 'TranslateY',
            'Brightness', 'Contrast', 'Saturation', 'Sharpness')``.
        prior_prob (float | dict): prior apply probability, one for all ops or one per op
            name; in (0, 1). Defaults to 0.2.
        prior_magnitude (float | dict): prior magnitude in [0, 1]. Defaults to 0.4.
        prob_bound (float): largest learned change of a probability, in log-odds.
            Defaults to 2.0 (p = 0.2 can move within about [0.03, 0.65]).
        magnitude_bound (float): largest learned change of a magnitude; ``prior_magnitude
            +- magnitude_bound`` must lie in [0, 1]. Defaults to 0.3.
        temperature (float): temperature of the relaxed gates. Defaults to 0.5.
        min_visible (float): visible fraction below which a moved box is dropped.
            Defaults to 0.5.
        min_size (float): a moved box thinner than this (pixels) is dropped. Defaults to 2.
        mean (Sequence[float], optional): the data preprocessor's mean (pixel units, input
            channel order); None for inputs in pixel units. The TST algorithms fill it in
            from their preprocessor. Defaults to None.
        std (Sequence[float], optional): the preprocessor's std, as ``mean``.
        rgb (bool): whether the input channels are RGB (False: BGR); sets the luma weights.
            The TST algorithms fill it in from their preprocessor. Defaults to True.
        pixel_max (float): the largest pixel value. Defaults to 255.
        seed (int): seed of the sampling generator. Defaults to 0.
    """

    def __init__(self,
                 ops: Sequence[str] = DEFAULT_OPS,
                 prior_prob: PerOp = 0.2,
                 prior_magnitude: PerOp = 0.4,
                 prob_bound: float = 2.0,
                 magnitude_bound: float = 0.3,
                 temperature: float = 0.5,
                 min_visible: float = 0.5,
                 min_size: float = 2.0,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 rgb: bool = True,
                 pixel_max: float = 255.0,
                 seed: int = 0) -> None:
        super().__init__()
        self.image_ops: List[ImageOp] = build_image_ops(ops)
        self.op_names = tuple(op.name for op in self.image_ops)
        probs = _per_op(prior_prob, self.op_names, 'prior_prob')
        mags = _per_op(prior_magnitude, self.op_names, 'prior_magnitude')
        if not all(0 < p < 1 for p in probs):
            raise ValueError(f'TSTAugmenter prior_prob must be in (0, 1), got {prior_prob}')
        if prob_bound < 0 or magnitude_bound < 0:
            raise ValueError('TSTAugmenter prob_bound and magnitude_bound must be >= 0')
        for op, m in zip(self.image_ops, mags):
            if op.has_magnitude and not 0 <= m - magnitude_bound <= m + magnitude_bound <= 1:
                raise ValueError(
                    f'TSTAugmenter {op.name}: prior_magnitude +- magnitude_bound = {m} +- '
                    f'{magnitude_bound} leaves [0, 1]; lower magnitude_bound or move the prior')
        if temperature <= 0:
            raise ValueError(f'TSTAugmenter temperature must be > 0, got {temperature}')
        if not 0 <= min_visible <= 1:
            raise ValueError(f'TSTAugmenter min_visible must be in [0, 1], got {min_visible}')
        if (mean is None) != (std is None):
            raise ValueError('TSTAugmenter needs both mean and std, or neither')
        self.prob_bound = float(prob_bound)
        self.magnitude_bound = float(magnitude_bound)
        self.temperature = float(temperature)
        self.min_visible = float(min_visible)
        self.min_size = float(min_size)
        self.rgb = bool(rgb)
        self.pixel_max = float(pixel_max)
        self.seed = int(seed)
        self.geometric = [i for i, op in enumerate(self.image_ops) if isinstance(op, GeometricOp)]
        self.photometric = [
            i for i, op in enumerate(self.image_ops) if isinstance(op, PhotometricOp)
        ]

        # configuration, not state: not saved, so a checkpoint does not override the config
        self.register_buffer('prior_logits', torch.logit(torch.tensor(probs)), persistent=False)
        self.register_buffer('prior_magnitudes', torch.tensor(mags), persistent=False)
        self.register_buffer(
            'max_values', torch.tensor([op.max_value for op in self.image_ops]), persistent=False)
        self.register_buffer(
            'mean', torch.tensor(mean if mean is not None else [0.0] * 3), persistent=False)
        self.register_buffer(
            'std', torch.tensor(std if std is not None else [1.0] * 3), persistent=False)
        self.prob_offsets = nn.Parameter(torch.zeros(len(self.image_ops)))
        self.magnitude_offsets = nn.Parameter(torch.zeros(len(self.image_ops)))

        self._generator = torch.Generator().manual_seed(self.seed)
        self._draw: Optional[_Draw] = None
        self.last_stats: Dict[str, float] = {}

    # --- the policy -------------------------------------------------------------------
    @property
    def probs(self) -> Tensor:
        """(O,) apply probabilities (differentiable in ``prob_offsets``)."""
        return biased_probability(self.prior_logits, self.prob_offsets, self.prob_bound)

    @property
    def magnitudes(self) -> Tensor:
        """(O,) magnitudes in [0, 1] (differentiable in ``magnitude_offsets``)."""
        return biased_magnitude(self.prior_magnitudes, self.magnitude_offsets,
                                self.magnitude_bound)

    @torch.no_grad()
    def policy_summary(self) -> Dict[str, Dict[str, float]]:
        """``{'prob': {op: p}, 'magnitude': {op: m}}`` for logging."""
        return {
            'prob': dict(zip(self.op_names, self.probs.tolist())),
            'magnitude': dict(zip(self.op_names, self.magnitudes.tolist()))
        }

    # --- sampling ---------------------------------------------------------------------
    def resample(self, batch_size: int) -> None:
        """Draw gate noise and directions for every op of ``batch_size`` images."""
        n, o = int(batch_size), len(self.image_ops)
        uniforms = torch.rand(n, o, generator=self._generator)
        signs = torch.randint(0, 2, (n, o), generator=self._generator).float() * 2 - 1
        self._draw = _Draw(uniforms.clamp_(_UNIFORM_EPS, 1 - _UNIFORM_EPS), signs)

    @property
    def last_draw(self) -> Tuple[Tensor, Tensor]:
        """The current draw, on the CPU: gate noise ``u`` (N, O) and directions (N, O).

        Op ``j`` is applied to image ``i`` when ``u[i, j] > 1 - probs[j]``.
        """
        if self._draw is None:
            raise RuntimeError('TSTAugmenter has no draw: call resample(batch_size) first')
        return self._draw.uniforms, self._draw.signs

    def _require_draw(self, n: int) -> _Draw:
        if self._draw is None:
            raise RuntimeError('TSTAugmenter has no draw: call resample(batch_size) first')
        if self._draw.uniforms.shape[0] != n:
            raise ValueError(f'TSTAugmenter drew for {self._draw.uniforms.shape[0]} images '
                             f'but got {n}: call resample({n}) for this batch')
        return self._draw

    def gates_and_values(self, n: int, device: torch.device,
                         dtype: torch.dtype) -> Tuple[Tensor, Tensor]:
        """The current draw's gates (N, O) (straight-through) and signed values (N, O)."""
        draw = self._require_draw(n)
        probs, mags = self.probs.to(dtype), self.magnitudes.to(dtype)
        gates = straight_through_gates(probs, draw.uniforms.to(device), self.temperature)
        values = draw.signs.to(device, dtype) * mags * self.max_values.to(dtype)
        return gates, values

    # --- augmentation -----------------------------------------------------------------
    def forward(self,
                inputs: Tensor,
                data_samples: Optional[list] = None) -> Tuple[Tensor, Optional[list]]:
        """Augment a preprocessed batch with the current draw.

        Args:
            inputs (Tensor): (N, 3, H, W) the data preprocessor's output.
            data_samples (list[DetDataSample], optional): their annotations; None to
                augment images only (no box handling, no fallback).

        Returns:
            tuple: augmented inputs (N, 3, H, W), differentiable in the probabilities and
            magnitudes, and new data samples (the input samples are not modified), or None.
            :attr:`last_stats` holds the mean number of applied ops per image and the
            fraction of samples that fell back to their un-warped geometry.
        """
        n, _, h, w = inputs.shape
        gates, values = self.gates_and_values(n, inputs.device, inputs.dtype)
        images = self._photometric(inputs, gates, values)
        moved = torch.ones(n, dtype=torch.bool)
        samples = None if data_samples is None else [s.new() for s in data_samples]
        if self.geometric:
            pixel = to_pixel(
                compose([
                    gated(self.image_ops[i].forward_matrix(values[:, i], h, w), gates[:, i])
                    for i in self.geometric
                ]), h, w)
            warped = warp(images, pixel)
            if data_samples is not None:
                samples, moved = self._move_instances(data_samples, pixel.detach(), h, w)
            images = torch.where(moved.to(inputs.device)[:, None, None, None], warped, images)
        self.last_stats = {
            'applied_ops': float(gates.detach().sum(dim=1).mean()),
            'fallback': float((~moved).float().mean()),
        }
        return images, samples

    def _photometric(self, inputs: Tensor, gates: Tensor, values: Tensor) -> Tensor:
        """Apply the gated colour ops in order, on pixel values in [0, 1]."""
        if not self.photometric:
            return inputs
        x = to_unit_pixels(inputs, self.mean, self.std, self.pixel_max)
        for i in self.photometric:
            out = self.image_ops[i].apply(x, values[:, i], self.rgb)
            x = x + gates[:, i, None, None, None] * (out - x)
        return to_normalised(x, self.mean, self.std, self.pixel_max)

    def _move_instances(self, data_samples: list, pixel: Tensor, h: int,
                        w: int) -> Tuple[list, Tensor]:
        """New samples whose instances moved with the warp; (N,) whether each keeps it."""
        for s in data_samples:
            if 'masks' in s.get('gt_instances', InstanceData()):
                raise ValueError('TSTAugmenter moves boxes only; it does not support '
                                 'instance masks (remove them or the augmenter)')
        gt = [s.gt_instances for s in data_samples]
        gt_boxes, gt_keep = self._warp(gt, pixel, h, w)
        # ignored (crowd) regions move too; a sample without them warps an empty list
        ignored = [s.get('ignored_instances', None) for s in data_samples]
        ignored = [i if i is not None and 'bboxes' in i else None for i in ignored]
        ig_boxes, ig_keep = self._warp(ignored, pixel, h, w)
        samples, moved = [], []
        # the one loop over images: instance lists are ragged
        for i, sample in enumerate(data_samples):
            keeps = bool(gt_keep[i].any()) or gt_keep[i].numel() == 0
            moved.append(keeps)
            if not keeps:  # every object left the image: the sample keeps its geometry
                samples.append(sample.new())
                continue
            data = dict(sample.items())
            data['gt_instances'] = self._kept(gt[i], gt_boxes[i], gt_keep[i])
            if ignored[i] is not None:
                data['ignored_instances'] = self._kept(ignored[i], ig_boxes[i], ig_keep[i])
            meta = dict(sample.metainfo, img_shape=(h, w), pad_shape=(h, w))
            samples.append(sample.new(metainfo=meta, **data))
        return samples, torch.tensor(moved, dtype=torch.bool)

    def _warp(self, instances: list, pixel: Tensor, h: int, w: int):
        """:func:`warp_box_lists` on the boxes of instance lists (None: no boxes)."""
        boxes = [
            pixel.new_zeros(0, 4) if i is None else getattr(i.bboxes, 'tensor', i.bboxes)
            for i in instances
        ]
        return warp_box_lists(boxes, pixel, h, w, self.min_visible, self.min_size)

    @staticmethod
    def _kept(instances: InstanceData, boxes: Tensor, keep: Tensor) -> InstanceData:
        """The kept instances (every field indexed by ``keep``) with their moved boxes."""
        kept = instances[keep]
        old = instances.bboxes
        kept.bboxes = boxes[keep] if isinstance(old, Tensor) else type(old)(boxes[keep])
        return kept

    # --- state ------------------------------------------------------------------------
    def get_extra_state(self) -> Tensor:
        """The sampling generator's state (uint8 tensor), saved in the ``state_dict``."""
        return self._generator.get_state()

    def set_extra_state(self, state: Tensor) -> None:
        """Restore the sampling generator; drops the current draw."""
        self._generator.set_state(state.detach().cpu().to(torch.uint8))
        self._draw = None

    def extra_repr(self) -> str:
        return (f'ops={self.op_names}, prob_bound={self.prob_bound}, '
                f'magnitude_bound={self.magnitude_bound}, temperature={self.temperature}, '
                f'min_visible={self.min_visible}, seed={self.seed}')
