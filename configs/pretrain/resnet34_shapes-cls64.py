# The teacher's backbone, pretrained on the built-in classification data (64 px):
#   python tools/train.py configs/pretrain/resnet34_shapes-cls64.py
_base_ = [
    '../_base_/models/resnet_shapes_pretrain.py', '../_base_/datasets/shapes_classification_64.py',
    '../_base_/schedules/pretrain_cls.py'
]
custom_imports = dict(imports=['sokd_mmdet', 'mmdet.models'], allow_failed_imports=False)
model = dict(backbone=dict(depth=34, base_channels=64), head=dict(in_channels=512))
