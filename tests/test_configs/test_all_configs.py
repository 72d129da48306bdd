"""Every shipped config parses, and every distillation config builds its model offline."""
import ast
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmrazor.registry import MODELS

from conftest import ROOT, config_path

CONFIGS = sorted(
    osp.relpath(p, osp.join(ROOT, 'configs'))
    for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)
COCO = [c for c in CONFIGS if c.endswith('_coco.py')]
# the benchmark's ablation rows (benchmark/methods.py): each changes its method's config
ABLATIONS = [c for c in CONFIGS if '/ablations/' in c]
# the algorithm a COCO config builds, by its name's prefix (first match)
ALGORITHMS = (('tst_sokd_', 'TSTSoKD'), ('tst_', 'TST'), ('atf_sokd_', 'ATFSoKD'), ('atf_', 'ATF'),
              ('sokd_', 'SoKD'))


def test_there_are_configs_of_every_kind():
    assert {'sokd_retinanet_r101_r50_coco.py', 'sokd_faster-rcnn_r101_r50_coco.py'} <= set(CONFIGS)
    assert len([c for c in COCO if 'baselines/' in c]) == 6
    assert len([c for c in CONFIGS if c.startswith('quickstart/sokd_')]) >= 4


@pytest.mark.parametrize('name', CONFIGS)
def test_config_parses(name):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', name))
    assert 'sokd_mmdet' in cfg.custom_imports.imports
    assert cfg.model.get('type')


@pytest.mark.parametrize('name',
                         [c for c in CONFIGS if 'sokd_' in osp.basename(c) and c not in ABLATIONS])
def test_policy_learning_rate_follows_the_search_length(name):
    # short (built-in data) searches take 10x the research code's policy lr; the long ones
    # (COCO, CIFAR-100, ImageNet) keep it; both from the one definition in _base_/sokd (the
    # ablations that change the policy are checked below)
    cfg = Config.fromfile(osp.join(ROOT, 'configs', name))
    policy = cfg.optim_wrapper.policy
    short = name.startswith(('quickstart/', 'classification/quickstart/'))
    assert policy.optimizer.lr == (3e-3 if short else 3e-4)
    assert policy.optimizer.betas == (0.5, 0.999) and policy.optimizer.weight_decay == 1e-3
    assert policy.paramwise_cfg.custom_keys.magnitudes.decay_mult == 0.0


@pytest.mark.parametrize('name', COCO)
def test_coco_config_builds(name):
    """The COCO configs keep their real (download) initialisation, which build() does not
    run; the model is built with MMRazor exactly as tools/train.py would."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', name))
    assert cfg.train_dataloader.dataset.data_root == 'data/coco/'
    assert cfg.model.teacher_ckpt.startswith('https://download.openmmlab.com/')
    init_default_scope('mmdet')
    cfg.model.teacher_ckpt = None  # no download in tests
    model = MODELS.build(cfg.model)
    algorithm = next((t for p, t in ALGORITHMS if osp.basename(name).startswith(p)),
                     'FpnTeacherDistill')
    assert type(model).__name__ == algorithm
    student, teacher = model.architecture, model.teacher
    assert student.backbone.depth == 50 and teacher.backbone.depth == 101
    assert type(student).__name__ == ('FasterRCNN' if 'faster' in name else 'RetinaNet')
    assert student.backbone.init_cfg['checkpoint'] == 'torchvision://resnet50'
    if 'sokd_' in name:  # SoKD, TST + SoKD and ATF + SoKD
        assert model.distiller.dam is not None and model.distiller.dafa is not None
        assert cfg.model_wrapper_cfg.type == 'mmrazor.DistillDataParallel'
        assert set(cfg.optim_wrapper) >= {'student', 'policy', 'constructor'}
    if algorithm.startswith('TST'):
        assert model.augmenter is not None and 'augmenter' in cfg.optim_wrapper
    if algorithm == 'ATF':
        assert model.teacher_trainable and model.atf_losses
        assert cfg.model_wrapper_cfg.type == 'mmrazor.DistillDataParallel'
        assert set(cfg.optim_wrapper) >= {'student', 'teacher', 'constructor'}
    if algorithm == 'ATFSoKD':  # the head fine-tuned, the features SoKD refines fixed
        assert model.atf_losses and model.distiller.unrefined_recorders == {'cls'}
        assert {n.split('.')[0]
                for n, p in model.teacher.named_parameters() if p.requires_grad} == {'bbox_head'}
        assert set(cfg.optim_wrapper) >= {'student', 'policy', 'teacher', 'constructor'}
        assert set(cfg.param_scheduler) == {'student', 'policy', 'teacher'}
    del model
    torch.cuda.empty_cache() if torch.cuda.is_available() else None


CLASSIFICATION = [
    c for c in CONFIGS if c.startswith(('classification/cifar100/', 'classification/imagenet/'))
]


def test_there_are_classification_configs_of_every_kind():
    for data, pair in (('cifar100', 'resnet50_resnet18_cifar100'), ('imagenet',
                                                                    'resnet34_resnet18_in1k')):
        for method in ('kd', 'fitnet', 'sokd_kd', 'sokd_fitnet'):
            assert f'classification/{data}/{method}_{pair}.py' in CLASSIFICATION


@pytest.mark.parametrize('name', CLASSIFICATION)
def test_classification_config_builds(name):
    """The real classification configs build offline (no teacher download) with MMRazor."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', name))
    assert cfg.model.teacher_ckpt.startswith('https://download.openmmlab.com/')
    init_default_scope('mmpretrain')
    cfg.model.teacher_ckpt = None
    model = MODELS.build(cfg.model)
    student, teacher = model.architecture, model.teacher
    assert type(student).__name__ == type(teacher).__name__ == 'ImageClassifier'
    cifar = 'cifar100' in name
    assert (student.backbone.depth, teacher.backbone.depth) == ((18, 50) if cifar else (18, 34))
    assert student.head.num_classes == teacher.head.num_classes == (100 if cifar else 1000)
    x = torch.rand(2, 3, 32, 32) if cifar else torch.rand(2, 3, 64, 64)
    with torch.no_grad():  # the recorded stage matches what the losses expect
        s_feat, t_feat = student.extract_feat(x)[-1], teacher.extract_feat(x)[-1]
    if 'sokd_' in name:
        assert type(model).__name__ == 'SoKD'
        assert model.distiller.dam.supervision == 'mutual'
        assert model.distiller.dam.heatmap[0].in_channels == t_feat.shape[1]
        assert set(cfg.optim_wrapper) == {'constructor', 'student', 'policy'}
    if 'kd_' in name and 'sokd_fitnet' not in name:
        assert 'loss_kl' in model.distiller.distill_losses
    connectors = model.distiller.connectors
    if cifar:
        assert s_feat.shape[1] == 512 and t_feat.shape[1] == 2048 and 's_bb' in connectors
    else:
        assert s_feat.shape[1] == t_feat.shape[1] == 512


