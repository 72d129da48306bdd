# The student's backbone, pretrained on the built-in classification data (64 px): ResNet-18 at
# a quarter of the standard width (16 stem channels), the capacity gap to the teacher's R34.
#   python tools/train.py configs/pretrain/resnet18-w16_shapes-cls64.py
_base_ = ['./resnet34_shapes-cls64.py']
model = dict(backbone=dict(depth=18, base_channels=16), head=dict(in_channels=128))
