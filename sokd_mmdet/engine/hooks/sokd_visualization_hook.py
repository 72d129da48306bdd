"""Draw SoKD's distinctive areas and refined teacher features during training."""
import copy
import os.path as osp
from typing import Optional, Sequence

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmrazor.registry import HOOKS

from ...analysis import inspect_batch, level_mappings
from ...visualization import draw_inspection


def take_images(batches, num_images: int) -> Optional[dict]:
    """The first ``num_images`` images of an iterable of collated batches, as one batch.

    Batches are dicts of per-image lists (MMEngine's ``pseudo_collate``) or of tensors
    stacked on dim 0; a tensor value is split into its images.

    Returns:
        dict | None: ``{key: list}`` with ``num_images`` entries per key (fewer if the
        batches run out); None if there was no image.
    """
    taken = dict()
    count = 0
    for batch in batches:
        n = min(num_images - count, len(batch['inputs']))
        for key, value in batch.items():
            items = list(value[:n]) if isinstance(value, (list, tuple, torch.Tensor)) else []
            taken.setdefault(key, []).extend(items)
        count += n
        if count >= num_images:
            break
    return copy.deepcopy(taken) if count else None


@HOOKS.register_module()
class SoKDVisualizationHook(Hook):
    """Every ``interval`` training iterations, and after training, draw what SoKD sees.

    On the first ``num_images`` images of the validation dataloader (the same images every
    time; the first training batch when the run has no validation loop), it runs
    :func:`~sokd_mmdet.analysis.inspect_batch` (eval mode, no
    gradient; the model's train mode and DAFA's random stream are restored afterwards) and
    draws, per image ``i`` and FPN level ``l``:

    - ``regions_img<i>_lvl<l>``: the image with DAM's student, teacher and mutual heatmaps
      and the decoded regions;
    - ``features_img<i>_lvl<l>``: the student and (augmented) teacher features with the
      regions and the region mask;
    - ``dafa_img<i>_lvl<l>``: a teacher feature before and after a fresh DAFA draw.

    Pictures a model cannot make (no DAM, no DAFA) are left out. They are saved to
    ``<work_dir>/vis/iter_<n>/<name>.png`` and sent to the runner's visualiser as
    ``sokd_<name>`` with ``step=n`` (every backend: local files, TensorBoard, ...), ``n``
    being the number of iterations done, the step of the scalars of that iteration.
    Only the main process draws.

    Args:
        interval (int): iterations between two sets of pictures. Defaults to 500.
        num_images (int): images drawn each time. Defaults to 2.
        levels (Sequence[int]): distillation points (FPN levels, the ``data_idx`` of the
            distiller's ``loss_forward_mappings``) to draw. Defaults to (0, 1, 2).
        after_train (bool): draw once more after training. Defaults to True.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 500,
                 num_images: int = 2,
                 levels: Sequence[int] = (0, 1, 2),
                 after_train: bool = True) -> None:
        if interval < 1:
            raise ValueError(f'SoKDVisualizationHook: interval must be >= 1, got {interval}')
        if num_images < 1:
            raise ValueError('SoKDVisualizationHook: num_images must be >= 1, got '
                             f'{num_images}')
        self.interval = interval
        self.num_images = num_images
        self.levels = tuple(int(level) for level in levels)
        self.draw_after_train = after_train
        self._batch: Optional[dict] = None
        self._last_drawn: Optional[int] = None

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def before_train(self, runner) -> None:
        """Check that the model is a distillation model that has the levels to draw."""
        model = self._model(runner)
        distiller = getattr(model, 'distiller', None)
        if distiller is None or not hasattr(model, 'teacher'):
            raise TypeError('SoKDVisualizationHook draws distillation models (teacher, '
                            f'student, distiller); got {type(model).__name__}. Remove the '
                            'hook from custom_hooks.')
        available = level_mappings(distiller)
        missing = [level for level in self.levels if level not in available]
        if missing:
            raise ValueError(f'SoKDVisualizationHook: levels {missing} are not distillation '
                             f'points of this model (it has {sorted(available)}): set '
                             'levels= in the hook config.')

    def _images(self, runner, data_batch: Optional[dict]) -> Optional[dict]:
        """The batch to draw: fixed validation images, else the first training batch."""
        if self._batch is None:
            val_loop = runner.val_loop
            if val_loop is not None:
                self._batch = take_images(val_loop.dataloader, self.num_images)
            elif data_batch is not None:
                self._batch = take_images([data_batch], self.num_images)
        return self._batch

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        """Draw every ``interval`` iterations."""
        if self.every_n_train_iters(runner, self.interval):
            self._draw(runner, runner.iter + 1, data_batch)

    def after_train(self, runner) -> None:
        """Draw the final state, unless the last iteration was just drawn."""
        if self.draw_after_train and self._last_drawn != runner.iter:
            self._draw(runner, runner.iter, None)

    def _draw(self, runner, step: int, data_batch: Optional[dict]) -> None:
        if not is_main_process():
            return
        batch = self._images(runner, data_batch)
        if batch is None:
            runner.logger.warning('SoKDVisualizationHook: no images to draw (no validation '
                                  'dataloader and no training batch seen)')
            return
        model = self._model(runner)
        was_training = model.training
        try:
            result = inspect_batch(model, batch, self.levels)
        finally:
            model.train(was_training)
        out_dir = osp.join(runner.work_dir, 'vis', f'iter_{step}')
        pictures = draw_inspection(result, out_dir)
        for name, image in pictures.items():
            runner.visualizer.add_image(f'sokd_{name}', image, step=step)
        self._last_drawn = step
        runner.logger.info(f'SoKDVisualizationHook: {len(pictures)} pictures in {out_dir}')
