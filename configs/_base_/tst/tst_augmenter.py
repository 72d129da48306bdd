# TST's learned image augmenter and its optimiser, one definition for every TST config: a
# config lists this file in its `_base_` and sets `augmenter={{_base_.tst_augmenter}}` in
# the model and `augmenter={{_base_.tst_augmenter_optim}}` in `optim_wrapper`.
tst_augmenter = dict(
    type='TSTAugmenter',
    prior_prob=0.2,
    prior_magnitude=0.4,
    magnitude_bound=0.3,
    min_visible=0.5,
    seed=0)
tst_augmenter_optim = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
