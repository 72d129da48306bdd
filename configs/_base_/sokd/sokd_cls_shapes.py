# What SoKD adds to the built-in classification distillation: the SoKD algorithm and
# distiller with DAFA on the teacher's last stage and DAM in `mutual` supervision (there
# are no boxes), the policy's optimiser beside the student's, the policy logger, the DDP
# wrapper. Configs that inherit set the losses.
_base_ = ['../distill/cls_kd_shapes.py', './policy_optim.py']
model = dict(
    type='SoKD',
    search_interval=1,
    distiller=dict(
        type='SoKDDistiller',
        dafa=dict(type='DAFA', num_ops=2, draw='batch', estimator='relax'),
        # 4x4 maps: a few small regions per image
        dam=dict(
            type='DAM',
            in_channels={{_base_.teacher_channels}},
            feat_channels=32,
            topk=3,
            supervision='mutual')))
optim_wrapper = dict(
    _delete_=True,
    constructor='mmrazor.DistillOptimWrapperConstructor',
    student={{_base_.optim_wrapper}},
    policy={{_base_.sokd_policy_optim_short}})
param_scheduler = dict(_delete_=True, student={{_base_.param_scheduler}}, policy=[])
custom_hooks = [dict(type='mmrazor.DAFAPolicyLoggerHook', interval=20)]
# SoKD has its own train_step: under DDP the wrapper must delegate to it
model_wrapper_cfg = dict(type='mmrazor.DistillDataParallel')
