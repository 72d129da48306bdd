# SoKD over CWD on the quickstart data: the CWD config plus DAFA + DAM.
_base_ = ['../_base_/sokd/sokd_quickstart.py']
model = dict(
    distiller=dict(
        distill_losses={
            f'loss_fpn{i}':
            dict(
                type='SoKDLoss',
                base_loss=_base_._shapes_cwd_loss,
                # CWD normalises over positions itself (spatial softmax): no area normalisation
                area_normalize=False)
            for i in range(len(_base_.distill_levels))
        }))
