# PKD (Cao et al. NeurIPS 2022) on the FPN features in place of a COCO CWD baseline's losses,
# at MMRazor's PKD weight for each detector: a config lists this file next to the baseline
# and sets `model = dict(distiller={{_base_.pkd_fpn_distiller.retinanet}})` (or .faster_rcnn).
_base_ = ['./fpn_coco.py']
pkd_loss_weight = dict(retinanet=10, faster_rcnn=6)
pkd_fpn_distiller = {
    detector:
    dict(
        distill_losses={
            '_delete_': True,
            **{
                f'loss_pkd_fpn{i}': dict(type='PKDLoss', loss_weight=loss_weight)
                for i in range(len(_base_.distill_levels))
            }
        },
        loss_forward_mappings={
            '_delete_': True,
            **{
                f'loss_pkd_fpn{i}':
                dict(
                    preds_S=dict(from_student=True, recorder='fpn', data_idx=level),
                    preds_T=dict(from_student=False, recorder='fpn', data_idx=level))
                for i, level in enumerate(_base_.distill_levels)
            }
        })
    for detector, loss_weight in pkd_loss_weight.items()
}
