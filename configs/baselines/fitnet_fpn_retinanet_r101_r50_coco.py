# FitNet-style L2 imitation of the FPN features (mean squared error per element).
_base_ = ['./cwd_fpn_retinanet_r101_r50_coco.py']
model = dict(distiller=dict(
    distill_losses={
        '_delete_': True,
        **{
            f'loss_l2_fpn{i}': dict(type='L2Loss', loss_weight=1.0, normalize=False,
                                    div_element=True)
            for i in range(5)
        }
    },
    loss_forward_mappings={
        '_delete_': True,
        **{
            f'loss_l2_fpn{i}': dict(
                s_feature=dict(from_student=True, recorder='fpn', data_idx=i),
                t_feature=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in range(5)
        }
    }))
