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
# The same with 10x the learning rate, for searches of ~10^3 iterations instead of the
# research schedule's 2x10^4: a sub-policy's apply probabilities and magnitudes get a
# gradient only in the steps that draw it (1 in 36), so at 3e-4 a 1000-1500-iteration search
# left the policy within 0.03 of its initialisation (random feature augmentation, not a
# learned one). On the tuning draw of the built-in classification data (data seed 1, one
# seed each) SoKD-KD reached 77.0 top-1 with 3e-3, 74.7 with 3e-4, logit KD 72.7: the same
# order, but within the seed-to-seed spread (see README).
sokd_policy_optim_short = dict(
    sokd_policy_optim, optimizer=dict(sokd_policy_optim['optimizer'], lr=3e-3))
