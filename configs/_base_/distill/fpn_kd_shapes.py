# Feature distillation of the quickstart detectors on FPN levels P3-P5 (MMRazor's form:
# recorders on `neck`, one loss per level); why not P6/P7: docs/configs.md#fpn-levels
# Configs that inherit set one loss per level: `for i in range(len(_base_.distill_levels))`.
_base_ = [
    '../models/retinanet_shapes.py', '../datasets/shapes_detection.py',
    '../schedules/quickstart.py'
]
custom_imports = dict(imports=['sokd_mmdet'], allow_failed_imports=False)
teacher_ckpt = 'work_dirs/retinanet_r34_shapes_teacher/iter_6000.pth'
# the neck's outputs that are P3-P5: RetinaNet's FPN starts at P3 (stride 8)
distill_levels = (0, 1, 2)
# The base losses of the built-in-data configs, one definition each: the base KD configs
# use them as they are, the SoKD configs wrap the same dicts (SoKDLoss.base_loss). Helpers
# (`_`): a benchmark run's key leaves them out, so that a change of one loss's weight keeps
# the other rows' cached runs. Weights measured on the tuning draw with the pretrained
# regime (docs/benchmark_regime.md).
_shapes_cwd_loss = dict(type='ChannelWiseDivergence', tau=1, loss_weight=50)
_shapes_fitnet_loss = dict(type='L2Loss', loss_weight=20.0, normalize=False, div_element=True)
_shapes_pkd_loss = dict(type='PKDLoss', loss_weight=6)
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
            f'loss_fpn{i}':
            dict(
                preds_S=dict(from_student=True, recorder='fpn', data_idx=level),
                preds_T=dict(from_student=False, recorder='fpn', data_idx=level))
            for i, level in enumerate(distill_levels)
        }))
find_unused_parameters = True
