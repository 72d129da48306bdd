# FitNet-style L2 imitation of the FPN features for RetinaNet R101 -> R50 on COCO: the CWD
# baseline with the loss of ../_base_/distill/fitnet_fpn_coco.py.
_base_ = ['./cwd_fpn_retinanet_r101_r50_coco.py', '../_base_/distill/fitnet_fpn_coco.py']
model = dict(distiller={{_base_.fitnet_fpn_distiller}})
