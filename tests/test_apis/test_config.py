"""Early, clear errors for what users get wrong in configs and paths."""

import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from mmrazor.registry import MODELS

from conftest import config_path, tiny_options
from sokd_mmdet.apis import ConfigError, check_config, load_config
from sokd_mmdet.engine import DistillOptimWrapperConstructor

SOKD = 'quickstart/sokd_cwd_retinanet_r34_r18_shapes.py'


def _cfg(tiny_data, tmp_path, name=SOKD, **extra):
    cfg = load_config(config_path(name))
    cfg.merge_from_dict(tiny_options(tiny_data, str(tmp_path), **extra))
    return cfg


def test_missing_config_file():
    with pytest.raises(ConfigError, match='does not exist'):
        load_config('configs/nope.py')


def test_amp_is_applied_to_the_student_optimiser_only():
    amp = 'AmpOptimWrapper' if torch.cuda.is_available() else 'mmrazor.CPUAutocastOptimWrapper'
    cfg = load_config(config_path(SOKD), amp=True)
    assert cfg.optim_wrapper.student.type == amp
    assert cfg.optim_wrapper.policy.type == 'OptimWrapper'
    plain = load_config(config_path('quickstart/cwd_retinanet_r34_r18_shapes.py'), amp=True)
    assert plain.optim_wrapper.type == amp


def test_resume_from_missing_checkpoint(tmp_path):
    with pytest.raises(ConfigError, match='no such checkpoint'):
        load_config(config_path(SOKD), resume=str(tmp_path / 'x.pth'))


def test_valid_paths_pass(tiny_data, tmp_path, teacher_ckpt):
    check_config(_cfg(tiny_data, tmp_path, teacher_ckpt=teacher_ckpt))


@pytest.mark.parametrize('key,value,message', [
    ('train_dataloader.dataset.data_root', '/nonexistent/', 'train data root'),
    ('val_dataloader.dataset.ann_file', 'annotations/missing.json', 'val annotation file'),
    ('train_dataloader.dataset.data_prefix.img', 'nope/', 'train image folder'),
    ('model.teacher_ckpt', '/nonexistent/teacher.pth', 'teacher checkpoint'),
])
def test_missing_paths_are_named(tiny_data, tmp_path, key, value, message):
    cfg = _cfg(tiny_data, tmp_path)
    cfg.merge_from_dict({key: value})
    with pytest.raises(ConfigError, match=message):
        check_config(cfg)


def test_remote_teacher_checkpoint_is_not_checked_locally(tiny_data, tmp_path):
    cfg = _cfg(tiny_data, tmp_path)
    cfg.model.teacher_ckpt = 'https://example.org/teacher.pth'
    check_config(cfg)


def test_missing_pretrained_backbone_names_the_command_that_makes_it(tiny_data, tmp_path,
                                                                     teacher_ckpt):
    # the quickstart configs as they are: the student's backbone loads what
    # `tools/train.py configs/pretrain/resnet18-w16_shapes-cls64.py` writes
    cfg = load_config(config_path(SOKD))
    opts = tiny_options(tiny_data, str(tmp_path), teacher_ckpt=teacher_ckpt)
    cfg.merge_from_dict({k: v for k, v in opts.items() if not k.endswith('init_cfg')})
    key = 'model.architecture.backbone.init_cfg'
    with pytest.raises(ConfigError) as err:
        check_config(cfg)
    assert str(err.value) == (
        f'pretrained weights work_dirs/resnet18-w16_shapes-cls64/iter_2000.pth ({key}) do not '
        'exist. Pretrain it with `python tools/train.py '
        'configs/pretrain/resnet18-w16_shapes-cls64.py`, or set '
        f'{key}.checkpoint=PATH, or {key}=None to train from scratch.')
    # testing loads no init_cfg weights; the teacher's come from teacher_ckpt, not its init
    check_config(cfg, splits=('test', ))
    weights = tmp_path / 'student_backbone.pth'
    torch.save({}, weights)
    cfg.merge_from_dict({key + '.checkpoint': str(weights)})
    check_config(cfg)
    # a path no pretraining config writes: put the weights there
    cfg.merge_from_dict({key + '.checkpoint': str(tmp_path / 'elsewhere' / 'x.pth')})
    with pytest.raises(ConfigError, match=r'do not exist\. Put the weights there'):
        check_config(cfg)
    # a plain detector (the teacher config) is checked as well
    teacher = load_config(config_path('quickstart/retinanet_r34_shapes_teacher.py'))
    teacher.merge_from_dict({k: v for k, v in opts.items() if k.startswith('train_')})
    with pytest.raises(
            ConfigError,
            match=r'resnet34-w32_shapes-cls64/iter_2000\.pth '
            r'\(model\.backbone\.init_cfg\)'):
        check_config(teacher, splits=('train', ))


def _model_cfg(**distiller):
    init_default_scope('mmdet')
    cfg = Config.fromfile(config_path(SOKD))
    cfg.model.teacher_ckpt = None
    cfg.model.distiller.update(distiller)
    return cfg.model


