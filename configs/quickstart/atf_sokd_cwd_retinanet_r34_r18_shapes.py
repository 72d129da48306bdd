# ATF + SoKD over CWD on the quickstart data: SoKD (DAFA + DAM) refines the frozen teacher's
# FPN features for the student, while ATF (../_base_/atf/) fine-tunes only the teacher's
# head towards the student, so the features DAFA refines stay fixed and the policy search
# has a fixed target.
_base_ = ['./sokd_cwd_retinanet_r34_r18_shapes.py', '../_base_/atf/atf_retinanet_shapes.py']
model = dict(
    _base_.atf_model,
    type='ATFSoKD',
    teacher_trainable_modules=('bbox_head', ),
    # class-logit maps (N, A*C, H, W): DAFA's feature ops are no refinement of logits
    distiller=dict(_base_.atf_model.distiller, unrefined_recorders=('cls', )))
optim_wrapper = dict(teacher={{_base_.atf_teacher_optim}})
# the teacher: the student's schedule with a longer warm-up
param_scheduler = dict(teacher=[
    dict(_base_.param_scheduler.student[0], end=_base_.atf_teacher_warmup_iters),
    *_base_.param_scheduler.student[1:]
])
