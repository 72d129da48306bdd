# SoKD over PKD on the quickstart data.
_base_ = ['../_base_/sokd/sokd_quickstart.py']
model = dict(
    distiller=dict(
        distill_losses={
            f'loss_fpn{i}':
            dict(
                type='SoKDLoss',
                base_loss=_base_._shapes_pkd_loss,
                # the whole-map base loss beside the masked term, as in SoKD over CWD (measured
                # there: docs/sokd_tuning.md; not measured over this base on its own)
                full_weight=1.0)
            for i in range(len(_base_.distill_levels))
        }))
