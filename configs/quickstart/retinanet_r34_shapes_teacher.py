# Teacher for the quickstart: RetinaNet ResNet-34 (width 32, its backbone pretrained on the
# built-in classification data) on the built-in data set, on the students' schedule.
#   python tools/train.py configs/pretrain/resnet34-w32_shapes-cls64.py
#   python tools/train.py configs/quickstart/retinanet_r34_shapes_teacher.py
_base_ = [
    '../_base_/models/retinanet_shapes.py', '../_base_/datasets/shapes_detection.py',
    '../_base_/schedules/quickstart.py'
]
custom_imports = dict(imports=['sokd_mmdet'], allow_failed_imports=False)
model = {{_base_.teacher_model}}
