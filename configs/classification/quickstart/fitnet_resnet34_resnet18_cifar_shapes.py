# Base KD on the built-in classification data: FitNet-style L2 imitation of the last
# backbone stage through a 1x1 connector (mean squared error per element).
_base_ = ['../../_base_/distill/cls_kd_shapes.py']
model = dict(
    distiller=dict(
        distill_losses=dict(
            loss_bb=dict(type='L2Loss', loss_weight=1.0, normalize=False, div_element=True)),
        loss_forward_mappings=dict(
            loss_bb=dict(
                s_feature=dict(from_student=True, recorder='bb', connector='s_bb'),
                t_feature=dict(from_student=False, recorder='bb')))))
