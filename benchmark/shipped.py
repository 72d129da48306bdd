"""The benchmark's inputs that the repository ships: its teacher and the student's backbone.

Pretraining and the teacher's training are not bit-reproducible from one machine to the
next (the same configs and seeds gave a teacher of 23.6 AP on one machine and 25.0 on
another), and every distilled row depends on them. So the default detection setting does
not remake them: it starts from the files in ``demo/weights/`` (those ``make demo`` starts
from), checked against their ``SHA256SUMS``, and every machine trains its students from the
same bytes. ``demo/weights/manifest.json`` says which once-per-key run each file stands for:

    {"teacher": {"file": "...pth", "run_key": "fe016e3063", "metrics": {...},
                 "measured_by": "...", "made_by": "..."}, "pretrain-<config>": {...}}

A planned run with that name and key takes the shipped file instead of training (the
teacher's own backbone is then not pretrained at all: it only makes the teacher); any other
setting (another data seed, ``--large``, a changed config) trains its own as before.
``--own-weights`` trains (or reuses) this machine's instead.
"""
import json
import os.path as osp
from typing import Dict, Optional

from .demo_weights import DEMO_DIR, MAKE_COMMAND, DemoWeightsError, read_sums, sha256_of

MANIFEST_FILE = 'manifest.json'
# where the benchmark looks for them (read at each call: a test points it elsewhere)
SHIPPED_DIR = DEMO_DIR


def read_manifest(folder: str = DEMO_DIR) -> Dict[str, dict]:
    """``{run name: entry}`` of ``folder``'s manifest; ``{}`` without one."""
    path = osp.join(folder, MANIFEST_FILE)
    if not osp.isfile(path):
        return {}
    with open(path) as f:
        try:
            manifest = json.load(f)
        except json.JSONDecodeError as err:
            raise DemoWeightsError(f'{path} is not JSON ({err}): restore it with '
                                   f'`git checkout -- {path}`') from None
    for name, entry in manifest.items():
        missing = {'file', 'run_key', 'metrics'} - set(entry)
        if missing:
            raise DemoWeightsError(f'{path}: the entry {name!r} has no {sorted(missing)}: '
                                   f'restore it with `git checkout -- {path}`')
    return manifest


def write_manifest(folder: str, entries: Dict[str, dict]) -> str:
    """Write ``folder``'s manifest (sorted, one file per run name); its path."""
    path = osp.join(folder, MANIFEST_FILE)
    with open(path, 'w') as f:
        json.dump(entries, f, indent=1, sort_keys=True)
        f.write('\n')
    return path


def shipped_record(plan: dict, name: str, folder: str = DEMO_DIR) -> Optional[dict]:
    """The shipped weights that stand for the once-per-key run ``plan`` (record name
    ``name``: ``'teacher'`` or ``'pretrain-<config>'``), as the record that
    :func:`.training.train_once` would return; None when nothing shipped has its key.

    Raises:
        DemoWeightsError: the manifest names a file for this run that is missing or is
            not the one ``SHA256SUMS`` names (a Git LFS pointer, a partial copy): training
            a replacement silently would change every row, so it stops with the fix.
    """
    entry = read_manifest(folder).get(name)
    if entry is None or entry['run_key'] != plan['key']:
        return None
    path = osp.join(folder, entry['file'])
    fix = f'restore it with `git checkout -- {path}` or remake it with `{MAKE_COMMAND}`'
    expected = read_sums(folder).get(entry['file'])
    if expected is None:
        raise DemoWeightsError(f'{osp.join(folder, "SHA256SUMS")} has no sum for '
                               f'{entry["file"]}: {fix}')
    if not osp.isfile(path):
        raise DemoWeightsError(f'the shipped {name} weights {path} are missing: {fix}')
    digest = sha256_of(path)
    if digest != expected:
        raise DemoWeightsError(f'{path} is not the file SHA256SUMS names (sha256 {digest}, '
                               f'expected {expected}): {fix}')
    return dict(
        config=plan['config'],
        work_dir=plan['work_dir'],  # where it would have been made: names its record
        checkpoint=path,
        key=plan['key'],
        sha256=digest,
        metrics=dict(entry['metrics']),
        measured_by=entry.get('measured_by'),
        cost=entry.get('cost'),
        shipped=True,
        cached=True)


def shipped_for(args, plan: dict) -> Optional[dict]:
    """:func:`shipped_record` of a once-per-key ``plan`` of the benchmark command ``args``;
    None with ``--own-weights``."""
    from .archive import once_name
    if getattr(args, 'own_weights', False):
        return None
    return shipped_record(plan, once_name(plan), SHIPPED_DIR)
