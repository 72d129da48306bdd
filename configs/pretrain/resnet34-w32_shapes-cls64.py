# The quickstart teacher's backbone, pretrained on the built-in classification data (64 px):
# ResNet-34 at half the standard width (32 stem channels). Measured on the tuning draw
# (docs/benchmark_regime.md): 95.2 top-1 against the full width's 96.5, and its RetinaNet
# 23.2 AP against 25.3 at about half the time per iteration.
#   python tools/train.py configs/pretrain/resnet34-w32_shapes-cls64.py
_base_ = ['./resnet34_shapes-cls64.py']
model = dict(backbone=dict(base_channels=32), head=dict(in_channels=256))