FPN_KD = [c for c in CONFIGS if c.startswith('quickstart/') and '_r34_r18_' in c]


@pytest.mark.parametrize('name', FPN_KD + [c for c in COCO if 'retinanet' in c])
def test_fpn_distillation_levels(name):
    """Built-in data (128-192 px): P3-P5 only, P6/P7 are 2x2/1x1 maps there (outputs 0-2 of
    RetinaNet's FPN, 1-3 of Faster R-CNN's, which starts at P2); COCO: all 5."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', name))
    mappings = cfg.model.distiller.loss_forward_mappings
    fpn = {
        k: next(iter(m.values()))['data_idx']
        for k, m in mappings.items() if 'data_idx' in next(iter(m.values()))
    }  # the neck's outputs, by index
    if name.startswith('quickstart/'):
        levels = [1, 2, 3] if 'faster-rcnn' in name else [0, 1, 2]
    else:
        levels = [0, 1, 2, 3, 4]
    assert sorted(fpn.values()) == levels
    assert set(fpn) <= set(cfg.model.distiller.distill_losses)


def _optimisers(cfg) -> set:
    return set(cfg.optim_wrapper) - {'constructor'}


def _losses(model):
    return model.distiller.distill_losses.values()


def _policy_decay(model, cfg) -> dict:
    """The weight decay that the built policy optimiser gives each DAFA parameter, by name."""
    groups = build_optim_wrapper(model, cfg.optim_wrapper)['policy'].optimizer.param_groups
    decay = {id(p): g['weight_decay'] for g in groups for p in g['params']}
    return {n: decay[id(p)] for n, p in model.distiller.dafa.named_parameters(prefix='')}


# what each ablation changes in the model it builds (or in its optimisers)
# yapf: disable
ABLATION_EFFECT = {
    'quickstart/ablations/sokd_cwd_masked_only.py': lambda m, c: (
        m.distiller.dam is not None
        and all(loss.full_weight == 0.0 and loss.masked_weight == 1.0 for loss in _losses(m))),
    'quickstart/ablations/sokd_cwd_dafa_only.py': lambda m, c: (
        m.distiller.dam is None
        and all((loss.full_weight, loss.masked_weight, loss.align_weight) == (1.0, 0.0, 0.0)
                for loss in _losses(m))),
    'quickstart/ablations/sokd_cwd_dam_only.py': lambda m, c: (
        m.distiller.dafa is None and _optimisers(c) == set(c.param_scheduler) == {'student'}),
    'quickstart/ablations/sokd_cwd_dam_mutual.py': lambda m, c: (
        m.distiller.dam.supervision == 'mutual'),
    'quickstart/ablations/sokd_cwd_dam_gt_heads.py': lambda m, c: (
        all(not loss.gt_to_features for loss in _losses(m))),
    'quickstart/ablations/sokd_cwd_policy_lr3e-4.py': lambda m, c: (
        c.optim_wrapper.policy.optimizer.lr == 3e-4),
    'quickstart/ablations/sokd_cwd_interval1.py': lambda m, c: m.search_interval == 1,
    'quickstart/ablations/sokd_cwd_probs_nodecay.py': lambda m, c: (
        {k: _policy_decay(m, c)[k] for k in ('weights', 'probs', 'magnitudes')}
        == {'weights': 1e-3, 'probs': 0.0, 'magnitudes': 0.0}),
    'quickstart/ablations/sokd_cwd_dam32.py': lambda m, c: (
        m.distiller.dam.heatmap[0].out_channels == 32
        and all(h[0].out_channels == 32 for h in (m.distiller.dam.wh, m.distiller.dam.offset))),
    'quickstart/ablations/sokd_cwd_search_short.py': lambda m, c: (
        (m.search_interval, m.search_end) == (10, 1500)
        and [it for it in range(3000) if m.search_at(it)] == list(range(0, 1500, 10))),
    'quickstart/ablations/sokd_cwd_lean.py': lambda m, c: (
        (m.search_interval, m.search_end, m.distiller.dam.heatmap[0].out_channels)
        == (10, 1500, 32)),
    'quickstart/ablations/atf_cwd_frozen_teacher.py': lambda m, c: m.teacher_end == 0,
    'quickstart/ablations/atf_cwd_head_only.py': lambda m, c: (
        {n.split('.')[0] for n, p in m.teacher.named_parameters() if p.requires_grad}
        == {'bbox_head'}),
    'classification/quickstart/ablations/sokd_kd_dafa_only.py': lambda m, c: (
        m.distiller.dam is None and set(m.distiller.distill_losses) == {'loss_kl'}),
    'classification/quickstart/ablations/sokd_kd_policy_lr3e-4.py': lambda m, c: (
        c.optim_wrapper.policy.optimizer.lr == 3e-4),
    'classification/quickstart/ablations/sokd_kd_dam_only.py': lambda m, c: (
        m.distiller.dafa is None and _optimisers(c) == set(c.param_scheduler) == {'student'}),
}
# yapf: enable


def test_every_ablation_config_is_checked():
    assert len(ABLATIONS) == 16 and set(ABLATION_EFFECT) == set(ABLATIONS)


@pytest.mark.parametrize('name', ABLATIONS)
def test_ablation_config_builds_and_changes_its_method(name):
    """An ablation is a diff against one method's config: it says what it is on its first
    line, inherits that config, and builds a model with the change."""
    path = osp.join(ROOT, 'configs', name)
    with open(path) as f:
        what, inherits = f.read().splitlines()[:2]
    assert what.startswith('# ') and inherits.startswith('_base_ = ')
    (base, ) = ast.literal_eval(inherits.split('=', 1)[1].strip())
    # the method's config, in the folder that holds the ablations folder
    assert base.startswith('../') and '/' not in base[len('../'):]
    assert osp.isfile(osp.join(osp.dirname(path), base))
    cfg = Config.fromfile(path)
    init_default_scope('mmpretrain' if name.startswith('classification/') else 'mmdet')
    cfg.model.teacher_ckpt = None
    model = MODELS.build(cfg.model)
    assert ABLATION_EFFECT[name](model, cfg), name


@pytest.mark.parametrize('base', ['cwd', 'fitnet', 'pkd'])
def test_sokd_wraps_exactly_the_base_loss_it_is_compared_with(base):
    """On the built-in data a SoKD row is compared with its base KD row: both must use the
    same loss at the same weight on every level (one definition, _base_/distill/)."""
    plain = Config.fromfile(config_path(f'quickstart/{base}_retinanet_r34_r18_shapes.py'))
    sokd = Config.fromfile(config_path(f'quickstart/sokd_{base}_retinanet_r34_r18_shapes.py'))
    losses = plain.model.distiller.distill_losses
    wrapped = sokd.model.distiller.distill_losses
    assert sorted(losses) == sorted(wrapped) == [f'loss_fpn{i}' for i in range(3)]
    for name, loss in losses.items():
        assert wrapped[name].type == 'SoKDLoss' and wrapped[name].base_loss == loss
