"""Log TST's learned augmenter during training, and plot it at the end."""
import os.path as osp
from typing import Optional

from mmengine.model import is_model_wrapper
from mmrazor.registry import HOOKS

from ...visualization.policy_plot import plot_policy_history
from .policy_history import PolicyHistoryHook


@HOOKS.register_module()
class TSTAugmenterLoggerHook(PolicyHistoryHook):
    """Every ``interval`` iterations, log the apply probability and magnitude of each op of
    a TST model's augmenter.

    Scalars ``augmenter/prob/<op>`` and ``augmenter/magnitude/<op>`` reach every visualiser
    backend through the LoggerHook; the history is kept in
    ``<work_dir>/augmenter_history.json`` (continued on resume) and plotted to
    ``<work_dir>/augmenter.png`` (and the visualiser) after training.

    Args:
        interval (int): iterations between two records. Defaults to 50.
        plot (bool): write the PNG after training. Defaults to True.
    """

    history_file = 'augmenter_history.json'

    @staticmethod
    def _augmenter(runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        return getattr(model, 'augmenter', None)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        """Record the augmenter every ``interval`` iterations and at the last one."""
        augmenter = self._augmenter(runner)
        if augmenter is None or not self.due(runner):
            return
        summary = augmenter.policy_summary()
        for op, value in summary['prob'].items():
            runner.message_hub.update_scalar(f'train/augmenter/prob/{op}', value)
        for op, value in summary['magnitude'].items():
            runner.message_hub.update_scalar(f'train/augmenter/magnitude/{op}', value)
        self.append(runner, dict(apply_prob=summary['prob'], magnitude=summary['magnitude']))

    def after_train(self, runner) -> None:
        """Plot the augmenter over training to ``augmenter.png`` and the visualiser."""
        if not (self.plot and self.history):
            return
        image = plot_policy_history(
            self.history,
            osp.join(runner.work_dir, 'augmenter.png'),
            title='TST augmenter over training',
            labels=('apply probability', 'magnitude'))
        runner.visualizer.add_image('tst_augmenter', image, step=runner.iter)
