"""The key of a benchmark run: what makes two runs the same run.

A run's key hashes its resolved config and its ``--cfg-options``: a run whose
``metrics.json`` carries the key of the planned run is reused, one with another key is
trained again, so a change to a config (or to a setting) is never mixed with old results.
A student's options name the weights it starts from (the teacher, the pretrained
backbone) by their contents, not by their path (:func:`weighed_options`).
"""
import ast
import functools
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Optional

from . import REPO_ROOT


def semantic_text(text: str) -> str:
    """A resolved config's text without its top-level private helpers (``_name = ...``).

    A config file may name a value once (``_paramwise = dict(...)``) and use it in several
    places; MMEngine keeps such helpers in the resolved config. What the run does is already
    in the places that use them, so a refactor that adds, renames or removes a helper must
    not change the run's key (and throw a cached run away).
    """
    drop = [
        node for node in ast.parse(text).body
        if isinstance(node, ast.Assign) and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name) and node.targets[0].id.startswith('_')
    ]
    if not drop:
        return text
    lines = text.splitlines(keepends=True)
    for node in reversed(drop):
        del lines[node.lineno - 1:node.end_lineno]
    return ''.join(lines)


def run_key(*parts, root: str = REPO_ROOT) -> str:
    """A short stable hash of ``parts`` (JSON-encoded, so lists and dicts hash by value).

    A path inside the checkout ``root`` hashes as the path relative to it: the same run
    has the same key in every clone, so its committed record (:mod:`.archive`) is found
    wherever the repository lies.
    """
    text = json.dumps(parts, sort_keys=True, default=str).replace(root + os.sep, '')
    return hashlib.sha1(text.encode()).hexdigest()[:10]


# the --cfg-options whose value is a weight file: a run's key hashes what the file holds
WEIGHT_OPTIONS = ('init_cfg.checkpoint', 'teacher_ckpt')


@functools.lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str) -> Optional[str]:
    """The SHA-256 of the file ``path`` (cached while its size and time stay); None if
    there is no such file."""
    if not path or not osp.isfile(path):
        return None
    stat = os.stat(path)
    return _sha256(osp.abspath(path), stat.st_size, stat.st_mtime_ns)


def weights_digest(record: Optional[dict]) -> Optional[str]:
    """The SHA-256 of the weights a once-per-key run's record stands for: the one it
    recorded, else that of its checkpoint on this machine; None when neither is known."""
    if not record:
        return None
    return record.get('sha256') or file_sha256(record.get('checkpoint'))


def weighed_options(options: list, digests: Dict[str, Optional[str]]) -> list:
    """``options`` as a run's key hashes them: each weight file (:data:`WEIGHT_OPTIONS`)
    written as ``sha256:<its digest>`` from ``digests`` (``{path: digest}``).

    The same bytes give the same key wherever the file lies, and another teacher (or
    backbone) made under the same path, on another machine or after a retraining, gives
    another key: its students are trained again, never mixed with the old ones. A file of
    unknown digest hashes as ``sha256:unknown``, which no finished run has.
    """
    out = []
    for option in options:
        name, sep, value = option.partition('=')
        if sep and name.endswith(WEIGHT_OPTIONS):
            option = f'{name}=sha256:{digests.get(value) or "unknown"}'
        out.append(option)
    return out
