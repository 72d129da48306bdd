"""DAM: the Distinctive Area detection Module of SoKD."""
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmrazor.registry import MODELS
from torch import Tensor, nn

from .regions import MUTUAL_MODES, local_peaks, mutual_heatmap, region_masks, topk_regions
from .targets import centernet_targets, gaussian_focal_loss

SUPERVISIONS = ('mutual', 'gt')
DEFAULT_LOSS_GT_WEIGHTS = dict(heatmap=1.0, wh=0.1, offset=1.0)
# CenterNet's heatmap prior: sigmoid(-2.19) ~= 0.1, so the focal loss does not start by
# pushing every cell of a mostly-background map down from 0.5.
HEATMAP_PRIOR_BIAS = -2.19


def scale_free(feat: Tensor, eps: float = 1e-12) -> Tensor:
    """``feat`` divided by its root mean square per image, over (C, H, W).

    DAM's heads read this, so that their outputs (and the alignment and ground-truth losses
    on them) do not grow with the raw magnitude of the FPN features: measured on the COCO
    RetinaNet config with random weights, the alignment term on raw features was 1.2e9
    against a task loss of 2.4 at the first iteration, and NaN after. A map and any positive
    multiple of it give the same DAM outputs.

    Args:
        feat (Tensor): (N, C, H, W).
        eps (float): added to the mean square (an all-zero map stays zero).
    """
    rms = feat.pow(2).mean(dim=(1, 2, 3), keepdim=True).add(eps).sqrt()
    return feat / rms


