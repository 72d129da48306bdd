"""The teacher records' owner (sokd_mmdet/models/steps/records.py), on MMRazor's recorders."""
import torch
from mmengine.registry import DefaultScope
from mmrazor.models.task_modules import RecorderManager
from torch import nn

from sokd_mmdet.models.steps import (current_records, detached, detached_records, replaced_records,
                                     set_records)


def _recorded():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    # built in MMRazor's scope, whatever scope an earlier test left as the default
    with DefaultScope.overwrite_default_scope('mmrazor'):
        manager = RecorderManager(dict(out=dict(type='ModuleOutputs', source='0')))
        manager.initialize(model)
    x = torch.randn(4, 2)
    with manager:
        model(x)
    return model, manager


def test_current_and_set_records_round_trip():
    _, manager = _recorded()
    records = current_records(manager)
    assert list(records) == ['out'] and records['out'][0].shape == (4, 3)
    new = {'out': [torch.zeros(4, 3)]}
    set_records(manager, new)
    assert torch.equal(manager.get_recorder('out').get_record_data(), torch.zeros(4, 3))
    new['out'].append(torch.ones(1))  # the recorder holds its own list
    assert len(manager.get_recorder('out').data_buffer) == 1


def test_replaced_records_restores_the_recorders_own():
    _, manager = _recorded()
    own = manager.get_recorder('out').get_record_data()
    with replaced_records(manager, {'out': [torch.full((4, 3), 7.0)]}):
        assert float(manager.get_recorder('out').get_record_data()[0, 0]) == 7.0
    assert manager.get_recorder('out').get_record_data() is own


def test_detached_records_cut_the_graph_inside_the_block_only():
    _, manager = _recorded()
    assert manager.get_recorder('out').get_record_data().requires_grad
    with detached_records(manager):
        record = manager.get_recorder('out').get_record_data()
        assert not record.requires_grad
    assert manager.get_recorder('out').get_record_data().requires_grad


def test_detached_keeps_tuples_and_non_tensors():
    a = torch.ones(2, requires_grad=True) * 2
    out = detached((a, [a, 3], 'x'))
    assert isinstance(out, tuple) and isinstance(out[1], list)
    assert not out[0].requires_grad and not out[1][0].requires_grad
    assert out[1][1] == 3 and out[2] == 'x'
