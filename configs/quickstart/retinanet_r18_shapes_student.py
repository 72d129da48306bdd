# The student alone (no distillation): RetinaNet ResNet-18 on the built-in data set.
_base_ = [
    '../_base_/models/retinanet_shapes.py', '../_base_/datasets/shapes_detection.py',
    '../_base_/schedules/quickstart.py'
]
custom_imports = dict(imports=['sokd_mmdet'], allow_failed_imports=False)
model = {{_base_.student_model}}
