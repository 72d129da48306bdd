# CIFAR-100, ResNet-50 -> ResNet-18: SoKD over logit KD: the SoKD-FitNet config (DAM's
# region-restricted L2 and agreement terms) plus KD on logits recomputed from the
# DAFA-refined last stage by the teacher's own head.
#   python tools/train.py configs/classification/cifar100/sokd_kd_resnet50_resnet18_cifar100.py
_base_ = ['./sokd_fitnet_resnet50_resnet18_cifar100.py']
model = dict(
    teacher_forward='loss',  # the logits are recorded on the teacher's head
    distiller=dict(
        refine_logits=dict(fc=dict(feature='bb', head=('neck', 'head.fc'))),
        # keep the target's graph: the policy learns through it (the teacher is frozen)
        distill_losses=dict(
            loss_kl=dict(type='KLDivergence', tau=4, loss_weight=1.0, teacher_detach=False)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc')))))
