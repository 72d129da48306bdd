# (inherits MMDetection's default runtime: hooks, logging, visualiser)
_base_ = ['mmdet::_base_/default_runtime.py']
custom_imports = dict(imports=['sokd_mmdet'], allow_failed_imports=False)  # FiniteLossHook
# A short iteration-based schedule for 2 CPU cores: AdamW from scratch, warm-up, step decay.
max_iters = 300
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[int(max_iters * 0.75)],
        gamma=0.1)
]
default_hooks = dict(
    # stop at the first NaN/inf loss term, naming it, before a checkpoint is written
    finite_loss=dict(type='mmrazor.FiniteLossHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=2),
    # iteration-based: log validation metrics at their iteration, not at epoch 0
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False))
log_processor = dict(by_epoch=False)
