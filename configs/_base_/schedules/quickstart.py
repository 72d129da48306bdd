# (inherits MMDetection's default runtime: hooks, logging, visualiser)
_base_ = ['mmdet::_base_/default_runtime.py']
custom_imports = dict(imports=['sokd_mmdet'], allow_failed_imports=False)  # FiniteLossHook
# The built-in data's schedule (docs/benchmark_regime.md, measured on the tuning draw):
# 6000 iterations of batch 4 (12 epochs of 2000 images), AdamW 5e-4 after a 100-iteration
# warm-up, x0.1 at 50 % and 75 %. The student alone: 13.6 AP at 4800 iterations, 13.7 at
# 6000 (its last fifth flat); at lr 1e-3 13.3 and 13.4; one step at 75 % of 5000 ended at 14.3
# but still +1.1 over its last fifth.
max_iters = 6000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.05),
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[max_iters // 2, max_iters * 3 // 4],
        gamma=0.1)
]
default_hooks = dict(
    # stop at the first NaN/inf loss term, naming it, before a checkpoint is written
    finite_loss=dict(type='mmrazor.FiniteLossHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=max_iters // 10, max_keep_ckpts=2),
    # iteration-based: log validation metrics at their iteration, not at epoch 0
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False))
log_processor = dict(by_epoch=False)
