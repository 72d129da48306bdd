"""A training child that dies with the benchmark process that started it.

``kill <pid>`` of a benchmark (SIGTERM, or SIGHUP when its terminal closes) would end only
the benchmark: the training it started went on as an orphan, still holding its share of
the CPU and of the GPU, and slowed every run measured after it. Here those signals become
``SystemExit`` in the benchmark, and the wait on the child kills the child on the way out.
"""
import os
import signal
import subprocess


def exit_on_termination(signals=(signal.SIGTERM, signal.SIGHUP)) -> None:
    """Turn ``signals`` into ``SystemExit(128 + signal)`` in this (main) thread."""

    def _exit(signum, frame):
        raise SystemExit(128 + signum)

    for sig in signals:
        signal.signal(sig, _exit)


def wait_child(proc: subprocess.Popen) -> tuple:
    """Wait for ``proc``; on any exception (Ctrl-C, ``SystemExit`` from a signal) kill it.

    Returns:
        tuple: ``(returncode, rusage)``, the rusage of the child alone (``os.wait4``).
    """
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage
