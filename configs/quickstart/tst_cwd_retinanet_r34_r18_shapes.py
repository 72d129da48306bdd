# TST over CWD on the quickstart data: the CWD config plus TST's learned image augmenter,
# trained in turn with the distillation (its own optimiser); the student learns on the
# original batch plus the augmented one.
_base_ = ['./cwd_retinanet_r34_r18_shapes.py']
model = dict(
    type='TST',
    augment_interval=1,
    student_weight=1.0,
    augmenter=dict(type='TSTAugmenter', prior_prob=0.2, prior_magnitude=0.4,
                   magnitude_bound=0.3, min_visible=0.5, seed=0))
optim_wrapper = dict(
    _delete_=True,
    constructor='mmrazor.SoKDOptimWrapperConstructor',
    student={{_base_.optim_wrapper}},
    augmenter=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3)))
param_scheduler = dict(_delete_=True, student={{_base_.param_scheduler}}, augmenter=[])
# the learned augmenter: per-op scalars, augmenter_history.json, augmenter.png
custom_hooks = [dict(type='mmrazor.TSTAugmenterLoggerHook', interval=20)]
