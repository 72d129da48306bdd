"""Run locks: several benchmark processes can share one output folder.

On a machine with several GPUs (or cores) a user starts one ``tools/benchmark.py`` per
device on the same ``--out``; each run (the data, the teacher, one method with one seed) is
made by whichever process locks it first, and the others reuse its result. The locks are
``flock`` advisory locks: the kernel drops them when their process dies, so a killed
benchmark never leaves a stale lock behind, and the next process resumes its run from the
last checkpoint.
"""
import contextlib
import fcntl
import os
import os.path as osp
from typing import Callable, Iterable, Iterator, Optional, Tuple


class RunLock:
    """An exclusive lock on one run, held through an open lock file.

    Args:
        path (str): the lock file (created with its folder if absent; never deleted, so
            that two processes always lock the same inode).
    """

    def __init__(self, path: str):
        self.path = path
        self._fd = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self, block: bool = True) -> bool:
        """Take the lock; with ``block=False``, False at once when another process has it."""
        if self.held:
            raise RuntimeError(f'{self.path}: already held by this process')
        os.makedirs(osp.dirname(osp.abspath(self.path)), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        """Give the lock back (closing the file drops the ``flock``)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> 'RunLock':
        self.acquire(block=True)
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def locked_elsewhere(path: str) -> bool:
    """Whether another open file (another process, or another :class:`RunLock`) holds the
    lock at ``path`` now. Creates nothing: a lock file that does not exist is free.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the lock if it was taken
    return False


@contextlib.contextmanager
def held(lock: RunLock, what: str, while_waiting: Optional[Callable[[], None]] = None):
    """Hold ``lock`` for the block; say so when another process has it and this one waits.

    ``while_waiting``: work to do first when another process has the lock (called once,
    before this one blocks), e.g. the runs that do not need what that process is making.
    """
    if not lock.acquire(block=False):
        if while_waiting is not None:
            while_waiting()
        if not lock.acquire(block=False):
            print(
                f'{what}: another benchmark process on this --out is making it; waiting',
                flush=True)
            lock.acquire(block=True)
    try:
        yield lock
    finally:
        lock.release()


def claim_in_turn(jobs: Iterable,
                  lock_for: Callable[[object], RunLock],
                  on_wait: Callable[[object], None] = None,
                  wait_deferred: bool = True) -> Iterator[Tuple[object, RunLock]]:
    """Yield each job once, with its lock held by the caller until the next job is asked for.

    Jobs that another process holds are deferred: the free ones go first, in order; then
    this process waits for each deferred one in turn (usually to find it finished, so the
    caller reuses its result; or to resume it if that process died). ``on_wait(job)`` is
    called before each wait. ``wait_deferred=False``: the free ones only, the deferred
    ones are left out.
    """
    deferred = []
    for job in jobs:
        lock = lock_for(job)
        if not lock.acquire(block=False):
            deferred.append(job)
            continue
        try:
            yield job, lock
        finally:
            lock.release()
    for job in (deferred if wait_deferred else []):
        lock = lock_for(job)
        if not lock.acquire(block=False):
            if on_wait is not None:
                on_wait(job)
            lock.acquire(block=True)
        try:
            yield job, lock
        finally:
            lock.release()
