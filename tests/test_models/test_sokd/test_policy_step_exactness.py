"""SoKD's policy step against brute force, on tiny real detectors in float64.

The outer objective as SoKD defines it, for the draw of one training step (its sub-policy,
apply flags, op parameters, noise fields and DAM masks all fixed):

    f(m) = L_val(theta + delta(grad_theta L_train(theta; m)))

with ``delta(g) = -eta g`` (``virtual_step='sgd'``) or the student optimiser's own update
(``'optimizer'``). The policy step's magnitude gradient must be ``df/dm`` and its RELAX
reward ``f(m)`` minus its baseline; both are compared here with central differences of ``f``
computed from scratch (functional calls of the model's own loss modes).
"""
import copy
import importlib
import os
import random
from contextlib import nullcontext

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmrazor.registry import MODELS
from torch.func import functional_call

from conftest import config_path, shrink_retinanet, tiny_options
from sokd_mmdet.models.sokd.dam import DAM
from sokd_mmdet.models.sokd.policy_step import INNER, OUTER, random_stream
from sokd_mmdet.models.sokd.virtual_steps import optimizer_step

mmcv_nms = importlib.import_module('mmcv.ops.nms')  # the module (mmcv.ops.nms is a function)

RETINA = 'quickstart/sokd_cwd_retinanet_r34_r18_shapes.py'
FASTER = 'quickstart/sokd_cwd_faster-rcnn_r34_r18_shapes.py'
IMG, WIDTH, LR = 64, 8, 0.1
# the GPU check (tools/device_check/run.sh) runs this file with SOKD_TEST_DEVICE=cuda
DEVICE = os.environ.get('SOKD_TEST_DEVICE', 'cpu')
SEED = 1234  # the random stream of the step's passes (Faster R-CNN's samplers)
# (detector, DAM supervision, outer batch, sub-policy): every op in some sub-policy, every
# op with both detectors, both supervisions and both outer batches
CASES = [
    (RETINA, 'gt', 'same', ('TranslateX', 'Rotate')),
    (RETINA, 'gt', 'previous', ('ShearY', 'Noise')),  # (and reward_baseline='before_step')
    (RETINA, 'mutual', 'same', ('ShearX', 'Cutout')),
    (RETINA, 'mutual', 'previous', ('TranslateY', 'ChannelShuffle')),
    (RETINA, 'gt', 'same', ('Noise', 'ChannelDrop')),
    (FASTER, 'gt', 'same', ('Rotate', 'ChannelDrop')),
    (FASTER, 'gt', 'previous', ('Cutout', 'ChannelShuffle')),
    (FASTER, 'mutual', 'same', ('TranslateY', 'Noise')),
    (FASTER, 'mutual', 'previous', ('ShearX', 'ShearY')),
    (FASTER, 'gt', 'same', ('TranslateX', 'ChannelShuffle')),
]

pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(autouse=True)
def float64_nms(monkeypatch):
    """mmcv's CPU nms takes float32 only; Faster R-CNN's proposals (a selection without a
    gradient) are chosen in float32 here, their boxes returned in float64."""
    nms = mmcv_nms.nms

    def nms_any_dtype(boxes, scores, *args, **kwargs):
        dets, keep = nms(boxes.float(), scores.float(), *args, **kwargs)
        return dets.to(boxes.dtype), keep

    monkeypatch.setattr(mmcv_nms, 'nms', nms_any_dtype)


def _shrink_faster_rcnn(detector: dict, width: int) -> None:
    detector['backbone'].update(depth=18, base_channels=width)
    detector['neck'].update(
        in_channels=[width, 2 * width, 4 * width, 8 * width], out_channels=2 * width)
    detector['rpn_head'].update(in_channels=2 * width, feat_channels=2 * width)
    detector['roi_head']['bbox_roi_extractor']['out_channels'] = 2 * width
    detector['roi_head']['bbox_head'].update(in_channels=2 * width, fc_out_channels=4 * width)


