"""PolicyHistoryHook: the history file is written atomically and a damaged one is survived."""
import json
from types import SimpleNamespace

import pytest

from sokd_mmdet.engine.hooks.policy_history import PolicyHistoryHook


def _runner(tmp_path, it):
    return SimpleNamespace(work_dir=str(tmp_path), iter=it)


def test_history_is_continued_on_resume_and_written_by_rename(tmp_path, monkeypatch):
    hook = PolicyHistoryHook()
    for it in (9, 19, 29):
        hook.append(_runner(tmp_path, it), {'m': it})
    path = tmp_path / 'policy_history.json'
    assert [h['iter'] for h in json.loads(path.read_text())] == [10, 20, 30]
    assert [p.name for p in tmp_path.iterdir()] == ['policy_history.json']  # no tmp left
    resumed = PolicyHistoryHook()
    resumed.before_train(_runner(tmp_path, 20))  # resumed at iteration 20
    assert [h['iter'] for h in resumed.history] == [10, 20]

    # a kill while writing: json.dump dies half-way; the previous file stays whole
    def killed(obj, f):
        f.write('[{"iter": 10, "m"')
        raise KeyboardInterrupt

    monkeypatch.setattr(json, 'dump', killed)
    with pytest.raises(KeyboardInterrupt):
        hook.append(_runner(tmp_path, 39), {'m': 39})
    monkeypatch.undo()
    assert [h['iter'] for h in json.loads(path.read_text())] == [10, 20, 30]


@pytest.mark.parametrize('content', ['[{"iter": 10, "m"', '{"iter": 3}', '[{"m": 1}]', ''])
def test_damaged_history_warns_and_starts_afresh(content, tmp_path, caplog):
    (tmp_path / 'policy_history.json').write_text(content)
    hook = PolicyHistoryHook()
    hook.before_train(_runner(tmp_path, 20))  # no crash
    assert hook.history == []
    hook.append(_runner(tmp_path, 29), {'m': 1})
    assert json.loads((tmp_path / 'policy_history.json').read_text()) == [{'iter': 30, 'm': 1}]
