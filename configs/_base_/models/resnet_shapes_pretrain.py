# An image classifier around MMDetection's ResNet, so that its backbone's weights load into a
# detector through init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint=...), the
# path torchvision:// weights take. Leaves set the depth and width (base_channels).
depth = 18
width = 64
model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    # the detectors' normalisation (DetDataPreprocessor of configs/_base_/models/*_shapes.py)
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=6,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='mmdet.ResNet',
        depth=depth,
        base_channels=width,
        out_indices=(3, ),
        norm_cfg=dict(type='BN', requires_grad=True),
        style='pytorch',
        init_cfg=None),
    neck=dict(type='GlobalAveragePooling'),
    # ResNet-18/34's last stage has 8x the stem's width
    head=dict(
        type='LinearClsHead',
        num_classes=6,
        in_channels=width * 8,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
