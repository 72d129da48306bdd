# SoKD over PKD on the quickstart data.
_base_ = ['./pkd_retinanet_r34_r18_shapes.py', '../_base_/sokd/sokd_quickstart.py']
model = dict(distiller=dict(distill_losses={
    f'loss_fpn{i}': dict(
        _delete_=True, type='SoKDLoss', base_loss=dict(type='PKDLoss', loss_weight=6))
    for i in range(5)
}))
