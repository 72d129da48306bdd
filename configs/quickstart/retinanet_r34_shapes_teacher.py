# Teacher for the quickstart: RetinaNet ResNet-34 on the built-in data set, from scratch.
#   python tools/train.py configs/quickstart/retinanet_r34_shapes_teacher.py
_base_ = [
    '../_base_/models/retinanet_shapes.py', '../_base_/datasets/shapes_detection.py',
    '../_base_/schedules/quickstart.py'
]
custom_imports = dict(imports=['sokd_mmdet'], allow_failed_imports=False)
model = {{_base_.teacher_model}}
max_iters = 600
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[int(max_iters * 0.75)],
        gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=max_iters))
