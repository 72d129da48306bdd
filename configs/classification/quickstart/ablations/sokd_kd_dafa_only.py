# Ablation of SoKD over KD: DAFA alone (KD on the refined logits; no DAM and no stage L2)
_base_ = ['../sokd_kd_resnet34_resnet18_cifar_shapes.py']
model = dict(
    distiller=dict(
        dam=None,
        distill_losses=dict(
            _delete_=True, loss_kl={{_base_.model.distiller.distill_losses.loss_kl}}),
        loss_forward_mappings=dict(
            _delete_=True, loss_kl={{_base_.model.distiller.loss_forward_mappings.loss_kl}})))
