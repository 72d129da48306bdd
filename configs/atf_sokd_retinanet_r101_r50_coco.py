# ATF + SoKD over CWD for RetinaNet R101 -> R50 on COCO:
#   python tools/train.py configs/atf_sokd_retinanet_r101_r50_coco.py
# SoKD (DAFA + DAM) refines the frozen teacher's FPN features for the student; ATF
# (./_base_/atf/) fine-tunes only the teacher's head towards the student, so the features
# the policy search refines stay fixed.
_base_ = ['./sokd_retinanet_r101_r50_coco.py', './_base_/atf/atf_retinanet_coco.py']
model = dict(
    _base_.atf_model,
    type='ATFSoKD',
    teacher_trainable_modules=('bbox_head', ),
    # class-logit maps (N, A*C, H, W): DAFA's feature ops are no refinement of logits
    distiller=dict(_base_.atf_model.distiller, unrefined_recorders=('cls', )))
optim_wrapper = dict(teacher={{_base_.atf_teacher_optim}})
# MMDetection's 1x schedule, the teacher with a longer warm-up
param_scheduler = dict(teacher=[
    dict(_base_.param_scheduler.student[0], end=_base_.atf_teacher_warmup_iters),
    *_base_.param_scheduler.student[1:]
])
