# CIFAR-100 distillation, ResNet-50 -> ResNet-18 (CIFAR stems), on MMPretrain's CIFAR-100
# data and 200-epoch schedule. The teacher is MMPretrain's released CIFAR-100 ResNet-50
# (79.9 top-1 in its model zoo). Recorders: the last stage (4x4 maps, with a 1x1 connector
# on the student) and the logits. Configs that inherit set the losses.
_base_ = [
    'mmpretrain::_base_/datasets/cifar100_bs16.py',
    'mmpretrain::_base_/schedules/cifar10_bs128.py', 'mmpretrain::_base_/default_runtime.py'
]
custom_imports = dict(imports=['sokd_mmdet'], allow_failed_imports=False)
teacher_ckpt = 'https://download.openmmlab.com/mmclassification/v0/resnet/resnet50_b16x8_cifar100_20210528-67b58a1b.pth'  # noqa: E501
teacher_channels, student_channels = 2048, 512  # the last stage's (ResNet-50, ResNet-18)
student_model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    backbone=dict(type='ResNet_CIFAR', depth=18, num_stages=4, out_indices=(3, ), style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=student_channels,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
teacher_model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    backbone=dict(type='ResNet_CIFAR', depth=50, num_stages=4, out_indices=(3, ), style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=teacher_channels,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
model = dict(
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        num_classes=100,
        mean=[129.304, 124.070, 112.434],
        std=[68.170, 65.392, 70.418],
        to_rgb=False),
    architecture=student_model,
    teacher=teacher_model,
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            bb=dict(type='ModuleOutputs', source='backbone.layer4'),
            fc=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            bb=dict(type='ModuleOutputs', source='backbone.layer4'),
            fc=dict(type='ModuleOutputs', source='head.fc')),
        connectors=dict(
            s_bb=dict(
                type='ConvModuleConnector',
                in_channel=student_channels,
                out_channel=teacher_channels,
                kernel_size=1,
                norm_cfg=dict(type='BN')))))
# MMPretrain's CIFAR-100 ResNet schedule (weight decay 5e-4, LR x0.2 at 60/120/160)
optim_wrapper = dict(optimizer=dict(weight_decay=0.0005))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[60, 120, 160], gamma=0.2)
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
find_unused_parameters = True
# stop at the first NaN/inf loss term, naming it, before a checkpoint is written
default_hooks = dict(finite_loss=dict(type='mmrazor.FiniteLossHook'))
