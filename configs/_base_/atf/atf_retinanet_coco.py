# ATF on COCO (./atf_retinanet.py): its 80 classes, and the pretrained teacher fine-tuned at
# a tenth of the student's learning rate with a warm-up over the first epoch, so that it
# does not chase a student that has not learnt anything yet.
_base_ = ['./atf_retinanet.py']
atf_model = dict(
    distiller=dict(distill_losses={
        f'loss_atf{i}': dict(num_classes=80)
        for i in range(_base_.atf_head_levels)
    }))
atf_teacher_optim = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=0.0001))
# one epoch: COCO train2017's 117,266 images with boxes at the 1x schedule's batch of 16
atf_teacher_warmup_iters = 7330
