# PKD on FPN for Faster R-CNN R101 -> R50 on COCO: the CWD baseline with MMRazor's PKD loss
# (../_base_/distill/pkd_fpn_coco.py) in place of CWD.
_base_ = ['./cwd_fpn_faster-rcnn_r101_r50_coco.py', '../_base_/distill/pkd_fpn_coco.py']
model = dict(distiller={{_base_.pkd_fpn_distiller.faster_rcnn}})
