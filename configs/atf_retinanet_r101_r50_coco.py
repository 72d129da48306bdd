# ATF over CWD for RetinaNet R101 -> R50 on COCO:
#   python tools/train.py configs/atf_retinanet_r101_r50_coco.py
# The CWD baseline (pretrained R101 teacher, ImageNet R50 student) plus an alpha-divergence
# between the classification branches, through which the teacher is fine-tuned towards the
# student while the student distils from it.
_base_ = ['./baselines/cwd_fpn_retinanet_r101_r50_coco.py']
num_classes = 80
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
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001)),
    # fine-tuning the pretrained teacher: a tenth of the student's learning rate
    teacher=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=0.0001)))
# mmdet's 1x schedule for both; the teacher's warm-up is longer (the first epoch), so that it
# does not chase a student that has not learnt anything yet
param_scheduler = dict(
    _delete_=True,
    student=[
        dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
        dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11],
             gamma=0.1)
    ],
    teacher=[
        dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=7330),
        dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11],
             gamma=0.1)
    ])
# ATF has its own train_step (two optimisers): under DDP the wrapper must delegate to it
model_wrapper_cfg = dict(type='mmrazor.SoKDDistributedDataParallel')