def _head(in_channels: int, feat_channels: int, out_channels: int) -> nn.Sequential:
    """conv3x3(in, feat) - ReLU - conv1x1(feat, out), CenterNet's head shape."""
    return nn.Sequential(
        nn.Conv2d(in_channels, feat_channels, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(feat_channels, out_channels, 1))


@MODELS.register_module()
class DAM(BaseModule):
    """Distinctive Area detection Module (SoKD, Shen et al., ACM MM 2024).

    Three CenterNet-style heads (Zhou et al. 2019, "Objects as Points") -- ``heatmap``
    (1 channel, sigmoid), ``wh`` (2, box size in cells) and ``offset`` (2, sub-cell centre
    offset) -- applied with the *same* weights to the adapted student feature and to the
    augmented teacher feature, at every FPN level. The regions both sides attend to (top-k
    peaks of the mutual heatmap) become the mask that restricts the distillation loss.

    The module only owns the heads and calls the plain functions of
    :mod:`~sokd_mmdet.models.sokd.dam.regions` and :mod:`~sokd_mmdet.models.sokd.dam.targets`; the
    distiller decides which losses to add (``loss_gt`` only when ``supervision == 'gt'``).

    Args:
        in_channels (int): channels of the feature maps (the teacher's, after the student
            adapter). Defaults to 256.
        feat_channels (int): hidden channels of each head. Defaults to 64.
        topk (int): regions per image and level. Defaults to 8.
        mutual (str): how the two heatmaps are combined, see
            :func:`~sokd_mmdet.models.sokd.dam.regions.mutual_heatmap`. Defaults to
            ``'geometric'``.
        weighted_mask (bool): masks hold the peak score instead of 1. Defaults to False.
        min_score (float): regions scoring ``<= min_score`` are left out of the mask.
            Defaults to 0.0.
        peak_kernel (int): window of the max-pool peak test (odd). Defaults to 3.
        supervision (str): ``'mutual'``: heads trained by the alignment loss only (the
            research code); ``'gt'``: also by CenterNet losses on the ground-truth boxes.
            Defaults to ``'mutual'``.
        min_region_size (float): smallest width/height of a decoded region, in cells. With
            1 every region covers its peak cell: without it, heads whose size output is
            still near 0 (``mutual`` supervision trains ``wh`` only by agreement) would give
            almost empty masks. Defaults to 1.0.
        loss_gt_weights (dict): weights of the ``heatmap``, ``wh`` and ``offset`` terms of
            :meth:`loss_gt`; missing keys keep their default. Defaults to
            ``dict(heatmap=1.0, wh=0.1, offset=1.0)`` (CenterNet's).
        init_cfg (dict, optional): MMEngine init config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int = 256,
                 feat_channels: int = 64,
                 topk: int = 8,
                 mutual: str = 'geometric',
                 weighted_mask: bool = False,
                 min_score: float = 0.0,
                 peak_kernel: int = 3,
                 min_region_size: float = 1.0,
                 supervision: str = 'mutual',
                 loss_gt_weights: dict = DEFAULT_LOSS_GT_WEIGHTS,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        # Config mistakes are reported here, not at the first forward pass.
        if mutual not in MUTUAL_MODES:
            raise ValueError(f'DAM: mutual={mutual!r} is not one of {MUTUAL_MODES}')
        if supervision not in SUPERVISIONS:
            raise ValueError(f'DAM: supervision={supervision!r} is not one of {SUPERVISIONS}')
        if peak_kernel < 1 or peak_kernel % 2 == 0:
            raise ValueError(f'DAM: peak_kernel must be a positive odd int, got {peak_kernel}')
        if topk < 1:
            raise ValueError(f'DAM: topk must be >= 1, got {topk}')
        unknown = set(loss_gt_weights) - set(DEFAULT_LOSS_GT_WEIGHTS)
        if unknown:
            raise ValueError(f'DAM: unknown loss_gt_weights keys {sorted(unknown)}, '
                             f'expected a subset of {sorted(DEFAULT_LOSS_GT_WEIGHTS)}')
        self.topk = topk
        self.mutual = mutual
        self.weighted_mask = weighted_mask
        self.min_score = min_score
        self.peak_kernel = peak_kernel
        self.min_region_size = min_region_size
        self.supervision = supervision
        self.loss_gt_weights = {**DEFAULT_LOSS_GT_WEIGHTS, **loss_gt_weights}

        self.heatmap = _head(in_channels, feat_channels, 1)
        self.wh = _head(in_channels, feat_channels, 2)
        self.offset = _head(in_channels, feat_channels, 2)
        self._init_heatmap_prior()

    def _init_heatmap_prior(self):
        nn.init.constant_(self.heatmap[-1].bias, HEATMAP_PRIOR_BIAS)

    def init_weights(self):
        """Run the ``init_cfg`` initialisation, then restore the heatmap prior bias.

        A generic ``init_cfg`` (e.g. ``Normal`` on ``Conv2d``) would overwrite the prior; a
        ``Pretrained`` one must not be touched.
        """
        super().init_weights()
        cfgs = self.init_cfg if isinstance(self.init_cfg, list) else [self.init_cfg]
        if not any(isinstance(c, dict) and c.get('type') == 'Pretrained' for c in cfgs):
            self._init_heatmap_prior()

    def forward(self, feat: Tensor) -> dict:
        """Predict the CenterNet outputs on one feature map, read scale-free.

        Args:
            feat (Tensor): (N, in_channels, H, W); the heads see :func:`scale_free` of it.

        Returns:
            dict[str, Tensor]: ``heatmap`` (N, 1, H, W) in (0, 1), ``wh`` (N, 2, H, W) in
            cells, ``offset`` (N, 2, H, W) in cells.
        """
        feat = scale_free(feat)
        return dict(
            heatmap=self.heatmap(feat).sigmoid(), wh=self.wh(feat), offset=self.offset(feat))

    def loss_align(self, out_s: dict, out_t: dict) -> Tensor:
        """Alignment loss ``L_D``: student and teacher DAM outputs should agree.

        Args:
            out_s (dict): :meth:`forward` on the (adapted) student feature.
            out_t (dict): :meth:`forward` on the (augmented) teacher feature.

        Returns:
            Tensor: scalar, sum over heatmap, wh and offset of the mean squared error.
        """
        return sum(F.mse_loss(out_s[key], out_t[key]) for key in ('heatmap', 'wh', 'offset'))

    @torch.no_grad()
    def regions(self, out_s: dict, out_t: dict) -> dict:
        """Decode the distinctive areas both sides attend to (detached).

        The regions are the top-``topk`` local peaks of the mutual heatmap, decoded with the
        average of the student's and the teacher's wh and offset.

        Args:
            out_s (dict): :meth:`forward` on the student feature.
            out_t (dict): :meth:`forward` on the teacher feature.

        Returns:
            dict[str, Tensor]: ``boxes`` (N, topk, 4) as (x1, y1, x2, y2) in cells,
            ``scores`` (N, topk), ``heat_s``/``heat_t``/``mutual`` (N, 1, H, W); all detached.
            Empty slots are zero-score empty boxes (see
            :func:`~sokd_mmdet.models.sokd.dam.regions.topk_regions`).
        """
        heat_s, heat_t = out_s['heatmap'].detach(), out_t['heatmap'].detach()
        mutual = mutual_heatmap(heat_s, heat_t, self.mutual)
        wh = (out_s['wh'].detach() + out_t['wh'].detach()) / 2
        offset = (out_s['offset'].detach() + out_t['offset'].detach()) / 2
        boxes, scores = topk_regions(
            local_peaks(mutual, self.peak_kernel),
            wh,
            offset,
            self.topk,
            min_size=self.min_region_size)
        return dict(boxes=boxes, scores=scores, heat_s=heat_s, heat_t=heat_t, mutual=mutual)

    @torch.no_grad()
    def masks(self, out_s: dict, out_t: dict) -> Tensor:
        """Mask ``M`` of the distinctive areas: the union of the decoded regions.

        A selection, not a differentiable quantity: computed under ``no_grad``.

        Args:
            out_s (dict): :meth:`forward` on the student feature.
            out_t (dict): :meth:`forward` on the teacher feature.

        Returns:
            Tensor: (N, 1, H, W), detached; values in {0, 1}, or the covering peak score
            when ``weighted_mask``.
        """
        reg = self.regions(out_s, out_t)
        h, w = reg['mutual'].shape[-2:]
        return region_masks(
            reg['boxes'],
            reg['scores'],
            h,
            w,
            weighted=self.weighted_mask,
            min_score=self.min_score)

    @staticmethod
    def gt_targets(gt_bboxes: list, stride: float, like: Tensor) -> dict:
        """CenterNet targets of the boxes on a level shaped like ``like`` (N, ., H, W), on
        its device: :func:`centernet_targets`. Both sides' :meth:`loss_gt` at one level can
        share them."""
        return centernet_targets([b.to(like.device) for b in gt_bboxes], stride, like.shape[-2:])

    def loss_gt(self, out: dict, gt_bboxes: list, stride: float, targets: dict = None) -> dict:
        """CenterNet losses of one side's outputs against the ground-truth boxes.

        Gaussian focal loss on the heatmap, L1 on wh and offset at the centre cells, each
        normalised by the number of centre cells (at least 1) and multiplied by its weight
        in ``loss_gt_weights``. As in the CenterNet paper (Eq. 2-3) the L1 sums the two
        coordinates; MMDetection's CenterNetHead divides by twice the count instead.

        Args:
            out (dict): :meth:`forward` outputs for one level, (N, ., H, W).
            gt_bboxes (list[Tensor]): N tensors (n_i, 4), (x1, y1, x2, y2) in input pixels.
            stride (float): the level's stride in input pixels.
            targets (dict, optional): :meth:`gt_targets` of these boxes at this level, when
                the caller has them already; None builds them.

        Returns:
            dict[str, Tensor]: scalar losses ``heatmap``, ``wh`` and ``offset``.
        """
        heat = out['heatmap']
        tgt = self.gt_targets(gt_bboxes, stride, heat) if targets is None else targets
        weight = tgt['weight'].to(heat.dtype)
        num_pos = weight.sum().clamp_min(1)
        # at least float32: under mixed precision log(p + 1e-12) would underflow to log(0)
        wide = heat.float() if heat.dtype in (torch.float16, torch.bfloat16) else heat
        losses = dict(
            heatmap=gaussian_focal_loss(wide, tgt['heatmap'].to(wide.dtype)) / num_pos,
            wh=((out['wh'] - tgt['wh']).abs() * weight).sum() / num_pos,
            offset=((out['offset'] - tgt['offset']).abs() * weight).sum() / num_pos)
        return {key: self.loss_gt_weights[key] * loss for key, loss in losses.items()}
