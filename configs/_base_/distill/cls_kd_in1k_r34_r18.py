# ImageNet distillation, ResNet-34 -> ResNet-18, on MMPretrain's ImageNet data and 100-epoch
# schedule, both models from MMPretrain's own configs. The teacher is MMPretrain's released
# ResNet-34 (73.6 top-1 in its model zoo). Recorders: the last stage (7x7 maps, the same
# channels in both: no connector) and the logits. Configs that inherit set the losses.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32.py',
    'mmpretrain::_base_/schedules/imagenet_bs256.py', 'mmpretrain::_base_/default_runtime.py'
]
custom_imports = dict(imports=['sokd_mmdet'], allow_failed_imports=False)
teacher_ckpt = 'https://download.openmmlab.com/mmclassification/v0/resnet/resnet34_8xb32_in1k_20210831-f257d4e6.pth'  # noqa: E501
teacher_channels = 512  # the last stage's, in the ResNet-34 and the ResNet-18 alike
model = dict(
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        num_classes=1000,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    architecture=dict(cfg_path='mmpretrain::resnet/resnet18_8xb32_in1k.py', pretrained=False),
    teacher=dict(cfg_path='mmpretrain::resnet/resnet34_8xb32_in1k.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            bb=dict(type='ModuleOutputs', source='backbone.layer4'),
            fc=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            bb=dict(type='ModuleOutputs', source='backbone.layer4'),
            fc=dict(type='ModuleOutputs', source='head.fc'))))
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
find_unused_parameters = True
# stop at the first NaN/inf loss term, naming it, before a checkpoint is written
default_hooks = dict(finite_loss=dict(type='mmrazor.FiniteLossHook'))
