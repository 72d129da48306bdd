# FitNet-style L2 imitation of the FPN features (mean squared error per element) in place of
# a COCO CWD baseline's losses: a config lists this file next to the baseline and sets
# `model = dict(distiller={{_base_.fitnet_fpn_distiller}})`.
_base_ = ['./fpn_coco.py']
fitnet_fpn_distiller = dict(
    distill_losses={
        '_delete_': True,
        **{
            f'loss_l2_fpn{i}': dict(
                type='L2Loss', loss_weight=1.0, normalize=False, div_element=True)
            for i in range(len(_base_.distill_levels))
        }
    },
    # MMRazor's L2Loss names its inputs s_feature / t_feature
    loss_forward_mappings={
        '_delete_': True,
        **{
            f'loss_l2_fpn{i}':
            dict(
                s_feature=dict(from_student=True, recorder='fpn', data_idx=level),
                t_feature=dict(from_student=False, recorder='fpn', data_idx=level))
            for i, level in enumerate(_base_.distill_levels)
        }
    })
