# TST + SoKD over CWD for RetinaNet R101 -> R50 on COCO:
#   python tools/train.py configs/tst_sokd_retinanet_r101_r50_coco.py
# The SoKD config plus TST's learned image augmenter and its optimiser.
_base_ = ['./sokd_retinanet_r101_r50_coco.py', './_base_/tst/tst_augmenter.py']
model = dict(
    type='TSTSoKD', augment_interval=1, student_weight=1.0, augmenter={{_base_.tst_augmenter}})
optim_wrapper = dict(augmenter={{_base_.tst_augmenter_optim}})
param_scheduler = dict(augmenter=[])
# the learned augmenter: per-op scalars, augmenter_history.json, augmenter.png
custom_hooks = _base_.custom_hooks + [dict(type='mmrazor.TSTAugmenterLoggerHook', interval=200)]
