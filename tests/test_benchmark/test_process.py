"""A benchmark killed with SIGTERM/SIGHUP kills the training child it is waiting on."""
import os
import os.path as osp
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from benchmark import process

# the benchmark's pattern: convert the signals, start a child, wait on it (the module is
# loaded from its file: that process does not have the checkout on its path)
PARENT = textwrap.dedent("""
    import importlib.util, subprocess, sys
    spec = importlib.util.spec_from_file_location('process', sys.argv[2])
    process = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(process)
    process.exit_on_termination()
    child = subprocess.Popen([sys.executable, '-c',
        'import os, sys, time; open(sys.argv[1], "w").write(str(os.getpid())); '
        'time.sleep(120)', sys.argv[1]])
    print(process.wait_child(child)[0])
""")


def _wait_for(path, timeout=60.0):
    end = time.time() + timeout
    while time.time() < end:
        if osp.isfile(path) and open(path).read():
            return int(open(path).read())
        time.sleep(0.05)
    raise TimeoutError(path)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGHUP])
def test_killing_the_benchmark_kills_its_child(sig, tmp_path):
    pid_file = str(tmp_path / 'child.pid')
    parent = subprocess.Popen([sys.executable, '-c', PARENT, pid_file, process.__file__],
                              stderr=subprocess.PIPE,
                              text=True)
    child = _wait_for(pid_file)
    assert _alive(child)
    parent.send_signal(sig)
    _, err = parent.communicate(timeout=60)
    assert parent.returncode == 128 + sig, err
    assert not _alive(child)  # killed and reaped, not left running as an orphan


def test_wait_child_returns_the_exit_status_and_the_child_rusage():
    proc = subprocess.Popen(
        [sys.executable, '-c', 'import sys; x = bytearray(64 << 20); sys.exit(3)'])
    code, usage = process.wait_child(proc)
    assert code == 3 and proc.returncode == 3
    assert usage.ru_maxrss * 1024 > 64 << 20  # KiB on Linux: the 64 MiB it allocated
