# ImageNet, ResNet-34 -> ResNet-18: SoKD over logit KD (KD on logits recomputed from the
# DAFA-refined last stage, plus DAM's region-restricted L2 and agreement terms).
#   python tools/train.py configs/classification/imagenet/sokd_kd_resnet34_resnet18_in1k.py
_base_ = ['./kd_resnet34_resnet18_in1k.py', '../../_base_/sokd/policy_optim.py']
model = dict(
    type='SoKD',
    teacher_forward='loss',  # the logits are recorded on the teacher's head
    search_interval=1,
    distiller=dict(
        type='SoKDDistiller',
        dafa=dict(type='DAFA', num_ops=2, draw='batch', estimator='relax'),
        # no boxes in classification: DAM learns from the teacher/student agreement
        dam=dict(type='DAM', in_channels=512, feat_channels=128, topk=4,
                 supervision='mutual'),
        # the KD target is recomputed from the refined stage by the teacher's own head
        refine_logits=dict(fc=dict(feature='bb', head=('neck', 'head.fc'))),
        distill_losses=dict(
            # keep the target's graph: the policy learns through it (the teacher is frozen)
            loss_kl=dict(teacher_detach=False),
            loss_bb=dict(type='SoKDLoss',
                         base_loss=dict(type='L2Loss', loss_weight=1.0, normalize=False,
                                        div_element=True))),
        loss_forward_mappings=dict(loss_bb=dict(
            preds_S=dict(from_student=True, recorder='bb'),
            preds_T=dict(from_student=False, recorder='bb')))))
optim_wrapper = dict(
    _delete_=True,
    constructor='mmrazor.SoKDOptimWrapperConstructor',
    student={{_base_.optim_wrapper}},
    policy={{_base_.sokd_policy_optim}})
param_scheduler = dict(_delete_=True, student={{_base_.param_scheduler}}, policy=[])
custom_hooks = [dict(type='mmrazor.DAFAPolicyLoggerHook', interval=200)]
model_wrapper_cfg = dict(type='mmrazor.SoKDDistributedDataParallel')
