# ATF over CWD on the quickstart data: the CWD config (the student learns the teacher's FPN
# features) plus an alpha-divergence between the two classification branches, through which
# the teacher is fine-tuned towards the student while the student distils from it.
_base_ = ['./cwd_retinanet_r34_r18_shapes.py']
num_classes = 6
head_levels = 5  # RetinaHead runs on P3-P7: one per-anchor Bernoulli divergence per level
model = dict(
    type='ATF',
    teacher_weight=1.0,
    teacher_task_weight=1.0,
    teacher_alpha=None,  # the losses' alpha (0.5: both sides minimise the same divergence)
    distiller=dict(
        # RetinaHead.retina_cls runs once per FPN level: record_idx 0..4 are P3..P7
        student_recorders=dict(cls=dict(type='ModuleOutputs', source='bbox_head.retina_cls')),
        teacher_recorders=dict(cls=dict(type='ModuleOutputs', source='bbox_head.retina_cls')),
        distill_losses={
            # sigmoid head: one Bernoulli per class and anchor, no z-score (it would erase
            # the objectness that the shared offset of an anchor's logits carries)
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
optim_wrapper = dict(
    _delete_=True,
    constructor='mmrazor.SoKDOptimWrapperConstructor',
    student=dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
        clip_grad=dict(max_norm=10, norm_type=2)),
    # fine-tuning: a tenth of the student's learning rate
    teacher=dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
        clip_grad=dict(max_norm=10, norm_type=2)))
# the teacher warms up over the first third of the run, so that it does not chase a
# student that has not learnt anything yet
param_scheduler = dict(
    _delete_=True,
    student=[
        dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
        dict(type='MultiStepLR', by_epoch=False, begin=0, end=300, milestones=[225],
             gamma=0.1)
    ],
    teacher=[
        dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
        dict(type='MultiStepLR', by_epoch=False, begin=0, end=300, milestones=[225],
             gamma=0.1)
    ])
# ATF has its own train_step (two optimisers): under DDP the wrapper must delegate to it
model_wrapper_cfg = dict(type='mmrazor.SoKDDistributedDataParallel')
