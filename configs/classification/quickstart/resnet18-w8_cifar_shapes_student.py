# The classification student alone (no teacher): CIFAR-style ResNet-18 (width 8).
_base_ = [
    '../../_base_/models/resnet_cifar_shapes.py', '../../_base_/datasets/shapes_classification.py',
    '../../_base_/schedules/quickstart_cls.py'
]
custom_imports = dict(imports=['sokd_mmdet'], allow_failed_imports=False)
model = {{_base_.student_model}}
