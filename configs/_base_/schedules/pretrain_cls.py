# Backbone pretraining on the built-in classification data: SGD with Nesterov momentum,
# warm-up, cosine decay, iteration-based (2000 iterations of 64 images: ~11 epochs of the
# 12000-image set).
_base_ = ['./quickstart_cls.py']
max_iters = 2000
train_cfg = dict(max_iters=max_iters, val_interval=500)
optim_wrapper = dict(optimizer=dict(lr=0.1))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=20, end=max_iters, eta_min=1e-4)
]
default_hooks = dict(checkpoint=dict(interval=max_iters), logger=dict(interval=50))
