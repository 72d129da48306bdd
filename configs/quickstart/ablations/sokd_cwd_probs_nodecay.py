# Ablation of SoKD over CWD: no weight decay on the policy's apply probabilities either
_base_ = ['../sokd_cwd_retinanet_r34_r18_shapes.py']
# The magnitudes already take none. With Adam's decay of 1e-3 the 35 of 36 sub-policies that a
# policy step does not draw get a decay-only gradient, which Adam normalises into steps of
# up to the learning rate, and the probabilities fall whatever the reward says
# (docs/sokd_tuning.md, "Why the apply probabilities fall").
optim_wrapper = dict(
    policy=dict(
        paramwise_cfg=dict(custom_keys={
            'magnitudes': dict(decay_mult=0.0),
            'probs': dict(decay_mult=0.0)
        })))
