# ATF over CWD for RetinaNet R101 -> R50 on COCO:
#   python tools/train.py configs/atf_retinanet_r101_r50_coco.py
# The CWD baseline (pretrained R101 teacher, ImageNet R50 student) plus ATF (./_base_/atf/),
# which fine-tunes the teacher towards the student while the student distils from it.
_base_ = ['./baselines/cwd_fpn_retinanet_r101_r50_coco.py', './_base_/atf/atf_retinanet_coco.py']
model = dict(_base_.atf_model, type='ATF')
optim_wrapper = dict(
    _delete_=True,
    constructor='mmrazor.DistillOptimWrapperConstructor',
    student={{_base_.optim_wrapper}},
    teacher={{_base_.atf_teacher_optim}})
# both on MMDetection's 1x schedule, the teacher with a longer warm-up
param_scheduler = dict(
    _delete_=True,
    student={{_base_.param_scheduler}},
    teacher=[
        dict(_base_.param_scheduler[0], end=_base_.atf_teacher_warmup_iters),
        *_base_.param_scheduler[1:]
    ])
# ATF has its own train_step (two optimisers): under DDP the wrapper must delegate to it
model_wrapper_cfg = dict(type='mmrazor.DistillDataParallel')
