# MMRazor's CWD config for Faster R-CNN R101 -> R50 on COCO, made to run with mmdet 3.x:
# the upstream file names `faster_rcnn_r50_fpn_1x_coco.py`, which mmdet 3.x renamed, and a
# bare teacher checkpoint file name; both are fixed here.
_base_ = ['mmrazor::distill/mmdet/cwd/cwd_fpn_frcnn_r101_frcnn_r50_1x_coco.py']
custom_imports = dict(imports=['sokd_mmdet'], allow_failed_imports=False)
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/faster_rcnn_r101_fpn_2x_coco/faster_rcnn_r101_fpn_2x_coco_bbox_mAP-0.398_20200504_210455-1d2dac9c.pth'  # noqa: E501
model = dict(
    architecture=dict(cfg_path='mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'),
    teacher=dict(cfg_path='mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py'),
    teacher_ckpt=teacher_ckpt)
# stop at the first NaN/inf loss term, naming it, before a checkpoint is written
default_hooks = dict(finite_loss=dict(type='mmrazor.FiniteLossHook'))
