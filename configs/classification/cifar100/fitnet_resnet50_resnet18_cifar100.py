# CIFAR-100, ResNet-50 -> ResNet-18: FitNet-style L2 imitation of the last backbone stage.
#   python tools/train.py configs/classification/cifar100/fitnet_resnet50_resnet18_cifar100.py
_base_ = ['../../_base_/distill/cls_kd_cifar100_r50_r18.py']
model = dict(
    distiller=dict(
        distill_losses=dict(
            loss_bb=dict(type='L2Loss', loss_weight=1.0, normalize=False, div_element=True)),
        loss_forward_mappings=dict(
            loss_bb=dict(
                s_feature=dict(from_student=True, recorder='bb', connector='s_bb'),
                t_feature=dict(from_student=False, recorder='bb')))))
