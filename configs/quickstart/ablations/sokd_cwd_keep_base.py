# SoKD over CWD that keeps the base CWD on the whole map beside the masked term (full_weight=1)
_base_ = ['../sokd_cwd_retinanet_r34_r18_shapes.py']
model = dict(
    distiller=dict(
        distill_losses=dict(
            loss_fpn0=dict(full_weight=1.0),
            loss_fpn1=dict(full_weight=1.0),
            loss_fpn2=dict(full_weight=1.0))))
