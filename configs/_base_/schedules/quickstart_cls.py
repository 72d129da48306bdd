# A short iteration-based classification schedule for 2 CPU cores: SGD from scratch,
# warm-up, cosine decay. (MMPretrain's runtime: hooks, logging, visualiser.)
_base_ = ['mmpretrain::_base_/default_runtime.py']
custom_imports = dict(imports=['sokd_mmdet'], allow_failed_imports=False)  # FiniteLossHook
max_iters = 400
train_cfg = dict(by_epoch=False, max_iters=max_iters, val_interval=max_iters)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=20, end=max_iters, eta_min=1e-4)
]
default_hooks = dict(
    # stop at the first NaN/inf loss term, naming it, before a checkpoint is written
    finite_loss=dict(type='mmrazor.FiniteLossHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=2),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False))
log_processor = dict(by_epoch=False)