def _config(name, tiny_data, tmp_path, supervision, masked_softmax=False, **model):
    init_default_scope('mmdet')
    cfg = Config.fromfile(config_path(name))
    cfg.merge_from_dict(tiny_options(tiny_data, str(tmp_path)))
    cfg.train_dataloader.dataset.pipeline[2].scale = (IMG, IMG)
    cfg.model.teacher_ckpt = None
    shrink = shrink_retinanet if name == RETINA else _shrink_faster_rcnn
    shrink(cfg.model.architecture, WIDTH)
    shrink(cfg.model.teacher, WIDTH)
    cfg.model.distiller.dam.update(
        in_channels=2 * WIDTH, feat_channels=WIDTH, supervision=supervision)
    cfg.model.distiller.dafa.update(init_prob=0.999)  # the forced sub-policy is applied
    for loss in cfg.model.distiller.distill_losses.values():
        loss.masked_softmax = masked_softmax
    # -eta g unless a test names the optimiser's step (the configs take the optimiser's)
    cfg.model.update(dict(dict(virtual_lr=LR, virtual_step='sgd'), **model))
    return cfg


def _setup(name, tiny_data, tmp_path, supervision, ops, **model):
    cfg = _config(name, tiny_data, tmp_path, supervision, **model)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.double().to(DEVICE).train()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    # the pipeline's random flips draw from the global generators: the same batches
    # whatever ran before
    random.seed(0)
    np.random.seed(0)
    batches = iter(Runner.build_dataloader(cfg.train_dataloader, seed=0))
    data = [model.data_preprocessor(next(batches), True) for _ in range(2)]
    for d in data:
        d['inputs'] = d['inputs'].double()
        for s in d['data_samples']:
            s.gt_instances.bboxes = s.gt_instances.bboxes.double()
    dafa = model.distiller.dafa
    k = dafa.sub_policy_index(ops)
    with torch.no_grad():  # the sub-policy k is drawn (softmax weight 1 - 1e-26)
        dafa.weights.fill_(-30.0)
        dafa.weights[k] = 30.0
        dafa.magnitudes[k] = torch.tensor([0.3, 0.4])
    return model, optim['student'], data, k


def _inner_step(model, student_ow, data, outer_batch):
    """The inner forward of a training step (the draw), and the held-out batch if any."""
    held_out = None
    if outer_batch == 'previous':
        prev = data[1]
        model._record_teacher(prev['inputs'], prev['data_samples'])
        held_out = (prev['inputs'], prev['data_samples'], model._teacher_records())
    inputs, samples = data[0]['inputs'], data[0]['data_samples']
    with student_ow.optim_context(model), random_stream(SEED, inputs.device):
        losses = model.loss(inputs, samples)
    dafa = model.distiller.dafa
    assert dafa.last_draw[1].all()  # both ops of the forced sub-policy applied
    return losses, inputs, samples, held_out


def _brute_force(model, student_ow, k, inputs, samples, held_out, virtual_step, h=1e-6):
    """Central differences of f(m) in the two magnitudes of sub-policy k, and f(m) - L_val."""
    dafa = model.distiller.dafa
    theta = model.student_side_parameters()
    step = (
        optimizer_step(student_ow.optimizer, list(theta.values()), student_ow.clip_grad_kwargs)
        if virtual_step == 'optimizer' else (lambda g: [-LR * x for x in g]))
    outer_data = (inputs, samples) if held_out is None else held_out[:2]

    def run(params, mode, data):
        buffers = {n: b.clone() for n, b in model.named_buffers() if not n.startswith('teacher.')}
        with random_stream(SEED, inputs.device):
            out = functional_call(model, {**params, **buffers}, data, {'mode': mode})
        return model.parse_losses(out)[0]

    def l_val(params):
        if held_out is None:
            return run(params, OUTER, outer_data)
        with model._teacher_knowledge(held_out[2]):
            return run(params, OUTER, outer_data)

    def f(m_row):
        with torch.no_grad():
            dafa.magnitudes[k] = m_row
        value = run(dict(theta), INNER, (inputs, samples))
        grads = torch.autograd.grad(value, list(theta.values()), allow_unused=True)
        grads = [torch.zeros_like(p) if g is None else g for p, g in zip(theta.values(), grads)]
        virtual = {n: p.detach() + d.detach() for (n, p), d in zip(theta.items(), step(grads))}
        with torch.no_grad():
            return float(l_val(virtual))

    m0 = dafa.magnitudes[k].detach().clone()
    with model.distiller.hold_masks():
        grad = []
        for i in range(2):
            e = torch.zeros_like(m0)
            e[i] = h
            grad.append((f(m0 + e) - f(m0 - e)) / (2 * h))
        reward = f(m0)
        if model.reward_baseline == 'before_step':
            with torch.no_grad():
                reward -= float(l_val({n: p.detach() for n, p in theta.items()}))
        else:  # the same virtual step on the un-augmented knowledge, its own masks
            with model.distiller.released_masks(), model.distiller.dafa_off():
                value = run(dict(theta), INNER, (inputs, samples))
            grads = torch.autograd.grad(value, list(theta.values()), allow_unused=True)
            grads = [
                torch.zeros_like(p) if g is None else g for p, g in zip(theta.values(), grads)
            ]
            virtual = {n: p.detach() + d.detach() for (n, p), d in zip(theta.items(), step(grads))}
            with torch.no_grad():
                reward -= float(l_val(virtual))
    with torch.no_grad():
        dafa.magnitudes[k] = m0
    return torch.tensor(grad, dtype=torch.float64), reward


