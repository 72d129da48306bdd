# Base KD: channel-wise distillation (CWD, Shu et al. ICCV 2021) on FPN, quickstart data.
_base_ = ['../_base_/distill/fpn_kd_shapes.py']
model = dict(
    distiller=dict(distill_losses={
        f'loss_fpn{i}': _base_._shapes_cwd_loss
        for i in range(len(_base_.distill_levels))
    }))
