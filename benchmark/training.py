"""One training process of the benchmark and the work dir it leaves behind.

Every run trains through ``tools/train.py`` in a fresh process, measured alone (its own
rusage); a run's work dir records its key, so that an interrupted run is resumed from its
last checkpoint only by the same run.
"""
import glob
import json
import os
import os.path as osp
import re
import shlex
import shutil
import subprocess
import sys
import time
from typing import Optional

from . import REPO_ROOT
from .archive import load_record, once_name, save_record
from .process import wait_child
from .progress import headline, log_tail
from .run_key import file_sha256, run_key, semantic_text
from .scalars import evaluations, parse_run, read_jsonl, read_scalars


def _checkpoint_iter(path: str) -> Optional[int]:
    """The iteration of an MMEngine ``iter_<n>.pth`` checkpoint; None for another name."""
    match = re.fullmatch(r'iter_(\d+)\.pth', osp.basename(path))
    return int(match.group(1)) if match else None


def _last_checkpoint(work_dir: str) -> Optional[str]:
    """The absolute path ``last_checkpoint`` points at; None without the pointer."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer) as f:
        return osp.abspath(f.read().strip())


def evaluated_iters(work_dir: str) -> set:
    """The iterations whose evaluation the run's log holds; empty without a log."""
    try:
        return {it for it, _ in evaluations(read_scalars(work_dir))}
    except FileNotFoundError:
        return set()


def resume_point(work_dir: str, eval_due=None):
    """The checkpoint to resume from: the last one, or the newest before it whose
    evaluation is in the log.

    MMEngine saves the checkpoint of an iteration before it evaluates that iteration, so a
    process killed during an evaluation leaves a checkpoint whose evaluation is missing;
    resumed from it, the run would never make it (at the final iteration: no result at
    all). Such a checkpoint is skipped: training goes on from the one before, and the
    iterations in between are trained again (a resumed run is exact).

    Args:
        eval_due (callable, optional): ``iteration -> bool``, whether the run evaluates
            after that iteration; None: no evaluation is checked.

    Returns:
        str or None: the checkpoint's path; None when there is none to resume from.
    """
    last = _last_checkpoint(work_dir)
    last_iter = None if last is None else _checkpoint_iter(last)
    if eval_due is None or last_iter is None:
        return last
    evaluated = evaluated_iters(work_dir)
    ckpts = {
        n: osp.abspath(c)
        for c in glob.glob(osp.join(work_dir, 'iter_*.pth'))
        if (n := _checkpoint_iter(c)) is not None and n <= last_iter
    }
    for n in sorted(ckpts, reverse=True):
        if not eval_due(n) or n in evaluated:
            return ckpts[n]
    return None


def start_or_resume(work_dir: str, key: str, eval_due=None) -> bool:
    """Prepare ``work_dir`` for the run ``key``; True when an interrupted run goes on.

    A run with the same key that stopped after writing a checkpoint (``last_checkpoint``)
    is resumed from it (MMEngine restores weights, optimisers, schedulers, the iteration
    and the random state), or from the one before it when its evaluation is missing
    (:func:`resume_point`, with ``eval_due``); anything else is started afresh.
    """
    key_file = osp.join(work_dir, 'run_key.txt')
    if osp.isfile(key_file) and osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        with open(key_file) as f:
            same = f.read().strip() == key
        point = resume_point(work_dir, eval_due) if same else None
        if point is not None:
            last = _last_checkpoint(work_dir)
            if point != last:
                print(
                    f'{work_dir}: {osp.basename(last)} was saved but its evaluation is not '
                    f'in the log (the process stopped during it); resuming from '
                    f'{osp.basename(point)}',
                    flush=True)
                with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
                    f.write(point)
            return True
    shutil.rmtree(work_dir, ignore_errors=True)
    os.makedirs(work_dir)
    with open(key_file, 'w') as f:
        f.write(key)
    return False


