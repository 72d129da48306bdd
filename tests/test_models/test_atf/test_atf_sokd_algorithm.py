"""ATF + SoKD on a tiny RetinaNet pair: the teacher's head (and only it) is fine-tuned, the
student's and the policy's steps are SoKD's, and DAFA never refines the logits ATF adapts."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapperDict, build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmrazor.registry import MODELS

from conftest import config_path, shrink_retinanet, tiny_options
from sokd_mmdet.models.atf import anchor_class_logits, bernoulli_alpha_divergence

ATF_SOKD = 'quickstart/atf_sokd_cwd_retinanet_r34_r18_shapes.py'
IMG = 64
WIDTH = 8  # ResNet base channels: stages of 8/16/32/64, FPN and head of 16

pytestmark = pytest.mark.usefixtures('one_thread')


def _config(tiny_data, tmp_path, **model):
    init_default_scope('mmdet')
    cfg = Config.fromfile(config_path(ATF_SOKD))
    cfg.merge_from_dict(tiny_options(tiny_data, str(tmp_path)))
    cfg.train_dataloader.dataset.pipeline[2].scale = (IMG, IMG)
    cfg.model.teacher_ckpt = None
    shrink_retinanet(cfg.model.architecture, WIDTH)
    shrink_retinanet(cfg.model.teacher, WIDTH)
    cfg.model.distiller.dam.update(in_channels=2 * WIDTH, feat_channels=WIDTH)
    # ops nearly always applied, so that a refined record differs from the original
    cfg.model.distiller.dafa.update(init_prob=0.95, init_magnitude=0.5)
    cfg.optim_wrapper.teacher.optimizer.lr = 1e-3  # one teacher step plainly visible
    cfg.model.update(model)
    return cfg


def _build(cfg):
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


@pytest.fixture(scope='module')
def batch(tiny_data, tmp_path_factory):
    cfg = _config(tiny_data, tmp_path_factory.mktemp('atf_sokd'))
    return next(iter(Runner.build_dataloader(cfg.train_dataloader, seed=0)))


def _snapshot(module):
    return {n: t.detach().clone() for n, t in module.state_dict().items()}


def _changed(before, module):
    return {n for n, t in module.state_dict().items() if not torch.equal(before[n], t)}


def test_only_the_teacher_head_is_trainable(tiny_data, tmp_path):
    model, optim = _build(_config(tiny_data, tmp_path))
    trainable = {n.split('.')[0] for n, p in model.teacher.named_parameters() if p.requires_grad}
    assert trainable == {'bbox_head'}
    # the teacher optimiser holds the head's parameters; the student's none of the teacher's
    teacher_params = {
        id(p)
        for g in optim['teacher'].param_groups
        for p in g['params'] if p.requires_grad
    }
    assert teacher_params == {id(p) for p in model.teacher.bbox_head.parameters()}
    student_params = {id(p) for g in optim['student'].param_groups for p in g['params']}
    assert not student_params & {id(p) for p in model.teacher.parameters()}


def test_step_fine_tunes_the_head_and_leaves_the_student_step_as_sokd(tiny_data, tmp_path, batch):
    model, optim = _build(_config(tiny_data, tmp_path))
    teacher, student = _snapshot(model.teacher), _snapshot(model.architecture)
    policy = _snapshot(model.distiller.dafa)
    log = model.train_step(copy.deepcopy(batch), optim)
    moved = _changed(teacher, model.teacher)
    assert {'bbox_head.retina_cls.weight', 'bbox_head.retina_reg.weight'} <= moved
    assert all(n.startswith('bbox_head.') for n in moved)  # backbone, neck, BN stats stay
    assert _changed(student, model.architecture)
    assert {'weights', 'probs'} <= _changed(policy, model.distiller.dafa)
    for key in ('teacher.loss', 'teacher.loss_cls', 'teacher.distill.loss_atf0',
                'distill.loss_atf0', 'distill.loss_fpn0_masked', 'policy/reward',
                'student.loss_cls'):
        assert torch.isfinite(torch.as_tensor(log[key])), key

    # the same step without a teacher update: teacher untouched, and the student's and the
    # policy's steps are exactly the same (the teacher moves only after them)
    idle, idle_optim = _build(_config(tiny_data, tmp_path, teacher_begin=10**9))
    idle_log = idle.train_step(copy.deepcopy(batch), idle_optim)
    assert not any(k.startswith('teacher.') for k in idle_log)
    assert not _changed(teacher, idle.teacher)
    for mod, ref in ((idle.architecture, model.architecture), (idle.distiller.dafa,
                                                               model.distiller.dafa)):
        for name, value in _snapshot(mod).items():
            torch.testing.assert_close(value, ref.state_dict()[name], rtol=0, atol=0, msg=name)
    torch.testing.assert_close(idle_log['loss'], log['loss'], rtol=0, atol=0)


def test_teacher_objective_reaches_only_the_head(tiny_data, tmp_path, batch):
    """The teacher's terms: its task loss and D_alpha'(p_S || p_T) on the head's logits,
    with no gradient into the student, the frozen teacher parts or the policy."""
    model, optim = _build(
        _config(
            tiny_data, tmp_path, teacher_alpha=0.8, teacher_weight=0.5, teacher_task_weight=0.25))
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    model._teacher_step = True
    losses = model.loss(data['inputs'], data['data_samples'])
    terms = model._teacher_terms
    assert sorted(k for k in terms
                  if 'distill' in k) == [f'teacher.distill.loss_atf{i}' for i in range(5)]
    teacher_loss = model.parse_losses(dict(terms))[0]
    student_loss = model.parse_losses(losses)[0]
    others = [
        p for n, p in model.named_parameters() if p.requires_grad and not n.startswith('teacher.')
    ]
    assert all(
        g is None
        for g in torch.autograd.grad(teacher_loss, others, allow_unused=True, retain_graph=True))
    head = list(model.teacher.bbox_head.parameters())
    assert all(
        g is None
        for g in torch.autograd.grad(student_loss, head, allow_unused=True, retain_graph=True))
    cls_grad = torch.autograd.grad(
        terms['teacher.distill.loss_atf0'],
        model.teacher.bbox_head.retina_cls.weight,
        retain_graph=True)[0]
    assert cls_grad.abs().sum() > 0  # the divergence reaches the head through live logits
    # the value of level 0 from the recorded (unrefined) logits
    s = model.distiller.get_record(recorder='cls', from_student=True, record_idx=0)
    t = model.distiller.get_record(recorder='cls', from_student=False, record_idx=0)
    expected = 0.5 * 10 * bernoulli_alpha_divergence(
        anchor_class_logits(s, 6), anchor_class_logits(t, 6), 0.8).mean()
    torch.testing.assert_close(
        terms['teacher.distill.loss_atf0'].detach(), expected, rtol=1e-5, atol=0)
    with torch.no_grad():
        task = model.teacher(data['inputs'], data['data_samples'], mode='loss')
    torch.testing.assert_close(
        sum(terms['teacher.loss_cls']).detach(), 0.25 * sum(task['loss_cls']), rtol=1e-5, atol=0)


def test_dafa_refines_features_but_not_the_logits(tiny_data, tmp_path, batch):
    model, _ = _build(_config(tiny_data, tmp_path))
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    model.loss(data['inputs'], data['data_samples'])
    get = model.distiller.get_record
    for i in range(5):
        torch.testing.assert_close(
            get('cls', False, i), get('cls', False, i, augment=False), rtol=0, atol=0)
    refined = get('fpn', False, 0)
    original = get('fpn', False, 0, augment=False)
    assert any(not torch.equal(r, o) for r, o in zip(refined, original))

    # the same distiller without unrefined_recorders, under a frozen-teacher SoKD: DAFA
    # augments the logit maps like any (N, C, H, W) record
    cfg = _config(tiny_data, tmp_path)
    for key in ('teacher_trainable_modules', 'teacher_weight', 'teacher_task_weight',
                'teacher_alpha'):
        cfg.model.pop(key)
    cfg.model.type = 'SoKD'
    cfg.model.teacher_forward = 'loss'
    cfg.model.distiller.unrefined_recorders = ()
    sokd = MODELS.build(cfg.model)
    sokd.train()
    sokd.loss(data['inputs'], data['data_samples'])
    get = sokd.distiller.get_record
    assert any(not torch.equal(get('cls', False, i), get('cls', False, i, augment=False))
               for i in range(5))


def test_teacher_update_schedule_and_resumed_counter(tiny_data, tmp_path, batch):
    model, optim = _build(_config(tiny_data, tmp_path, teacher_interval=2, teacher_begin=1))
    logs = [model.train_step(copy.deepcopy(batch), optim) for _ in range(3)]
    assert ['teacher.loss' in log for log in logs] == [False, True, False]
    assert int(model.train_iter) == 3  # a buffer: checkpointed with the model
    resumed, resumed_optim = _build(
        _config(tiny_data, tmp_path, teacher_interval=2, teacher_begin=1))
    resumed.load_state_dict(model.state_dict())
    assert 'teacher.loss' in resumed.train_step(copy.deepcopy(batch), resumed_optim)


def test_clear_errors(tiny_data, tmp_path, batch):
    cfg = _config(tiny_data, tmp_path)
    with pytest.raises(ValueError, match="'cls' .* is inside the fine-tuned 'bbox_head'"):
        MODELS.build(dict(cfg.model, distiller=dict(cfg.model.distiller, unrefined_recorders=())))
    with pytest.raises(ValueError, match="'fpn' .neck. is inside the fine-tuned 'neck'"):
        MODELS.build(dict(cfg.model, teacher_trainable_modules=('neck', 'bbox_head')))
    with pytest.raises(ValueError, match="the teacher has no module 'head'"):
        MODELS.build(dict(cfg.model, teacher_trainable_modules=('head', )))
    with pytest.raises(ValueError, match='teacher_trainable_modules is empty'):
        MODELS.build(dict(cfg.model, teacher_trainable_modules=()))
    with pytest.raises(ValueError, match='remove teacher_forward'):
        MODELS.build(dict(cfg.model, teacher_forward='loss'))
    with pytest.raises(ValueError, match='unrefined_recorders: .logits. is not a teacher'):
        MODELS.build(
            dict(cfg.model, distiller=dict(cfg.model.distiller, unrefined_recorders=('logits', ))))
    # the backbone feeds the refined FPN records: caught at the first teacher step
    upstream, optim = _build(
        _config(tiny_data, tmp_path, teacher_trainable_modules=('backbone', 'bbox_head')))
    with pytest.raises(
            RuntimeError, match="teacher recorder 'fpn' is computed from the "
            'fine-tuned'):
        upstream.train_step(copy.deepcopy(batch), optim)
    model, optim = _build(cfg)
    with pytest.raises(KeyError, match='ATFSoKD needs an optim_wrapper entry named "teacher"'):
        model.train_step(
            copy.deepcopy(batch),
            OptimWrapperDict(student=optim['student'], policy=optim['policy']))
