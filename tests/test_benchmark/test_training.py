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
    assert first == dict(
        wall_s=100.0, cpu_s=None, cpu_iters=None, peak_rss_mib=900.0, segments=1, load5=None)
    total = run_segments(
        work_dir, dict(wall_s=50.0, cpu_s=45.0, peak_rss_mib=800.0, returncode=0, load5=2.5))
    # the first segment's CPU time is unknown, so the run's is too
    assert total == dict(
        wall_s=150.0, cpu_s=None, cpu_iters=None, peak_rss_mib=900.0, segments=2, load5=2.5)


def test_each_segment_records_the_iterations_it_trained(tmp_path):
    import json
    import os

    from benchmark.training import segment_iters
    work_dir = tmp_path / 'run'
    start_or_resume(str(work_dir), 'key')
    assert segment_iters(str(work_dir)) is None
    for stamp, steps in (('20260101_000000', range(1, 301)), ('20260101_010000', range(251, 601))):
        os.makedirs(work_dir / stamp / 'vis_data')
        with open(work_dir / stamp / 'vis_data' / 'scalars.json', 'w') as f:
            for step in steps:
                f.write(json.dumps({'step': step, 'loss': 1.0}) + '\n')
            f.write(json.dumps({'step': steps[-1], 'coco/bbox_mAP': 0.1}) + '\n')
        run = run_segments(
            str(work_dir), dict(wall_s=1.0, cpu_s=2.0, peak_rss_mib=1.0, returncode=0))
    # the newest folder's distinct training steps, the evaluation record not counted
    assert segment_iters(str(work_dir)) == 350
    assert run['cpu_s'] == 4.0 and run['cpu_iters'] == 300 + 350


def test_cpu_time_adds_up_over_segments(tmp_path):
    work_dir = str(tmp_path / 'run')
    start_or_resume(work_dir, 'key')
    run_segments(work_dir, dict(wall_s=100.0, cpu_s=60.0, peak_rss_mib=900.0, returncode=-9))
    total = run_segments(work_dir, dict(wall_s=50.0, cpu_s=45.5, peak_rss_mib=800.0, returncode=0))
    assert total['cpu_s'] == 105.5 and total['wall_s'] == 150.0


def _killed_run(tmp_path, evaluated):
    """A run with checkpoints at 250, 500 and 750 (the last one pointed at), evaluations
    after ``evaluated`` iterations in its log."""
    import json
    import os
    work_dir = tmp_path / 'run'
    os.makedirs(work_dir / '20260101_000000' / 'vis_data')
    for n in (250, 500, 750):
        (work_dir / f'iter_{n}.pth').write_text('')
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'iter_750.pth'))
    (work_dir / 'run_key.txt').write_text('key')
    with open(work_dir / '20260101_000000' / 'vis_data' / 'scalars.json', 'w') as f:
        for step in range(1, 751):
            f.write(json.dumps({'step': step, 'loss': 1.0}) + '\n')
            if step in evaluated:
                f.write(json.dumps({'step': step, 'coco/bbox_mAP': 0.1}) + '\n')
    return work_dir


def test_a_checkpoint_whose_evaluation_was_killed_is_skipped(tmp_path, capsys):
    from benchmark.training import evaluated_iters, resume_point
    every_500 = lambda n: n % 500 == 0 or n == 750  # noqa: E731
    # killed during the final evaluation (after 750): resumed from 500, which was evaluated
    work_dir = _killed_run(tmp_path, evaluated={500})
    assert evaluated_iters(str(work_dir)) == {500}
    assert resume_point(str(work_dir), every_500) == str(work_dir / 'iter_500.pth')
    assert resume_point(str(work_dir)) == str(work_dir / 'iter_750.pth')  # nothing checked
    assert start_or_resume(str(work_dir), 'key', every_500)
    assert (work_dir / 'last_checkpoint').read_text() == str(work_dir / 'iter_500.pth')
    assert 'iter_750.pth was saved but its evaluation is not in the log' in capsys.readouterr().out


def test_an_evaluated_or_undue_checkpoint_is_kept(tmp_path):
    from benchmark.training import resume_point
    work_dir = _killed_run(tmp_path, evaluated={500, 750})
    assert resume_point(str(work_dir), lambda n: n % 250 == 0) == str(work_dir / 'iter_750.pth')
    # 750 not evaluated, but no evaluation was due there: nothing is missing
    work_dir = _killed_run(tmp_path / 'b', evaluated={500})
    assert resume_point(str(work_dir), lambda n: n % 500 == 0) == str(work_dir / 'iter_750.pth')
    # 750 and 500 were due, only 250 was evaluated: back to 250
    work_dir = _killed_run(tmp_path / 'c', evaluated={250})
    assert resume_point(str(work_dir), lambda n: True) == str(work_dir / 'iter_250.pth')


def test_no_resumable_checkpoint_starts_afresh(tmp_path):
    from benchmark.training import resume_point
    work_dir = _killed_run(tmp_path, evaluated=set())
    assert resume_point(str(work_dir), lambda n: True) is None
    assert not start_or_resume(str(work_dir), 'key', lambda n: True)
    assert not (work_dir / 'iter_750.pth').exists()