def segment_iters(work_dir: str):
    """Iterations trained by the run's newest segment: the training records of its newest
    ``*/vis_data/scalars.json`` (each segment logs into its own timestamped folder); None
    without one."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        return None
    return len({rec['step'] for rec in read_jsonl(files[-1]) if 'loss' in rec})


def run_segments(work_dir: str, run: dict) -> dict:
    """Add this process's wall time, CPU time, peak RSS, load and iterations trained to the
    run's segments; their totals.

    A segment killed mid-way records nothing, so the recorded CPU time may cover only part
    of the run: ``cpu_iters`` says how many iterations it covers.

    Returns:
        dict: ``wall_s`` and ``cpu_s`` (sums over segments; ``cpu_s`` None if a segment
        has none), ``cpu_iters`` (iterations of the segments with a CPU time; None if one
        of them did not record its iterations), ``peak_rss_mib`` (max), ``segments``
        (count), ``load5`` (the highest 5-minute load average at a segment's end; None if
        unknown).
    """
    path = osp.join(work_dir, 'segments.json')
    segments = []
    if osp.isfile(path):
        with open(path) as f:
            segments = json.load(f)
    segment = {
        k: run[k]
        for k in ('wall_s', 'cpu_s', 'peak_rss_mib', 'returncode', 'load5') if k in run
    }
    segment['iters'] = segment_iters(work_dir)
    segments.append(segment)
    with open(path, 'w') as f:
        json.dump(segments, f, indent=1)
    loads = [s['load5'] for s in segments if s.get('load5') is not None]
    cpu = [s.get('cpu_s') for s in segments]
    cpu_iters = [s.get('iters') for s in segments if s.get('cpu_s') is not None]
    return dict(
        wall_s=sum(s['wall_s'] for s in segments),
        # None when a segment was trained before CPU time was recorded
        cpu_s=None if None in cpu else sum(cpu),
        cpu_iters=None if None in cpu or None in cpu_iters else sum(cpu_iters),
        peak_rss_mib=max(s['peak_rss_mib'] for s in segments),
        segments=len(segments),
        load5=max(loads) if loads else None)


def child_env() -> dict:
    """The environment of a tool run in a child process: this checkout's package first on
    the path (not another installed copy), no display, unbuffered output."""
    return dict(
        os.environ,
        PYTHONPATH=REPO_ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''),
        MPLBACKEND='Agg',
        PYTHONUNBUFFERED='1')


def train_command(cfg_file: str, work_dir: str, options: list, resume: bool = False) -> list:
    """The ``tools/train.py`` command line of one run."""
    return [
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'train.py'), cfg_file, '--work-dir', work_dir
    ] + (['--resume'] if resume else []) + ['--cfg-options', *options]


def train(cfg_file: str,
          work_dir: str,
          options: list,
          log_file: str,
          resume: bool = False) -> dict:
    """Run ``tools/train.py`` in a fresh process; its wall time and peak RSS.

    The process's own rusage comes from ``os.wait4`` (``ru_maxrss``: the largest resident
    set of the process and of its data-loader workers, not a sum), so each run is measured
    alone even though the benchmark runs many.

    Returns:
        dict: ``returncode``, ``wall_s``, ``cpu_s`` (user + system CPU seconds of the
        process and its data-loader workers: what a run costs whatever else shares the
        machine), ``peak_rss_mib`` and ``load5`` (the machine's 5-minute load average at the
        end).
    """
    cmd = train_command(cfg_file, work_dir, options, resume)
    env = child_env()
    t0 = time.time()
    with open(log_file, 'a' if resume else 'w') as log:
        log.write('$ ' + shlex.join(cmd) + '\n')
        log.flush()
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, usage = wait_child(proc)  # killed with this process (Ctrl-C, kill, hang-up)
    # other benchmark processes or jobs on the machine slow the run down: the page says how
    # loaded it was (5-minute load average, in runnable processes, at the run's end)
    return dict(
        returncode=proc.returncode,
        wall_s=time.time() - t0,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=usage.ru_maxrss / 1024,  # KiB on Linux
        load5=os.getloadavg()[1])


def training_cost(parsed: dict, run: dict) -> dict:
    """The logged cost of a run and its processes' wall time, peak RSS and load."""
    return dict(
        parsed['cost'],
        wall_s=run['wall_s'],
        cpu_s=run.get('cpu_s'),
        cpu_iters=run.get('cpu_iters'),
        peak_rss_mib=run['peak_rss_mib'],
        segments=run['segments'],
        load5=run['load5'])


def finished_record(work_dir: str, ckpt: str, iters: int, warmup: int, task: str):
    """The ``metrics.json`` record of a finished once-per-key run (the teacher, a
    pretrained backbone), its time read again from the log; None if it has not finished."""
    summary_file = osp.join(work_dir, 'metrics.json')
    if not (osp.isfile(ckpt) and osp.isfile(summary_file)):
        return None
    with open(summary_file) as f:
        result = json.load(f)
    # timed again from the log (the run's time is defined on the log, see parse_run)
    result['cost'].update(parse_run(read_scalars(work_dir), iters, iters, warmup, task)['cost'])
    result.setdefault('sha256', file_sha256(ckpt))  # records of before the digests had none
    return result


