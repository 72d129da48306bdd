# ATF + SoKD over CWD for RetinaNet R101 -> R50 on COCO:
#   python tools/train.py configs/atf_sokd_retinanet_r101_r50_coco.py
# SoKD (DAFA + DAM) refines the frozen teacher's FPN features for the student; ATF fine-tunes
# only the teacher's head towards the student through an alpha-divergence between the two
# classification branches (the logit losses of ./atf_retinanet_r101_r50_coco.py), so the
# features the policy search refines stay fixed.
_base_ = ['./sokd_retinanet_r101_r50_coco.py']
num_classes = 80
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
# fine-tuning the pretrained teacher's head: a tenth of the student's learning rate
optim_wrapper = dict(
    teacher=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=0.0001)))
# mmdet's 1x schedule; the teacher warms up over the first epoch, so that it does not chase a
# student that has not learnt anything yet
param_scheduler = dict(teacher=[
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=7330),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1)
])
