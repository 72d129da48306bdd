"""A run's work dir (benchmark/training.py): resumed only by the same run, its segments."""
from benchmark.training import run_segments, start_or_resume


def test_interrupted_runs_resume_and_their_segments_add_up(tmp_path):
    work_dir = str(tmp_path / 'run')
    assert not start_or_resume(work_dir, 'key1')  # a new run
    (tmp_path / 'run' / 'stale.txt').write_text('x')
    # no checkpoint yet: afresh (the folder is emptied)
    assert not start_or_resume(work_dir, 'key1')
    assert not (tmp_path / 'run' / 'stale.txt').exists()
    (tmp_path / 'run' / 'last_checkpoint').write_text('iter_250.pth')
    assert start_or_resume(work_dir, 'key1')  # same run, with a checkpoint
    assert not start_or_resume(work_dir, 'key2')  # another config: afresh
    assert not (tmp_path / 'run' / 'last_checkpoint').exists()
    assert (tmp_path / 'run' / 'run_key.txt').read_text() == 'key2'

    # a segment written before the load was recorded has none
    first = run_segments(work_dir, dict(wall_s=100.0, peak_rss_mib=900.0, returncode=-9))
    assert first == dict(wall_s=100.0, cpu_s=None, peak_rss_mib=900.0, segments=1, load5=None)
    total = run_segments(
        work_dir, dict(wall_s=50.0, cpu_s=45.0, peak_rss_mib=800.0, returncode=0, load5=2.5))
    # the first segment's CPU time is unknown, so the run's is too
    assert total == dict(wall_s=150.0, cpu_s=None, peak_rss_mib=900.0, segments=2, load5=2.5)


def test_cpu_time_adds_up_over_segments(tmp_path):
    work_dir = str(tmp_path / 'run')
    start_or_resume(work_dir, 'key')
    run_segments(work_dir, dict(wall_s=100.0, cpu_s=60.0, peak_rss_mib=900.0, returncode=-9))
    total = run_segments(work_dir, dict(wall_s=50.0, cpu_s=45.5, peak_rss_mib=800.0, returncode=0))
    assert total['cpu_s'] == 105.5 and total['wall_s'] == 150.0
