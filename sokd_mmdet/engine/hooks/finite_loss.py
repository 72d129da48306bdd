"""Stop a run whose loss turns non-finite, before a checkpoint is written with it."""
from mmengine.hooks import Hook
from mmrazor.registry import HOOKS

from ...models.steps import check_finite_losses


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """After every training iteration, raise if a loss term is NaN or infinite.

    For every algorithm (MMRazor's distillers, TST, ATF, plain detectors); SoKD also checks
    before it steps, so that not even one step is taken with the NaN. The hook runs
    before the checkpoint and logger hooks (priority ``VERY_HIGH``), so no checkpoint and
    no log line of a NaN run is written after the first non-finite term; the error names
    the term, its value and the iteration (:func:`check_finite_losses`).
    """

    priority = 'VERY_HIGH'

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Check the step's log variables (the losses ``train_step`` returned)."""
        if outputs:
            check_finite_losses(outputs, runner.iter)
