# SoKD over PKD on the quickstart data.
_base_ = ['../_base_/sokd/sokd_quickstart.py']
model = dict(distiller=dict(distill_losses={
    f'loss_fpn{i}': dict(
        type='SoKDLoss', base_loss=dict(type='PKDLoss', loss_weight=6))
    for i in range(3)  # P3-P5, see _base_/distill/fpn_kd_shapes.py
}))
