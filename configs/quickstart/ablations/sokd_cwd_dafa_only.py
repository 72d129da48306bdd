# Ablation of SoKD over CWD: DAFA alone (no DAM; the unmasked CWD on the refined features)
_base_ = ['../sokd_cwd_retinanet_r34_r18_shapes.py']
model = dict(
    distiller=dict(
        dam=None,
        distill_losses=dict(
            loss_fpn0=dict(full_weight=1.0, masked_weight=0.0, align_weight=0.0),
            loss_fpn1=dict(full_weight=1.0, masked_weight=0.0, align_weight=0.0),
            loss_fpn2=dict(full_weight=1.0, masked_weight=0.0, align_weight=0.0))))
