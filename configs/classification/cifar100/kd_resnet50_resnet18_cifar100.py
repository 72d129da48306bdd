# CIFAR-100, ResNet-50 -> ResNet-18: Hinton's logit KD (KL at temperature 4).
#   python tools/train.py configs/classification/cifar100/kd_resnet50_resnet18_cifar100.py
_base_ = ['../../_base_/distill/cls_kd_cifar100_r50_r18.py']
model = dict(
    distiller=dict(
        distill_losses=dict(loss_kl=dict(type='KLDivergence', tau=4, loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc')))))
