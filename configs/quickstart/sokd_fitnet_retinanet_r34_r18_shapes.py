# SoKD over FitNet/L2 on the quickstart data (L_DA is the mean over the masked positions).
# SoKDLoss reads preds_S / preds_T, so the base's mappings serve (L2Loss itself names them
# s_feature / t_feature).
_base_ = ['../_base_/sokd/sokd_quickstart.py']
model = dict(
    distiller=dict(
        distill_losses={
            f'loss_fpn{i}':
            dict(
                type='SoKDLoss',
                base_loss=_base_._shapes_fitnet_loss,
                # the whole-map base loss beside the masked term, as in SoKD over CWD (measured
                # there: docs/sokd_tuning.md; not measured over this base on its own)
                full_weight=1.0)
            for i in range(len(_base_.distill_levels))
        }))
