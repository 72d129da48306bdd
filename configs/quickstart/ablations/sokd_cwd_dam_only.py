# Ablation of SoKD over CWD: DAM alone (no DAFA, so no policy search and no policy optimiser)
_base_ = ['../sokd_cwd_retinanet_r34_r18_shapes.py']
model = dict(distiller=dict(dafa=None))
# without DAFA there is no policy: the optimiser and the scheduler keep the student's entry only
optim_wrapper = dict(
    _delete_=True,
    constructor='mmrazor.DistillOptimWrapperConstructor',
    student={{_base_.optim_wrapper.student}})
param_scheduler = dict(_delete_=True, student={{_base_.param_scheduler.student}})
