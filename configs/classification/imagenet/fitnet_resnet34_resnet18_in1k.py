# ImageNet, ResNet-34 -> ResNet-18: FitNet-style L2 imitation of the last backbone stage.
#   python tools/train.py configs/classification/imagenet/fitnet_resnet34_resnet18_in1k.py
_base_ = ['../../_base_/distill/cls_kd_in1k_r34_r18.py']
model = dict(
    distiller=dict(
        distill_losses=dict(
            loss_bb=dict(type='L2Loss', loss_weight=1.0, normalize=False, div_element=True)),
        loss_forward_mappings=dict(
            loss_bb=dict(
                s_feature=dict(from_student=True, recorder='bb'),
                t_feature=dict(from_student=False, recorder='bb')))))
