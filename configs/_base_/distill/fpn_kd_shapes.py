# Feature distillation on the 5 FPN levels for the quickstart detectors (MMRazor's form:
# recorders on `neck`, one loss per level). Configs that inherit set `distill_losses`.
_base_ = [
    '../models/retinanet_shapes.py', '../datasets/shapes_detection.py',
    '../schedules/quickstart.py'
]
custom_imports = dict(imports=['sokd_mmdet'], allow_failed_imports=False)
teacher_ckpt = 'work_dirs/retinanet_r34_shapes_teacher/iter_600.pth'
fpn_levels = 5
model = dict(
    _scope_='mmrazor',
    type='FpnTeacherDistill',
    architecture={{_base_.student_model}},
    teacher={{_base_.teacher_model}},
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        teacher_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck')),
        loss_forward_mappings={
            f'loss_fpn{i}': dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=i),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=i))
            for i in range(fpn_levels)
        }))
find_unused_parameters = True
