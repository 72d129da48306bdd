# What SoKD adds to the quickstart FPN distillation: the SoKD algorithm and distiller with
# DAFA and DAM, two optimisers, the policy logger. Configs that inherit set the losses.
_base_ = ['../distill/fpn_kd_shapes.py', './policy_optim.py']
model = dict(
    type='SoKD',
    search_interval=1,
    search_end=None,
    distiller=dict(
        type='SoKDDistiller',
        # init_magnitude 0.1, not DAFA's 0.5: on this data (128 px, FPN P3-P5) the ops at
        # 0.5 move the CWD targets up to 3.7x as far as the student is from the teacher
        # and the policy cannot turn them down in a short schedule; tuned on the training
        # split and on a second draw of the data (data seed 1), never on the benchmark's
        # held-out split: docs/dafa_target_shift.md, README "Results"
        dafa=dict(type='DAFA', num_ops=2, draw='batch', estimator='relax',
                  init_magnitude=0.1),
        dam=dict(type='DAM', in_channels=128, feat_channels=64, topk=8,
                 supervision='gt')))
optim_wrapper = dict(
    _delete_=True,
    constructor='mmrazor.SoKDOptimWrapperConstructor',
    student=dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
        clip_grad=dict(max_norm=10, norm_type=2)),
    policy={{_base_.sokd_policy_optim_short}})
param_scheduler = dict(
    _delete_=True,
    student=[
        dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
        dict(type='MultiStepLR', by_epoch=False, begin=0, end=300, milestones=[225],
             gamma=0.1)
    ],
    policy=[])
custom_hooks = [dict(type='mmrazor.DAFAPolicyLoggerHook', interval=20)]
