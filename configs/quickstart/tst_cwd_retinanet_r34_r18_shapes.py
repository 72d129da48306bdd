# TST over CWD on the quickstart data: the CWD config plus TST's learned image augmenter,
# trained in turn with the distillation (its own optimiser); the student learns on the
# original batch plus the augmented one.
_base_ = ['./cwd_retinanet_r34_r18_shapes.py', '../_base_/tst/tst_augmenter.py']
model = dict(
    type='TST', augment_interval=1, student_weight=1.0, augmenter={{_base_.tst_augmenter}})
optim_wrapper = dict(
    _delete_=True,
    constructor='mmrazor.DistillOptimWrapperConstructor',
    student={{_base_.optim_wrapper}},
    augmenter={{_base_.tst_augmenter_optim}})
param_scheduler = dict(_delete_=True, student={{_base_.param_scheduler}}, augmenter=[])
# the learned augmenter: per-op scalars, augmenter_history.json, augmenter.png
custom_hooks = [dict(type='mmrazor.TSTAugmenterLoggerHook', interval=20)]
# TST has its own train_step: under DDP the wrapper must delegate to it
model_wrapper_cfg = dict(type='mmrazor.DistillDataParallel')
