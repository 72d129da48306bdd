# ATF over CWD on the quickstart data: the CWD config (the student learns the teacher's FPN
# features) plus ATF (../_base_/atf/), which fine-tunes the teacher towards the student.
_base_ = ['./cwd_retinanet_r34_r18_shapes.py', '../_base_/atf/atf_retinanet_shapes.py']
model = dict(_base_.atf_model, type='ATF')
optim_wrapper = dict(
    _delete_=True,
    constructor='mmrazor.DistillOptimWrapperConstructor',
    student={{_base_.optim_wrapper}},
    teacher={{_base_.atf_teacher_optim}})
# the teacher: the student's schedule with a longer warm-up
param_scheduler = dict(
    _delete_=True,
    student={{_base_.param_scheduler}},
    teacher=[
        dict(_base_.param_scheduler[0], end=_base_.atf_teacher_warmup_iters),
        *_base_.param_scheduler[1:]
    ])
# ATF has its own train_step (two optimisers): under DDP the wrapper must delegate to it
model_wrapper_cfg = dict(type='mmrazor.DistillDataParallel')
