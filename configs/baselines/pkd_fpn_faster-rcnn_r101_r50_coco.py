# PKD on FPN for Faster R-CNN R101 -> R50 on COCO (MMRazor's PKD weights, 1x schedule).
_base_ = ['./cwd_fpn_faster-rcnn_r101_r50_coco.py']
model = dict(distiller=dict(
    distill_losses={
        '_delete_': True,
        **{f'loss_pkd_fpn{i}': dict(type='PKDLoss', loss_weight=6) for i in range(5)}
    },
    loss_forward_mappings={
        '_delete_': True,
        **{
            f'loss_pkd_fpn{i}': dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in range(5)
        }
    }))
