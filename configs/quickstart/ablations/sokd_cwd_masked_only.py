# SoKD over CWD with the spec's inner objective: CWD inside DAM's areas only (full_weight=0)
_base_ = ['../sokd_cwd_retinanet_r34_r18_shapes.py']
# the method's config keeps the base CWD on the whole map beside the masked term
# (full_weight=1); this row measures what that adds
model = dict(
    distiller=dict(
        distill_losses=dict(
            loss_fpn0=dict(full_weight=0.0),
            loss_fpn1=dict(full_weight=0.0),
            loss_fpn2=dict(full_weight=0.0))))
