# SoKD over CWD with Faster R-CNN instead of RetinaNet: only the detectors change.
# (This quickstart pair has no teacher config of its own; train one by putting
# faster_teacher_model in a detector config, or use a random teacher for a smoke run.)
_base_ = ['./sokd_cwd_retinanet_r34_r18_shapes.py', '../_base_/models/faster-rcnn_shapes.py']
model = dict(
    architecture={{_base_.faster_student_model}},
    teacher={{_base_.faster_teacher_model}},
    teacher_ckpt=None)