def _policy_step(model, student_ow, data, outer_batch):
    losses, inputs, samples, held_out = _inner_step(model, student_ow, data, outer_batch)
    loss = model.parse_losses(losses)[0]
    (grad_m, reward), _, _ = model._policy_gradient(loss, losses, inputs, samples, student_ow,
                                                    held_out, SEED)
    return grad_m, reward, (inputs, samples, held_out)


@pytest.mark.parametrize('name,supervision,outer_batch,ops', CASES)
def test_policy_step_equals_brute_force(name, supervision, outer_batch, ops, tiny_data, tmp_path):
    baseline = 'before_step' if ops == ('ShearY', 'Noise') else 'unaugmented_step'
    model, student_ow, data, k = _setup(
        name,
        tiny_data,
        tmp_path,
        supervision,
        ops,
        outer_batch=outer_batch,
        reward_baseline=baseline)
    grad_m, reward, (inputs, samples, held_out) = _policy_step(model, student_ow, data,
                                                               outer_batch)
    # only the drawn sub-policy's magnitudes get a gradient
    others = torch.ones_like(grad_m, dtype=torch.bool)
    others[k] = False
    assert (grad_m[others] == 0).all()
    brute, brute_reward = _brute_force(model, student_ow, k, inputs, samples, held_out, 'sgd')
    assert brute.abs().min() > 1e-6, brute  # a real signal in both magnitudes
    # Faster R-CNN: MMDetection detaches the RPN's proposals, so autograd (and the policy
    # step) treats their boxes as constants while the brute force moves them with theta';
    # with the proposals held, the two agree as closely as for RetinaNet (next test)
    rtol = 1e-4 if name == RETINA else 0.05
    torch.testing.assert_close(grad_m[k], brute, rtol=rtol, atol=1e-9)
    assert reward == pytest.approx(brute_reward, rel=1e-6, abs=1e-12)


