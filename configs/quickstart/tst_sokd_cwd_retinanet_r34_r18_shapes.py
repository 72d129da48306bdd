# TST + SoKD over CWD on the quickstart data: SoKD (DAFA + DAM) refines the teacher's
# knowledge, on the original batch plus TST's augmented one.
_base_ = ['./sokd_cwd_retinanet_r34_r18_shapes.py']
model = dict(
    type='TSTSoKD',
    augment_interval=1,
    student_weight=1.0,
    augmenter=dict(type='TSTAugmenter', prior_prob=0.2, prior_magnitude=0.4,
                   magnitude_bound=0.3, min_visible=0.5, seed=0))
optim_wrapper = dict(
    augmenter=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3)))
param_scheduler = dict(augmenter=[])
# the learned augmenter: per-op scalars, augmenter_history.json, augmenter.png
custom_hooks = [
    dict(type='mmrazor.DAFAPolicyLoggerHook', interval=20),
    dict(type='mmrazor.TSTAugmenterLoggerHook', interval=20)
]
