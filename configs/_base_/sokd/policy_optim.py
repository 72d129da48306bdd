# The DAFA policy's optimiser, one definition for every SoKD config: a config lists this file
# in its `_base_` and sets `optim_wrapper.policy = {{_base_.sokd_policy_optim}}` (a variable,
# not `optim_wrapper`, so that it combines with the base that defines the student's).
# The research code's policy optimiser (Adam, lr 3e-4, betas (0.5, 0.999), weight decay
# 1e-3), except that the magnitudes take no weight decay: only the drawn sub-policy's
# magnitudes get a gradient in a step, and Adam would turn the decay term of all the others
# into full-size steps towards 0 (-lr per step).
sokd_policy_optim = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3),
    paramwise_cfg=dict(custom_keys={'magnitudes': dict(decay_mult=0.0)}))
