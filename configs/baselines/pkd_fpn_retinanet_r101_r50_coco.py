# PKD (Cao et al. NeurIPS 2022) on FPN for RetinaNet R101 -> R50 on COCO: the CWD baseline
# with MMRazor's PKD loss in place of CWD (weights as in MMRazor's PKD RetinaNet config).
_base_ = ['./cwd_fpn_retinanet_r101_r50_coco.py']
model = dict(distiller=dict(
    distill_losses={
        '_delete_': True,
        **{f'loss_pkd_fpn{i}': dict(type='PKDLoss', loss_weight=10) for i in range(5)}
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
