# ATF (adaptive teacher fine-tuning) between RetinaNets: an alpha-divergence between the two
# classification branches, through which the teacher is fine-tuned towards the student while
# the student distils from it. The data set's fragment (./atf_retinanet_coco.py, ..._shapes.py)
# adds the classes and the teacher's optimiser; a config sets `model = dict(_base_.atf_model,
# type='ATF')`.
atf_head_levels = 5  # RetinaHead runs on the FPN's five outputs: retina_cls records 0-4
atf_model = dict(
    teacher_weight=1.0,
    teacher_task_weight=1.0,
    teacher_alpha=None,  # the losses' alpha (0.5: both sides minimise the same divergence)
    distiller=dict(
        student_recorders=dict(cls=dict(type='ModuleOutputs', source='bbox_head.retina_cls')),
        teacher_recorders=dict(cls=dict(type='ModuleOutputs', source='bbox_head.retina_cls')),
        distill_losses={
            # sigmoid head: one Bernoulli per class and anchor, no z-score (it would erase
            # the objectness that the shared offset of an anchor's logits carries)
            f'loss_atf{i}':
            dict(
                type='AlphaDivergenceLoss',
                alpha=0.5,
                tau=1.0,
                kind='bernoulli',
                normalize=None,
                loss_weight=10,
                num_classes=None)  # the data set's fragment sets it
            for i in range(atf_head_levels)
        },
        loss_forward_mappings={
            f'loss_atf{i}':
            dict(
                preds_S=dict(from_student=True, recorder='cls', record_idx=i),
                preds_T=dict(from_student=False, recorder='cls', record_idx=i))
            for i in range(atf_head_levels)
        }))
