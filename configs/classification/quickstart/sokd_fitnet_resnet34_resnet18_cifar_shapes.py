# SoKD over FitNet on the built-in classification data: L2 on the DAM regions of the
# DAFA-refined last stage, plus the DAM agreement term.
_base_ = ['../../_base_/sokd/sokd_cls_shapes.py']
model = dict(
    distiller=dict(
        distill_losses=dict(
            loss_bb=dict(
                type='SoKDLoss',
                base_loss=dict(type='L2Loss', loss_weight=1.0, normalize=False,
                               div_element=True))),
        loss_forward_mappings=dict(
            loss_bb=dict(
                preds_S=dict(from_student=True, recorder='bb', connector='s_bb'),
                preds_T=dict(from_student=False, recorder='bb')))))
