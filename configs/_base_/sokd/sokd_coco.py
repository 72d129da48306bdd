# What SoKD adds to the COCO FPN distillation (the RetinaNet CWD baseline; the Faster R-CNN
# config swaps the `cfg_path`s): the SoKD algorithm and distiller with DAFA and DAM, the
# policy's optimiser beside the student's (the baseline's: MMDetection's RetinaNet 1x, no
# gradient clipping), the policy logger, the DDP wrapper. Configs that inherit set the losses.
_base_ = [
    '../../baselines/cwd_fpn_retinanet_r101_r50_coco.py', '../distill/fpn_coco.py',
    './policy_optim.py'
]
policy_search_iters = 20000  # the research code's: ~2.7 COCO epochs at batch 16
model = dict(
    type='SoKD',
    search_interval=1,
    search_end=policy_search_iters,
    # the student's own update (SGD momentum) as the virtual step: the built-in data's
    # measurement (docs/sokd_tuning.md#the-virtual-step, AdamW there); not measured on COCO
    virtual_step='optimizer',
    distiller=dict(
        type='SoKDDistiller',
        dafa=dict(type='DAFA', num_ops=2, draw='batch', estimator='relax'),
        dam=dict(
            type='DAM',
            in_channels={{_base_.fpn_channels}},
            feat_channels=128,
            topk=8,
            supervision='gt')))
optim_wrapper = dict(
    _delete_=True,
    constructor='mmrazor.DistillOptimWrapperConstructor',
    student={{_base_.optim_wrapper}},
    policy={{_base_.sokd_policy_optim}})
param_scheduler = dict(_delete_=True, student={{_base_.param_scheduler}}, policy=[])
custom_hooks = [dict(type='mmrazor.DAFAPolicyLoggerHook', interval=200)]
# SoKD has its own train_step: under DDP the wrapper must delegate to it
model_wrapper_cfg = dict(type='mmrazor.DistillDataParallel')
