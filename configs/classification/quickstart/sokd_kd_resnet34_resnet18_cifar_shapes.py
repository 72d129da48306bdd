# SoKD over logit KD on the built-in classification data: the SoKD-FitNet config (DAM's
# region-restricted L2 on the DAFA-refined last stage: masked + agreement terms, the
# whole-map L2 off) plus KD on logits that the teacher's own pooling + classifier recompute
# from the refined stage (refine_logits), so that they carry the refined knowledge.
_base_ = ['./sokd_fitnet_resnet34_resnet18_cifar_shapes.py']
model = dict(
    teacher_forward='loss',  # the teacher's logits are recorded on its head
    distiller=dict(
        refine_logits=dict(fc=dict(feature='bb', head=('neck', 'head.fc'))),
        # the target keeps its graph: the policy learns through it (the teacher is frozen)
        distill_losses=dict(
            loss_kl=dict(type='KLDivergence', tau=4, loss_weight=1.0, teacher_detach=False)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc')))))
