# The DAFA policy's optimiser, one definition for every SoKD config: a config lists this file
# in its `_base_` and sets `optim_wrapper.policy = {{_base_.sokd_policy_optim}}` (a variable,
# not `optim_wrapper`, so that it combines with the base that defines the student's).
# The research code's Adam, the magnitudes without weight decay: docs/knobs.md#the-policy-optimiser
sokd_policy_optim = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3),
    paramwise_cfg=dict(custom_keys={'magnitudes': dict(decay_mult=0.0)}))
# 10x the learning rate for the short searches (~10^3 iterations) on the built-in data
sokd_policy_optim_short = dict(
    sokd_policy_optim, optimizer=dict(sokd_policy_optim['optimizer'], lr=3e-3))
