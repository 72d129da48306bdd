# Base KD: FitNet-style L2 imitation of FPN features (mean squared error per element).
_base_ = ['../_base_/distill/fpn_kd_shapes.py']
model = dict(
    distiller=dict(
        distill_losses={
            f'loss_fpn{i}': _base_._shapes_fitnet_loss
            for i in range(len(_base_.distill_levels))
        },
        # MMRazor's L2Loss names its inputs s_feature / t_feature
        loss_forward_mappings={
            '_delete_': True,
            **{
                f'loss_fpn{i}':
                dict(
                    s_feature=dict(from_student=True, recorder='fpn', data_idx=level),
                    t_feature=dict(from_student=False, recorder='fpn', data_idx=level))
                for i, level in enumerate(_base_.distill_levels)
            }
        }))
