# Ablation of SoKD over CWD: DAM's ground-truth losses train its heads only, not the features
_base_ = ['../sokd_cwd_retinanet_r34_r18_shapes.py']
model = dict(
    distiller=dict(
        distill_losses=dict(
            loss_fpn0=dict(gt_to_features=False),
            loss_fpn1=dict(gt_to_features=False),
            loss_fpn2=dict(gt_to_features=False))))
