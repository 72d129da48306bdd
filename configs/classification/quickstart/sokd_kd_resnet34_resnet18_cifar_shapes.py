# SoKD over logit KD on the built-in classification data. DAFA refines the teacher's last
# stage and the KD target is recomputed from it by the teacher's own pooling + classifier
# (refine_logits), so the logits carry the refined knowledge; DAM adds its region-restricted
# L2 on the stage (masked + agreement terms only: the whole-map L2 stays off).
_base_ = ['../../_base_/sokd/sokd_cls_shapes.py']
model = dict(
    teacher_forward='loss',  # the teacher's logits are recorded on its head
    distiller=dict(
        refine_logits=dict(fc=dict(feature='bb', head=('neck', 'head.fc'))),
        distill_losses=dict(
            # the target must keep its graph: the policy learns through it (the teacher is frozen)
            loss_kl=dict(type='KLDivergence', tau=4, loss_weight=1.0, teacher_detach=False),
            loss_bb=dict(type='SoKDLoss',
                         base_loss=dict(type='L2Loss', loss_weight=1.0, normalize=False,
                                        div_element=True))),
        loss_forward_mappings=dict(
            loss_kl=dict(preds_S=dict(from_student=True, recorder='fc'),
                         preds_T=dict(from_student=False, recorder='fc')),
            loss_bb=dict(preds_S=dict(from_student=True, recorder='bb', connector='s_bb'),
                         preds_T=dict(from_student=False, recorder='bb')))))
