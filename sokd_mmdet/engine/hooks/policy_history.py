"""What the two policy loggers share: a history of records kept in the work dir."""
import json
import os
import os.path as osp
from typing import List

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log


class PolicyHistoryHook(Hook):
    """A hook that records a learned policy every ``interval`` iterations (and at the last)
    into ``<work_dir>/<history_file>``, continued on resume.

    Subclasses set ``history_file`` and build the records in ``after_train_iter``.

    Args:
        interval (int): iterations between two records. Defaults to 50.
        plot (bool): write the subclass's PNG after training. Defaults to True.
    """

    priority = 'BELOW_NORMAL'
    history_file = 'policy_history.json'

    def __init__(self, interval: int = 50, plot: bool = True) -> None:
        self.interval = interval
        self.plot = plot
        self.history: List[dict] = []

    def _history_path(self, runner) -> str:
        return osp.join(runner.work_dir, self.history_file)

    def before_train(self, runner) -> None:
        """Continue the history of a resumed run; a damaged file starts a fresh history."""
        path = self._history_path(runner)
        if not osp.isfile(path):
            return
        try:
            with open(path) as f:
                self.history = [h for h in json.load(f) if h['iter'] <= runner.iter]
        except (ValueError, TypeError, KeyError) as err:  # truncated, not a list of records
            print_log(
                f'{path} is damaged ({type(err).__name__}: {err}); the policy history '
                'starts afresh from this iteration (training is not affected)',
                logger='current',
                level=30)
            self.history = []

    def due(self, runner) -> bool:
        """Whether this iteration is recorded (every ``interval`` and the last one)."""
        return self.every_n_train_iters(runner, self.interval) or \
            self.is_last_train_iter(runner)

    def append(self, runner, record: dict) -> None:
        """Add ``record`` (its ``iter`` is set here) and rewrite the history file."""
        self.history.append(dict(iter=runner.iter + 1, **record))
        if not is_main_process():  # every rank holds the same policy; one writes it
            return
        path = self._history_path(runner)
        # write then rename: a kill mid-write leaves the previous complete file
        tmp = f'{path}.{os.getpid()}.tmp'
        with open(tmp, 'w') as f:
            json.dump(self.history, f)
        os.replace(tmp, path)