def test_policy_step_with_the_mask_aware_cwd_equals_brute_force(tiny_data, tmp_path):
    """SoKDLoss(masked_softmax=True): CWD's softmax over DAM's masked positions only."""
    model, student_ow, data, k = _setup(
        RETINA, tiny_data, tmp_path, 'gt', ('ShearX', 'ChannelDrop'), masked_softmax=True)
    assert all(m.masked_softmax for m in model.distiller.distill_losses.values())
    grad_m, reward, (inputs, samples, held_out) = _policy_step(model, student_ow, data, 'same')
    brute, brute_reward = _brute_force(model, student_ow, k, inputs, samples, held_out, 'sgd')
    assert brute.abs().min() > 1e-6, brute
    torch.testing.assert_close(grad_m[k], brute, rtol=1e-4, atol=1e-9)
    assert reward == pytest.approx(brute_reward, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize('outer_batch,ops', [('same', ('Rotate', 'ChannelDrop')),
                                             ('previous', ('Cutout', 'ChannelShuffle'))])
def test_faster_rcnn_with_proposals_held_equals_brute_force(outer_batch, ops, tiny_data, tmp_path,
                                                            monkeypatch):
    """The gap of Faster R-CNN above is the proposals' boxes: hold them per batch (the
    first proposals computed for a batch are reused by every pass) and the policy step
    equals the brute force to its noise floor."""
    from mmdet.models.dense_heads import RPNHead
    predict, held = RPNHead.predict_by_feat, {}

    def held_proposals(self, *args, batch_img_metas=None, **kwargs):
        key = tuple(m['img_path'] for m in batch_img_metas)
        if key not in held:
            held[key] = predict(self, *args, batch_img_metas=batch_img_metas, **kwargs)
        return copy.deepcopy(held[key])  # the RoI head pops fields of its input

    monkeypatch.setattr(RPNHead, 'predict_by_feat', held_proposals)
    model, student_ow, data, k = _setup(
        FASTER, tiny_data, tmp_path, 'gt', ops, outer_batch=outer_batch)
    grad_m, reward, (inputs, samples, held_out) = _policy_step(model, student_ow, data,
                                                               outer_batch)
    assert held  # the proposals went through the held path
    brute, brute_reward = _brute_force(model, student_ow, k, inputs, samples, held_out, 'sgd')
    assert brute.abs().min() > 1e-6, brute
    # the brute force's own noise floor on this detector: its steps 1e-5 and 1e-7 move it
    # by up to 1e-2 relative (1e-6: within 1e-3 of the policy step, 1e-3 of the larger entry)
    torch.testing.assert_close(grad_m[k], brute, rtol=1e-3, atol=1e-3 * float(brute.abs().max()))
    assert reward == pytest.approx(brute_reward, rel=1e-6, abs=1e-12)


def test_task_only_outer_objective_equals_brute_force(tiny_data, tmp_path):
    """outer_objective='task': L_val is the student's task loss alone (no base distillation
    term against the teacher); the policy step is still df/dm of that f."""
    model, student_ow, data, k = _setup(
        RETINA,
        tiny_data,
        tmp_path,
        'gt', ('TranslateX', 'Cutout'),
        outer_objective='task',
        reward_baseline='before_step')
    losses, inputs, samples, _ = _inner_step(model, student_ow, data, 'same')
    theta = model.student_side_parameters()
    buffers = {n: b.clone() for n, b in model.named_buffers() if not n.startswith('teacher.')}
    with torch.no_grad(), random_stream(SEED, inputs.device):
        outer = functional_call(model, {**theta, **buffers}, (inputs, samples), {'mode': OUTER})
    assert set(outer) == {k for k in losses if k.startswith('student.')}  # the task alone
    task = model.parse_losses({k: v for k, v in losses.items() if k.startswith('student.')})[0]
    assert model.parse_losses(outer)[0].item() == pytest.approx(task.item(), rel=1e-12)
    loss = model.parse_losses(losses)[0]
    (grad_m, reward), log, _ = model._policy_gradient(loss, losses, inputs, samples, student_ow,
                                                      None, SEED)
    # the reward's baseline (reward_baseline='before_step') is the task loss before the step
    assert log['policy/outer_before'].item() == pytest.approx(task.item(), rel=1e-12)
    brute, brute_reward = _brute_force(model, student_ow, k, inputs, samples, None, 'sgd')
    assert brute.abs().min() > 1e-9, brute  # the task loss alone still moves with m
    torch.testing.assert_close(grad_m[k], brute, rtol=1e-4, atol=1e-12)
    assert reward == pytest.approx(brute_reward, rel=1e-6, abs=1e-14)


def test_optimizer_virtual_step_equals_brute_force(tiny_data, tmp_path):
    """virtual_step='optimizer': the student's AdamW update, from its state after one real
    step, and its gradient clipping (max_norm 10, active here)."""
    model, student_ow, data, k = _setup(
        RETINA,
        tiny_data,
        tmp_path,
        'gt', ('Rotate', 'ChannelDrop'),
        virtual_step='optimizer',
        virtual_lr=None)
    with student_ow.optim_context(model):
        loss = model.parse_losses(model.loss(data[1]['inputs'], data[1]['data_samples']))[0]
    student_ow.update_params(loss)  # AdamW now has moments and a step count
    assert student_ow.clip_grad_kwargs['max_norm'] == 10
    grad_m, _, (inputs, samples, held_out) = _policy_step(model, student_ow, data, 'same')
    brute, _ = _brute_force(model, student_ow, k, inputs, samples, held_out, 'optimizer')
    assert brute.abs().min() > 1e-9, brute
    torch.testing.assert_close(grad_m[k], brute, rtol=1e-4, atol=1e-12)


@pytest.mark.parametrize('name,supervision,outer_batch,ops', [CASES[0], CASES[8]])
def test_recomputed_product_is_the_exact_one(name, supervision, outer_batch, ops, tiny_data,
                                             tmp_path, monkeypatch):
    """hvp='exact_recompute': the exact product from a new pass of the distillation terms
    (the inner graph is not kept through the outer pass) is the kept graph's, on one draw,
    and the brute force's; its pass runs the student's features only, with their graph."""
    model, student_ow, data, k = _setup(
        name, tiny_data, tmp_path, supervision, ops, outer_batch=outer_batch)
    losses, inputs, samples, held_out = _inner_step(model, student_ow, data, outer_batch)
    loss = model.parse_losses(losses)[0]
    # 'exact' keeps the inner graph, so the same draw can then be differentiated again
    (exact, reward), _, _ = model._policy_gradient(loss, losses, inputs, samples, student_ow,
                                                   held_out, SEED)
    modes = []
    forward = type(model).forward

    def counted(self, *args, mode='tensor', **kwargs):
        modes.append(mode)
        return forward(self, *args, mode=mode, **kwargs)

    monkeypatch.setattr(type(model), 'forward', counted)
    model.hvp = 'exact_recompute'
    (recomputed, reward2), _, _ = model._policy_gradient(loss, losses, inputs, samples, student_ow,
                                                         held_out, SEED)
    assert modes.count('sokd_inner_distill_graph') == 1
    assert exact[k].abs().min() > 1e-6
    torch.testing.assert_close(recomputed, exact, rtol=1e-9, atol=1e-12)
    assert reward2 == reward
    if name == RETINA:  # (Faster R-CNN's proposals: the gap of the test above)
        brute, _ = _brute_force(model, student_ow, k, inputs, samples, held_out, 'sgd')
        torch.testing.assert_close(recomputed[k], brute, rtol=1e-4, atol=1e-9)


def test_no_pass_of_the_policy_step_rebuilds_a_discrete_choice(tiny_data, tmp_path, monkeypatch):
    """DAM's masks and the ops' random draws come from the inner forward only; the reward's
    un-augmented baseline decodes its own masks once (DAFA off: no op is drawn)."""
    model, student_ow, data, _ = _setup(RETINA, tiny_data, tmp_path, 'gt',
                                        ('Cutout', 'ChannelShuffle'))
    calls = {'masks': 0, 'sample': 0}

    def counted(key, fn):

        def wrapper(*args, **kwargs):
            calls[key] += 1
            return fn(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(DAM, 'masks', counted('masks', DAM.masks))
    for op in model.distiller.dafa.feature_ops:  # the ops' random draws
        monkeypatch.setattr(op, 'sample', counted('sample', op.sample))
    levels = len(model.distiller.loss_forward_mappings)

    def loss_of(losses):
        return model.parse_losses(losses)[0]

    for hvp in ('exact', 'exact_recompute', 'finite_difference'):
        for baseline, rebuilt in (('before_step', 0), ('unaugmented_step', levels)):
            # a fresh draw each time: without the exact product the policy step frees the
            # inner forward's graph (the student's update reuses its gradient)
            before = dict(calls)
            losses, inputs, samples, _ = _inner_step(model, student_ow, data, 'same')
            assert calls['masks'] == before['masks'] + levels  # one per level
            # one draw per op
            assert calls['sample'] == before['sample'] + len(model.distiller.dafa.feature_ops)
            held = {n: m.last_mask.clone() for n, m in model.distiller.distill_losses.items()}
            model.hvp, model.reward_baseline = hvp, baseline
            before = dict(calls)
            model._policy_gradient(
                loss_of(losses), losses, inputs, samples, student_ow, None, SEED)
            assert calls == dict(before, masks=before['masks'] + rebuilt), (hvp, baseline)
            for name, module in model.distiller.distill_losses.items():
                assert torch.equal(module.last_mask, held[name])  # the draw's, afterwards
    # the check can fail: with the masks no longer held, the passes rebuild them
    monkeypatch.setattr(type(model.distiller), 'hold_masks', lambda self: nullcontext())
    model.reward_baseline = 'before_step'
    losses, inputs, samples, _ = _inner_step(model, student_ow, data, 'same')
    before = dict(calls)
    model._policy_gradient(loss_of(losses), losses, inputs, samples, student_ow, None, SEED)
    assert calls['masks'] > before['masks']
