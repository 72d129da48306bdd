"""Log the learned DAFA policy during training, and plot it at the end."""
import os.path as osp
from typing import Optional

from mmengine.model import is_model_wrapper
from mmrazor.registry import HOOKS

from ...visualization.policy_plot import plot_policy_history
from .policy_history import PolicyHistoryHook


@HOOKS.register_module()
class DAFAPolicyLoggerHook(PolicyHistoryHook):
    """Every ``interval`` iterations, log the DAFA policy of a SoKD model.

    Per op: the expected apply probability and the probability-weighted magnitude, as
    scalars ``policy/apply/<op>`` and ``policy/magnitude/<op>`` (they reach every visualiser
    backend through the LoggerHook: local JSON, TensorBoard, ...); the most likely
    sub-policies as a log line. The history is kept in ``<work_dir>/policy_history.json``
    and plotted to ``<work_dir>/policy.png`` (also sent to the visualiser as an image) after
    training.

    Args:
        interval (int): iterations between two records. Defaults to 50.
        topk (int): how many of the most likely sub-policies to print. Defaults to 5.
        plot (bool): write the PNG after training. Defaults to True.
    """

    history_file = 'policy_history.json'

    def __init__(self, interval: int = 50, topk: int = 5, plot: bool = True) -> None:
        super().__init__(interval, plot)
        self.topk = topk

    @staticmethod
    def _dafa(runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        distiller = getattr(model, 'distiller', None)
        return getattr(distiller, 'dafa', None)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        """Record the policy every ``interval`` iterations and at the last one."""
        dafa = self._dafa(runner)
        if dafa is None or not self.due(runner):
            return
        summary = dafa.policy_summary(self.topk)
        for op, value in summary['apply_prob'].items():
            runner.message_hub.update_scalar(f'train/policy/apply/{op}', value)
        for op, value in summary['magnitude'].items():
            runner.message_hub.update_scalar(f'train/policy/magnitude/{op}', value)
        top = ', '.join(f'{name} {prob:.3f}' for name, prob in summary['top_sub_policies'])
        runner.logger.info(f'DAFA policy at iter {runner.iter + 1}: top sub-policies: {top}')
        self.append(runner, summary)

    def after_train(self, runner) -> None:
        """Plot the policy over training to ``policy.png`` and the visualiser."""
        if not (self.plot and self.history):
            return
        image = plot_policy_history(self.history, osp.join(runner.work_dir, 'policy.png'))
        runner.visualizer.add_image('dafa_policy', image, step=runner.iter)