def test_recorder_source_that_does_not_exist():
    model = _model_cfg(student_recorders=dict(fpn=dict(type='ModuleOutputs', source='neck.nope')))
    with pytest.raises(AssertionError, match='neck.nope'):
        MODELS.build(model)


def test_unknown_augmentation_op():
    model = _model_cfg(dafa=dict(type='DAFA', ops=('Rotate', 'Sepia')))
    with pytest.raises(ValueError, match='Sepia'):
        MODELS.build(model)


def test_channel_mismatch_without_connector_names_the_fix(tiny_data, tmp_path):
    torch.manual_seed(0)
    cfg = Config.fromfile(config_path(SOKD))
    cfg.model.teacher_ckpt = None
    cfg.model.architecture.neck.out_channels = 64
    cfg.model.architecture.bbox_head.in_channels = 64
    cfg.model.architecture.bbox_head.feat_channels = 64
    model = MODELS.build(cfg.model)
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(64, 64),
            pad_shape=(64, 64),
            batch_input_shape=(64, 64),
            scale_factor=(1., 1.)))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[5., 5., 30., 30.]]), labels=torch.tensor([0]))
    with pytest.raises(ValueError, match='64 channels but preds_T has 128.*connector'):
        model.loss(torch.rand(1, 3, 64, 64), [sample])


def test_policy_optimiser_missing_from_optim_wrapper():
    model = MODELS.build(_model_cfg())
    with pytest.raises(KeyError, match="no 'policy' entry"):
        DistillOptimWrapperConstructor(dict(student=dict(optimizer=dict(type='SGD', lr=0.1))))(
            model)
    with pytest.raises(KeyError, match="'student' entry"):
        DistillOptimWrapperConstructor(dict(policy=dict(optimizer=dict(type='SGD', lr=0.1))))
    with pytest.raises(KeyError, match='unexpected optim_wrapper keys'):
        DistillOptimWrapperConstructor(dict(student={}, policy={}, optimizer={}))


def test_optimisers_split_the_parameters():
    model = MODELS.build(_model_cfg())
    wrappers = DistillOptimWrapperConstructor(
        dict(
            student=dict(optimizer=dict(type='SGD', lr=0.1)),
            policy=dict(optimizer=dict(type='Adam', lr=3e-4))))(
                model)
    ids = {
        name: {id(p)
               for g in w.optimizer.param_groups
               for p in g['params']}
        for name, w in wrappers.items()
    }
    dafa = {id(p) for p in model.distiller.dafa.parameters()}
    dam = {id(p) for p in model.distiller.dam.parameters()}
    student = {id(p) for p in model.architecture.parameters()}
    teacher = {id(p) for p in model.teacher.parameters()}
    assert ids['policy'] == dafa
    assert dam | student <= ids['student']
    assert not (ids['student'] & (dafa | teacher))


def test_missing_coco_is_explained_as_coco():
    cfg = load_config(config_path('sokd_retinanet_r101_r50_coco.py'))
    cfg.train_dataloader.dataset.data_root = '/nonexistent/coco/'
    with pytest.raises(ConfigError, match='instances_.*2017.json') as err:
        check_config(cfg)
    assert 'make_shapes_dataset' not in str(err.value)


def test_missing_shapes_data_suggests_the_generator(tiny_data, tmp_path):
    cfg = _cfg(tiny_data, tmp_path)
    cfg.train_dataloader.dataset.data_root = '/nonexistent/shapes/'
    with pytest.raises(ConfigError, match='make_shapes_dataset.py --out /nonexistent/shapes'):
        check_config(cfg)


def test_optimiser_entries_follow_the_learned_parts():
    """A trainable teacher needs its own entry; an entry for a missing part is refused."""
    model = MODELS.build(_model_cfg())
    with pytest.raises(KeyError, match="'augmenter' entry but the model has no trainable"):
        DistillOptimWrapperConstructor(
            dict(
                student=dict(optimizer=dict(type='SGD', lr=0.1)),
                policy=dict(optimizer=dict(type='Adam', lr=3e-4)),
                augmenter=dict(optimizer=dict(type='Adam', lr=1e-3))))(
                    model)
    for p in model.teacher.parameters():
        p.requires_grad_(True)
    with pytest.raises(KeyError, match="has a teacher .* no 'teacher' entry"):
        DistillOptimWrapperConstructor(
            dict(
                student=dict(optimizer=dict(type='SGD', lr=0.1)),
                policy=dict(optimizer=dict(type='Adam', lr=3e-4))))(
                    model)
    wrappers = DistillOptimWrapperConstructor(
        dict(
            student=dict(optimizer=dict(type='SGD', lr=0.1)),
            policy=dict(optimizer=dict(type='Adam', lr=3e-4)),
            teacher=dict(optimizer=dict(type='SGD', lr=1e-4))))(
                model)
    ids = {
        name: {id(p)
               for g in w.optimizer.param_groups
               for p in g['params']}
        for name, w in wrappers.items()
    }
    assert ids['teacher'] == {id(p) for p in model.teacher.parameters()}
    assert not (ids['teacher'] & (ids['student'] | ids['policy']))
    assert wrappers['teacher'].get_lr()['lr'] == [1e-4]
