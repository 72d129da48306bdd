"""The teacher's recorded outputs, read and replaced: the one place that touches MMRazor's
recorder buffers.

MMRazor 1.0.0's recorders (``mmrazor.models.task_modules.recorder``) fill
``_data_buffer`` during a forward and expose it read-only as ``data_buffer``; there is no
public setter. SoKD (teacher knowledge refined, replayed on another batch) and ATF
(records detached for the student's step) need to put records back, so this module alone
writes the private attribute; if a later MMRazor renames it, this is the file to change.
"""
from contextlib import contextmanager
from typing import Dict, List

from torch import Tensor


def detached(record):
    """A recorded output without its graph (tensors, or tuples/lists of them)."""
    if isinstance(record, Tensor):
        return record.detach()
    if isinstance(record, (tuple, list)):
        return type(record)(detached(r) for r in record)
    return record


def current_records(recorders) -> Dict[str, List]:
    """The records of a ``RecorderManager``: recorder name -> its list of records."""
    return {name: list(rec.data_buffer) for name, rec in recorders.recorders.items()}


def set_records(recorders, records: Dict[str, List]) -> None:
    """Make ``records`` (as :func:`current_records` returns them) the recorders' records."""
    for name, rec in recorders.recorders.items():
        rec._data_buffer = list(records[name])


@contextmanager
def replaced_records(recorders, records: Dict[str, List]):
    """Within the block, the recorders hold ``records``; their own are restored after."""
    saved = current_records(recorders)
    set_records(recorders, records)
    try:
        yield
    finally:
        set_records(recorders, saved)


@contextmanager
def detached_records(recorders):
    """Within the block, every record of ``recorders`` (a RecorderManager) is detached."""
    saved = current_records(recorders)
    with replaced_records(recorders, {
            name: [detached(r) for r in recs]
            for name, recs in saved.items()
    }):
        yield
