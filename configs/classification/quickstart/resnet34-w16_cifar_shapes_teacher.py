# Classification teacher on the built-in data: CIFAR-style ResNet-34 (width 16), from scratch.
#   python tools/make_shapes_dataset.py --classification --out data/shapes_cls
#   python tools/train.py configs/classification/quickstart/resnet34-w16_cifar_shapes_teacher.py
_base_ = [
    '../../_base_/models/resnet_cifar_shapes.py', '../../_base_/datasets/shapes_classification.py',
    '../../_base_/schedules/quickstart_cls.py'
]
custom_imports = dict(imports=['sokd_mmdet'], allow_failed_imports=False)
model = {{_base_.teacher_model}}
