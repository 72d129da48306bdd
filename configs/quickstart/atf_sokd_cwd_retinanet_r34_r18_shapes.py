# ATF + SoKD over CWD on the quickstart data: SoKD (DAFA + DAM) refines the frozen teacher's
# FPN features for the student, while ATF fine-tunes only the teacher's head towards the
# student through an alpha-divergence between the two classification branches (the logit
# losses of ./atf_retinanet_r34_r18_shapes.py). The features DAFA refines stay fixed, so the
# policy search has a fixed target.
_base_ = ['./sokd_cwd_retinanet_r34_r18_shapes.py']
num_classes = 6
head_levels = 5  # RetinaHead runs on P3-P7: one per-anchor Bernoulli divergence per level
model = dict(
    type='ATFSoKD',
    teacher_trainable_modules=('bbox_head', ),
    teacher_weight=1.0,
    teacher_task_weight=1.0,
    teacher_alpha=None,  # the losses' alpha (0.5: both sides minimise the same divergence)
    distiller=dict(
        # class-logit maps (N, A*C, H, W): DAFA's feature ops are no refinement of logits
        unrefined_recorders=('cls', ),
        # RetinaHead.retina_cls runs once per FPN level: record_idx 0..4 are P3..P7
        student_recorders=dict(cls=dict(type='ModuleOutputs', source='bbox_head.retina_cls')),
        teacher_recorders=dict(cls=dict(type='ModuleOutputs', source='bbox_head.retina_cls')),
        distill_losses={
            f'loss_atf{i}': dict(type='AlphaDivergenceLoss', alpha=0.5, tau=1.0,
                                 kind='bernoulli', normalize=None, num_classes=num_classes,
                                 loss_weight=10)
            for i in range(head_levels)
        },
        loss_forward_mappings={
            f'loss_atf{i}': dict(
                preds_S=dict(from_student=True, recorder='cls', record_idx=i),
                preds_T=dict(from_student=False, recorder='cls', record_idx=i))
            for i in range(head_levels)
        }))
# fine-tuning the head: a tenth of the student's learning rate (as ATF's config)
optim_wrapper = dict(
    teacher=dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
        clip_grad=dict(max_norm=10, norm_type=2)))
# the teacher warms up over the first third of the run, as in ATF's config
param_scheduler = dict(teacher=[
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=300, milestones=[225], gamma=0.1)
])
# two optimisers stepped in this algorithm's train_step: under DDP the wrapper must delegate
model_wrapper_cfg = dict(type='mmrazor.SoKDDistributedDataParallel')
