# TST + SoKD over CWD on the quickstart data: SoKD (DAFA + DAM) refines the teacher's
# knowledge, on the original batch plus TST's augmented one.
_base_ = ['./sokd_cwd_retinanet_r34_r18_shapes.py', '../_base_/tst/tst_augmenter.py']
model = dict(
    type='TSTSoKD', augment_interval=1, student_weight=1.0, augmenter={{_base_.tst_augmenter}})
optim_wrapper = dict(augmenter={{_base_.tst_augmenter_optim}})
param_scheduler = dict(augmenter=[])
# the learned augmenter: per-op scalars, augmenter_history.json, augmenter.png
custom_hooks = _base_.custom_hooks + [dict(type='mmrazor.TSTAugmenterLoggerHook', interval=20)]
