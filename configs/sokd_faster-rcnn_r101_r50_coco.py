# SoKD over CWD for Faster R-CNN R101 -> R50 on COCO: the RetinaNet SoKD config with the
# Faster R-CNN pair of the CWD baseline (only the detectors and the teacher weights change).
_base_ = ['./sokd_retinanet_r101_r50_coco.py']
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/faster_rcnn_r101_fpn_2x_coco/faster_rcnn_r101_fpn_2x_coco_bbox_mAP-0.398_20200504_210455-1d2dac9c.pth'  # noqa: E501
model = dict(
    architecture=dict(cfg_path='mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'),
    teacher=dict(cfg_path='mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py'),
    teacher_ckpt=teacher_ckpt)
# the student's learning rate of its CWD baseline (MMDetection's Faster R-CNN 1x: 0.02, where
# RetinaNet's is 0.01), so that SoKD and its base loss train the student alike
optim_wrapper = dict(student=dict(optimizer=dict(lr=0.02)))
