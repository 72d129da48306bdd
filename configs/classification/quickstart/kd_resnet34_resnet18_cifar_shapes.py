# Base KD on the built-in classification data: Hinton's logit KD (KL at temperature 4).
_base_ = ['../../_base_/distill/cls_kd_shapes.py']
model = dict(
    distiller=dict(
        distill_losses=dict(loss_kl=dict(type='KLDivergence', tau=4, loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc')))))
