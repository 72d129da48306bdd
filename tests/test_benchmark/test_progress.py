"""What the benchmark prints as it goes (benchmark/progress.py): the ETA, durations, metrics."""
from benchmark.progress import duration, estimate_left, headline, log_tail


def test_eta_counts_each_method_at_its_own_pace_and_skips_finished_runs():
    spent = dict(student=[100.0, 200.0], sokd_cwd=[600.0])
    left = [('student', 2), ('sokd_cwd', 1), ('cwd', 0), ('sokd_cwd', 2)]
    # student 150, sokd_cwd 600 each, cwd (not run yet) the mean of all runs: 300
    assert estimate_left(left, spent, lambda job: False) == 150 + 600 + 300 + 600
    # sokd_cwd seed 2 was made by another process: nothing left to spend on it
    assert estimate_left(left, spent, lambda job: job == ('sokd_cwd', 2)) == 1050
    assert estimate_left(left, {}, lambda job: False) == 0.0


def test_durations_headlines_and_log_tails(tmp_path):
    assert duration(3723.4) == '1h02m03s' and duration(59.6) == '0h01m00s'
    assert headline(dict(AP=0.1234)) == '12.3' and headline(dict(AP=None)) == 'n/a'
    assert headline(dict(top1=55.04)) == 'top-1 55.0' and headline(None) == 'n/a'
    log = tmp_path / 'train.log'
    log.write_text(''.join(f'line {i}\n' for i in range(40)))
    assert log_tail(str(log), 2) == 'line 38\nline 39\n'
