# TST over CWD for RetinaNet R101 -> R50 on COCO:
#   python tools/train.py configs/tst_cwd_retinanet_r101_r50_coco.py
# The CWD baseline plus TST's learned image augmenter and its optimiser.
_base_ = ['./baselines/cwd_fpn_retinanet_r101_r50_coco.py']
model = dict(
    type='TST',
    augment_interval=1,
    student_weight=1.0,
    augmenter=dict(type='TSTAugmenter', prior_prob=0.2, prior_magnitude=0.4,
                   magnitude_bound=0.3, min_visible=0.5, seed=0))
optim_wrapper = dict(
    _delete_=True,
    constructor='mmrazor.SoKDOptimWrapperConstructor',
    student=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001)),
    augmenter=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3)))
# mmdet's 1x schedule for the student; the augmenter keeps its learning rate
param_scheduler = dict(
    _delete_=True,
    student=[
        dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
        dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11],
             gamma=0.1)
    ],
    augmenter=[])
# TST has its own train_step: under DDP the wrapper must delegate to it
model_wrapper_cfg = dict(type='mmrazor.SoKDDistributedDataParallel')
# the learned augmenter: per-op scalars, augmenter_history.json, augmenter.png
custom_hooks = [dict(type='mmrazor.TSTAugmenterLoggerHook', interval=200)]
