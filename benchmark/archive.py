"""The benchmark's committed records: what a finished run measured, kept in the repository.

``<out>/`` (``work_dirs/``) goes with the machine; a run's record does not need to. Each
finished run's ``metrics.json`` record (metrics, curve, cost, policy history, diagnosis; no
weights: about 230 KB for a 6000-iteration SoKD run, most of it the policy history) is
also written to the records folder of its ``--out``, by default
``benchmark/records/<out relative to work_dirs/>/`` for an ``--out`` under the checkout's
``work_dirs/`` (``--records`` names another folder; none for an ``--out`` elsewhere, such as
a test's temporary folder):

- ``<method>/seed<k>.json``: one method's run with one seed;
- ``teacher.json``, ``pretrain-<role>.json``: the runs made once per key.

A planned run whose key matches its record is not trained again on another machine: its
record stands in for ``metrics.json`` (the row's numbers are what that run measured, with
the configs as they were then, since a change of config changes the key). Paths inside the
checkout are stored relative to it, so a record reads the same in any clone.
"""
import json
import os
import os.path as osp
from typing import Optional

from . import REPO_ROOT

RECORDS = osp.join(REPO_ROOT, 'benchmark', 'records')


def default_records_dir(out: str) -> str:
    """The records folder of ``--out``: ``benchmark/records/<out relative to work_dirs/>``
    for an ``out`` under the checkout's ``work_dirs/``, else ``''`` (no records)."""
    work_dirs = osp.join(REPO_ROOT, 'work_dirs')
    out = osp.abspath(out)
    if osp.commonpath([out, work_dirs]) != work_dirs or out == work_dirs:
        return ''
    return osp.join(RECORDS, osp.relpath(out, work_dirs))


def portable(value, root: str = REPO_ROOT):
    """``value`` (a record: dicts, lists, strings, numbers) with every path under ``root``
    written relative to it."""
    if isinstance(value, dict):
        return {k: portable(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [portable(v, root) for v in value]
    if isinstance(value, str) and value.startswith(root + os.sep):
        return osp.relpath(value, root)
    return value


def record_path(records_dir: str, name: str, seed: Optional[int]) -> str:
    """The record file of a method's run (``seed``) or of a once-per-key run (seed None)."""
    if seed is None:
        return osp.join(records_dir, f'{name}.json')
    return osp.join(records_dir, name, f'seed{seed}.json')


def once_name(plan: dict) -> str:
    """The record name of a once-per-key run planned in ``<out>/<prefix>-<key>``: its prefix
    (``teacher``, ``pretrain-<config>``)."""
    return osp.basename(plan['work_dir'])[:-len(plan['key']) - 1]


def save_record(records_dir: str, name: str, seed: Optional[int], record: dict) -> None:
    """Write ``record`` (``cached`` left out: it says how one command got it) unless
    ``records_dir`` is empty; the file is replaced only when its contents change."""
    if not records_dir:
        return
    path = record_path(records_dir, name, seed)
    text = json.dumps(
        portable({
            k: v
            for k, v in record.items() if k not in ('cached', 'archived')
        }),
        indent=1,
        sort_keys=True) + '\n'
    if osp.isfile(path):
        with open(path) as f:
            if f.read() == text:
                return
    os.makedirs(osp.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)  # another benchmark process never reads half a record


def recorded(path: str, key: str) -> Optional[dict]:
    """The record in ``path`` (a run's ``metrics.json`` or its committed record) if it was
    written for ``key``, else None."""
    if osp.isfile(path):
        with open(path) as f:
            record = json.load(f)
        if record.get('key') == key:
            return record
    return None


def load_record(records_dir: str, name: str, seed: Optional[int], key: str) -> Optional[dict]:
    """The committed record of the run if it was made for ``key``, else None."""
    return recorded(record_path(records_dir, name, seed), key) if records_dir else None
