# Distillation of the built-in classification student (MMRazor's form): recorders on the last
# backbone stage (4x4 maps) and on the classifier's logits; a connector lifts the student's
# channels to the teacher's. Configs that inherit set the losses and their mappings.
_base_ = [
    '../models/resnet_cifar_shapes.py', '../datasets/shapes_classification.py',
    '../schedules/quickstart_cls.py'
]
custom_imports = dict(imports=['sokd_mmdet'], allow_failed_imports=False)
teacher_ckpt = 'work_dirs/resnet34-w16_cifar_shapes_teacher/iter_400.pth'
model = dict(
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    architecture={{_base_.student_model}},
    teacher={{_base_.teacher_model}},
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
                in_channel={{_base_.student_channels}},
                out_channel={{_base_.teacher_channels}},
                kernel_size=1,
                norm_cfg=dict(type='BN')))))
# top-1 of the student and of the teacher at every validation
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
find_unused_parameters = True
