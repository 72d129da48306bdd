# Small RetinaNets for the built-in data set. As COCO detectors start from ImageNet weights,
# both backbones start from weights pretrained on the built-in classification data
# (configs/pretrain/, the paths below are where `python tools/train.py configs/pretrain/X.py`
# writes them; init_cfg=None trains from scratch), with the first stage frozen and BN in eval
# mode as mmdet's COCO configs do. The capacity gap, measured in docs/benchmark_regime.md:
# teacher ResNet-34 at half width (32 stem channels), student ResNet-18 at a quarter (16).
# Both FPNs give 128 channels, so no connector is needed.
student_pretrained = 'work_dirs/resnet18-w16_shapes-cls64/iter_2000.pth'
teacher_pretrained = 'work_dirs/resnet34-w32_shapes-cls64/iter_2000.pth'
student_model = dict(
    # built under mmdet's scope, also from inside an mmrazor-scoped distillation model
    _scope_='mmdet',
    type='RetinaNet',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        type='ResNet',
        depth=18,
        base_channels=16,
        num_stages=4,
        out_indices=(1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=student_pretrained)),
    neck=dict(
        type='FPN',
        in_channels=[32, 64, 128],
        out_channels=128,
        start_level=0,
        add_extra_convs='on_input',
        num_outs=5),
    bbox_head=dict(
        type='RetinaHead',
        num_classes=6,
        in_channels=128,
        stacked_convs=2,
        feat_channels=128,
        anchor_generator=dict(
            type='AnchorGenerator',
            octave_base_scale=4,
            scales_per_octave=3,
            ratios=[0.5, 1.0, 2.0],
            strides=[8, 16, 32, 64, 128]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    train_cfg=dict(
        assigner=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=0.5,
            neg_iou_thr=0.4,
            min_pos_iou=0,
            ignore_iof_thr=-1),
        sampler=dict(type='PseudoSampler'),
        allowed_border=-1,
        pos_weight=-1,
        debug=False),
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.05,
        nms=dict(type='nms', iou_threshold=0.5),
        max_per_img=100))

teacher_model = dict(
    student_model,
    backbone=dict(
        student_model['backbone'],
        depth=34,
        base_channels=32,
        init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=teacher_pretrained)),
    neck=dict(student_model['neck'], in_channels=[64, 128, 256]))
