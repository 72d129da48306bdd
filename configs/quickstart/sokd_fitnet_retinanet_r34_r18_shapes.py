# SoKD over FitNet/L2 on the quickstart data (L_DA is the mean over the masked positions).
_base_ = ['../_base_/sokd/sokd_quickstart.py']
model = dict(distiller=dict(
    distill_losses={
        f'loss_fpn{i}': dict(
            type='SoKDLoss',
            base_loss=dict(type='L2Loss', loss_weight=1.0, normalize=False,
                           div_element=True))
        for i in range(3)  # P3-P5, see _base_/distill/fpn_kd_shapes.py
    },
    # SoKDLoss reads preds_S / preds_T (L2Loss itself names them s_feature / t_feature)
    loss_forward_mappings={
        '_delete_': True,
        **{
            f'loss_fpn{i}': dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in range(3)
        }
    }))
