# CIFAR-style ResNets (3x3 stem, no max-pool) for the 32x32 built-in classification data:
# a ResNet-34 teacher of width 16 and a ResNet-18 student of width 8, from scratch
# (init_cfg=None: nothing to download). Their last stage has 128 and 64 channels, so
# feature distillation needs a connector, as between real teachers and students.
teacher_channels, student_channels = 128, 64  # the last stage's: 8x the width
data_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    num_classes=6,
    mean=[127.5, 127.5, 127.5],
    std=[64.0, 64.0, 64.0],
    to_rgb=True)
teacher_model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ResNet_CIFAR',
        depth=34,
        base_channels=16,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=6,
        in_channels=teacher_channels,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
student_model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        base_channels=8,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=6,
        in_channels=student_channels,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
