# ATF on the quickstart data (./atf_retinanet.py): its 6 classes, and the teacher fine-tuned
# at a tenth of the student's learning rate with a warm-up over the first third of the
# 300-iteration run, so that it does not chase a student that has not learnt anything yet.
_base_ = ['./atf_retinanet.py']
atf_model = dict(
    distiller=dict(distill_losses={
        f'loss_atf{i}': dict(num_classes=6)
        for i in range(_base_.atf_head_levels)
    }))
atf_teacher_optim = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
    clip_grad=dict(max_norm=10, norm_type=2))
atf_teacher_warmup_iters = 100
