# Ablation of SoKD over KD: DAM alone (the plain teacher logits and stage, no policy search)
_base_ = ['../sokd_kd_resnet34_resnet18_cifar_shapes.py']
model = dict(distiller=dict(dafa=None, refine_logits=None))
# without DAFA there is no policy: the optimiser and the scheduler keep the student's entry only
optim_wrapper = dict(
    _delete_=True,
    constructor='mmrazor.DistillOptimWrapperConstructor',
    student={{_base_.optim_wrapper.student}})
param_scheduler = dict(_delete_=True, student={{_base_.param_scheduler.student}})
