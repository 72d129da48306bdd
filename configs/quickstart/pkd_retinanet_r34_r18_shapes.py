# Base KD: PKD (Pearson-correlation feature distillation, Cao et al. NeurIPS 2022) on FPN.
_base_ = ['../_base_/distill/fpn_kd_shapes.py']
model = dict(
    distiller=dict(distill_losses={
        f'loss_fpn{i}': _base_._shapes_pkd_loss
        for i in range(len(_base_.distill_levels))
    }))
