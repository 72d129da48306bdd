# SoKD over CWD with Faster R-CNN in place of RetinaNet: the detectors, the teacher's weights
# (./faster-rcnn_r34_shapes_teacher.py) and which FPN outputs are P3-P5 change.
_base_ = ['./sokd_cwd_retinanet_r34_r18_shapes.py', '../_base_/models/faster-rcnn_shapes.py']
teacher_ckpt = 'work_dirs/faster-rcnn_r34_shapes_teacher/iter_6000.pth'
# this FPN starts at P2 (stride 4, for the RPN and RoI heads): P3-P5 are its outputs 1-3
distill_levels = (1, 2, 3)
model = dict(
    architecture={{_base_.faster_student_model}},
    teacher={{_base_.faster_teacher_model}},
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        loss_forward_mappings={
            f'loss_fpn{i}': dict(preds_S=dict(data_idx=level), preds_T=dict(data_idx=level))
            for i, level in enumerate(distill_levels)
        }))
