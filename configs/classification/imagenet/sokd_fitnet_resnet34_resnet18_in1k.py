# ImageNet, ResNet-34 -> ResNet-18: SoKD over FitNet (L2 on the DAM regions of the
# DAFA-refined last stage, plus the DAM agreement term).
#   python tools/train.py configs/classification/imagenet/sokd_fitnet_resnet34_resnet18_in1k.py
_base_ = ['./fitnet_resnet34_resnet18_in1k.py', '../../_base_/sokd/policy_optim.py']
model = dict(
    type='SoKD',
    search_interval=1,
    distiller=dict(
        type='SoKDDistiller',
        dafa=dict(type='DAFA', num_ops=2, draw='batch', estimator='relax'),
        # no boxes in classification: DAM learns from the teacher/student agreement
        dam=dict(
            type='DAM',
            in_channels={{_base_.teacher_channels}},
            feat_channels=128,
            topk=4,
            supervision='mutual'),
        distill_losses=dict(
            loss_bb=dict(
                _delete_=True,
                type='SoKDLoss',
                base_loss={{_base_.model.distiller.distill_losses.loss_bb}})),
        # SoKDLoss reads preds_S / preds_T (L2Loss itself names them s_feature / t_feature)
        loss_forward_mappings=dict(
            _delete_=True,
            loss_bb=dict(
                preds_S=dict(from_student=True, recorder='bb'),
                preds_T=dict(from_student=False, recorder='bb')))))
optim_wrapper = dict(
    _delete_=True,
    constructor='mmrazor.DistillOptimWrapperConstructor',
    student={{_base_.optim_wrapper}},
    policy={{_base_.sokd_policy_optim}})
param_scheduler = dict(_delete_=True, student={{_base_.param_scheduler}}, policy=[])
custom_hooks = [dict(type='mmrazor.DAFAPolicyLoggerHook', interval=200)]
# SoKD has its own train_step: under DDP the wrapper must delegate to it
model_wrapper_cfg = dict(type='mmrazor.DistillDataParallel')
