# TST over CWD for RetinaNet R101 -> R50 on COCO:
#   python tools/train.py configs/tst_cwd_retinanet_r101_r50_coco.py
# The CWD baseline plus TST's learned image augmenter and its optimiser; the student keeps
# the baseline's (MMDetection's RetinaNet 1x).
_base_ = ['./baselines/cwd_fpn_retinanet_r101_r50_coco.py', './_base_/tst/tst_augmenter.py']
model = dict(
    type='TST', augment_interval=1, student_weight=1.0, augmenter={{_base_.tst_augmenter}})
optim_wrapper = dict(
    _delete_=True,
    constructor='mmrazor.DistillOptimWrapperConstructor',
    student={{_base_.optim_wrapper}},
    augmenter={{_base_.tst_augmenter_optim}})
param_scheduler = dict(_delete_=True, student={{_base_.param_scheduler}}, augmenter=[])
# TST has its own train_step: under DDP the wrapper must delegate to it
model_wrapper_cfg = dict(type='mmrazor.DistillDataParallel')
# the learned augmenter: per-op scalars, augmenter_history.json, augmenter.png
custom_hooks = [dict(type='mmrazor.TSTAugmenterLoggerHook', interval=200)]
