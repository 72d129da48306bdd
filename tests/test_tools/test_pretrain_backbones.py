"""Backbone pretraining on the built-in classification data (configs/pretrain/) and the
weights reaching a detector through init_cfg=dict(type='Pretrained', ...), the path
torchvision:// weights take."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from test_classification_end_to_end import _options

from conftest import as_cli, config_path
from test_end_to_end import train_tool


@pytest.fixture(scope='module')
def tiny_cls64_data(tmp_path_factory):
    """12 training and 6 validation images of 64 px (2 and 1 per class)."""
    from sokd_mmdet.datasets import generate_classification_dataset
    out = str(tmp_path_factory.mktemp('shapes_cls64'))
    generate_classification_dataset(
        out, num_train=12, num_val=6, img_size=64, seed=0, progress=False)
    return out


@pytest.fixture(scope='module')
def pretrained_r18w16(tiny_cls64_data, tmp_path_factory):
    """configs/pretrain/resnet18-w16_shapes-cls64.py trained 2 iterations by tools/train.py."""
    work_dir = str(tmp_path_factory.mktemp('pretrain'))
    opts = _options(tiny_cls64_data, work_dir, iters=2)
    # the warm-up and the cosine decay fitted into the 2 iterations
    opts.update({
        'param_scheduler.0.end': 1,
        'param_scheduler.1.begin': 1,
        'param_scheduler.1.end': 2
    })
    runner = train_tool.main(
        [config_path('pretrain/resnet18-w16_shapes-cls64.py'), '--cfg-options', *as_cli(opts)])
    backbone = {k: v.detach().clone() for k, v in runner.model.backbone.state_dict().items()}
    return osp.join(work_dir, 'iter_2.pth'), backbone


def test_pretraining_trains_the_detectors_resnet_at_its_width(pretrained_r18w16):
    ckpt, backbone = pretrained_r18w16
    state = torch.load(ckpt, map_location='cpu', weights_only=True)['state_dict']
    keys = [k for k in state if k.startswith('backbone.')]
    # mmdet's ResNet-18 at a quarter width: stem 16 channels, last stage 128
    assert state['backbone.conv1.weight'].shape == (16, 3, 7, 7)
    assert state['backbone.layer4.1.conv2.weight'].shape == (128, 128, 3, 3)
    assert state['head.fc.weight'].shape == (6, 128)
    assert len(keys) == len(backbone)


def test_pretrained_backbone_loads_into_the_detector_through_init_cfg(pretrained_r18w16):
    from mmdet.registry import MODELS
    ckpt, backbone = pretrained_r18w16
    detector = Config.fromfile(config_path('_base_/models/retinanet_shapes.py')).student_model
    detector.backbone.update(
        base_channels=16, init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=ckpt))
    detector.neck.in_channels = [32, 64, 128]
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(detector)
    before = model.backbone.conv1.weight.detach().clone()
    model.init_weights()
    loaded = model.backbone.state_dict()
    assert not torch.equal(before, loaded['conv1.weight'])
    for name, value in backbone.items():  # every tensor, BN statistics included
        torch.testing.assert_close(loaded[name], value, rtol=0, atol=0, msg=name)
