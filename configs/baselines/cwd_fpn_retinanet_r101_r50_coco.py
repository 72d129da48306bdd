# MMRazor's CWD config for RetinaNet R101 -> R50 on COCO, made to run: the upstream file
# inherits the teacher checkpoint of its Faster R-CNN parent (a file name that is not a
# RetinaNet checkpoint); here it is the RetinaNet R101 2x weights from MMDetection's zoo,
# loaded once (upstream also sets teacher.pretrained=True, which downloads them twice).
_base_ = ['mmrazor::distill/mmdet/cwd/cwd_fpn_retina_r101_retina_r50_1x_coco.py']
custom_imports = dict(imports=['sokd_mmdet'], allow_failed_imports=False)
teacher_ckpt = 'https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_r101_fpn_2x_coco/retinanet_r101_fpn_2x_coco_20200131-5560aee8.pth'  # noqa: E501
model = dict(teacher=dict(pretrained=False), teacher_ckpt=teacher_ckpt)
# stop at the first NaN/inf loss term, naming it, before a checkpoint is written
default_hooks = dict(finite_loss=dict(type='mmrazor.FiniteLossHook'))
