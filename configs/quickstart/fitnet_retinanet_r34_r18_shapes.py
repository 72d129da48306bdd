# Base KD: FitNet-style L2 feature imitation on FPN (mean squared error per element).
# MMRazor's L2Loss names its inputs s_feature/t_feature, so the mappings are replaced.
_base_ = ['../_base_/distill/fpn_kd_shapes.py']
model = dict(distiller=dict(
    distill_losses={
        f'loss_fpn{i}': dict(type='L2Loss', loss_weight=1.0, normalize=False,
                             div_element=True)
        for i in range(3)  # P3-P5, see _base_/distill/fpn_kd_shapes.py
    },
    loss_forward_mappings={
        '_delete_': True,
        **{
            f'loss_fpn{i}': dict(
                s_feature=dict(from_student=True, recorder='fpn', data_idx=i),
                t_feature=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in range(3)
        }
    }))
