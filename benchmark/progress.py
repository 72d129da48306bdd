"""What the benchmark prints while it runs: each run's headline, durations, the ETA, and the
end of a failed run's log."""
import statistics


def headline(metrics) -> str:
    """The headline metric of a run: COCO AP (%) or top-1 (%)."""
    if metrics and 'top1' in metrics:
        return 'top-1 n/a' if metrics['top1'] is None else f'top-1 {metrics["top1"]:.1f}'
    return 'n/a' if not metrics or metrics.get('AP') is None else f'{100 * metrics["AP"]:.1f}'


def duration(seconds: float) -> str:
    """``1h02m03s``."""
    seconds = int(round(seconds))
    return f'{seconds // 3600}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s'


def log_tail(path: str, n: int = 30) -> str:
    """The last ``n`` lines of a log, for the message of a run that failed."""
    with open(path, errors='replace') as f:
        return ''.join(f.readlines()[-n:])


def estimate_left(left: list, spent: dict, done) -> float:
    """Seconds that the ``(method, seed)`` jobs ``left`` should still take.

    Each job costs its method's mean wall time so far (SoKD is slower than the rest), or the
    mean over every method before its method has run once; a job for which ``done(job)``
    holds (made by another process, or earlier) costs nothing.
    """
    if not spent:
        return 0.0
    overall = statistics.fmean(w for ws in spent.values() for w in ws)
    return sum(
        statistics.fmean(spent[name]) if name in spent else overall for name, seed in left
        if not done((name, seed)))
