"""The key of a benchmark run: what makes two runs the same run.

A run's key hashes its resolved config and its ``--cfg-options``: a run whose
``metrics.json`` carries the key of the planned run is reused, one with another key is
trained again, so a change to a config (or to a setting) is never mixed with old results.
"""
import ast
import hashlib
import json
import os

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