def record_training(plan: dict, run: dict, iters: int, eval_interval: int, warmup: int,
                    task: str) -> dict:
    """Write the ``metrics.json`` of a once-per-key run that just finished; its record."""
    work_dir = plan['work_dir']
    run.update(run_segments(work_dir, run))
    parsed = parse_run(read_scalars(work_dir), iters, eval_interval, warmup, task)
    result = dict(
        config=plan['config'],
        work_dir=work_dir,
        checkpoint=plan['checkpoint'],
        key=plan['key'],
        # the students' keys name these weights by it (run_key.weighed_options)
        sha256=file_sha256(plan['checkpoint']),
        metrics=parsed['metrics'],
        cost=training_cost(parsed, run))
    with open(osp.join(work_dir, 'metrics.json'), 'w') as f:
        json.dump(result, f, indent=1)
    return result


def once_plan(out: str, prefix: str, config: str, text: str, options: list, iters: int) -> dict:
    """The plan of a run made once per key (the teacher, a pretrained backbone): its key
    (resolved config ``text``, ``options``, ``iters``), work dir ``<out>/<prefix>-<key>``
    and final checkpoint, as :func:`train_once` takes it."""
    # paths under --out hash as '<out>/...': the same teacher (or backbone) under another
    # --out (the tuning draw's, a user's scratch folder) has the same key, and the weights
    # the repository ships for it (benchmark/shipped.py) serve there too
    key = run_key(semantic_text(text), [o.replace(out + os.sep, '<out>/') for o in options], iters)
    work_dir = osp.join(out, f'{prefix}-{key}')
    return dict(
        config=config,
        options=options,
        key=key,
        work_dir=work_dir,
        checkpoint=osp.join(work_dir, f'iter_{iters}.pth'))


def train_once(label: str,
               plan: dict,
               probe: str,
               iters: int,
               warmup: int,
               task: str,
               records: str = '',
               reuse_only: bool = False) -> dict:
    """Train a run that is made once per key (the teacher, a pretrained backbone), resuming
    it if it was interrupted, or reuse it once finished.

    Args:
        label (str): what it is, for the messages (``'teacher'``, ``'student backbone'``).
        plan (dict): its ``config``, ``options``, ``key``, ``work_dir`` and ``checkpoint``.
        probe (str): the per-run config file the plan was made from; kept beside the work
            dir as ``<work_dir>.py`` (the Runner writes the resolved config into the work
            dir), removed when the run is reused.
        iters (int): its length (evaluated once, at its end).
        warmup (int): iterations left out of its time per iteration.
        task (str): ``'detection'`` or ``'classification'`` (what its evaluation logs).
        records (str): the benchmark's records folder (:mod:`.archive`; ``''``: none): the
            record is written there once the run has finished.
        reuse_only (bool): train nothing (``--done-only``): a run not finished here is
            taken from its committed record (no checkpoint then: nothing can train from it).

    Returns:
        dict: the ``metrics.json`` record with ``cached``. Exits the benchmark if it fails:
        nothing after it can run without it.
    """
    work_dir, ckpt = plan['work_dir'], plan['checkpoint']
    name = once_name(plan)
    result = finished_record(work_dir, ckpt, iters, warmup, task)
    if result is not None:
        os.remove(probe)
        save_record(records, name, None, result)
        print(f'{label}: reusing {ckpt} ({headline(result["metrics"])})', flush=True)
        return dict(result, cached=True)
    archived = load_record(records, name, None, plan['key']) if reuse_only else None
    if archived is not None:
        os.remove(probe)
        print(
            f'{label}: its committed record ({headline(archived["metrics"])}); not trained '
            'on this machine',
            flush=True)
        return dict(archived, cached=True, archived=True)
    resume = start_or_resume(work_dir, plan['key'], lambda n: n == iters)
    cfg_file = work_dir + '.py'
    shutil.move(probe, cfg_file)
    print(
        f'{label}: {"resuming" if resume else "training"} {plan["config"]} for {iters} '
        f'iterations -> {work_dir}',
        flush=True)
    log = osp.join(work_dir, 'train.log')
    run = train(cfg_file, work_dir, plan['options'], log, resume)
    if run['returncode'] != 0 or not osp.isfile(ckpt):
        sys.exit(f'benchmark: the {label} failed (exit code {run["returncode"]}); see '
                 f'{log}:\n{log_tail(log)}')
    result = record_training(plan, run, iters, iters, warmup, task)
    save_record(records, name, None, result)
    print(f'{label}: {headline(result["metrics"])} in {result["cost"]["run_s"]:.0f} s', flush=True)
    return dict(result, cached=False)
