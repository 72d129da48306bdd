"""End to end through the tools: train a few iterations, checkpoint, resume, evaluate."""
import glob
import importlib.util
import os.path as osp

import pytest
import torch

from conftest import ROOT, as_cli, config_path, tiny_options


def _tool(name):
    spec = importlib.util.spec_from_file_location(f'tool_{name}',
                                                  osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


train_tool, test_tool, export_tool = _tool('train'), _tool('test'), _tool('export_student')


def _load(path):
    return torch.load(path, map_location='cpu', weights_only=True)


def _train_resume_test(cfg_name, tiny_data, teacher_ckpt, work_dir, **extra):
    cfg = config_path(cfg_name)
    opts = tiny_options(tiny_data, work_dir, iters=2, teacher_ckpt=teacher_ckpt)
    opts.update(extra)
    train_tool.main([cfg, '--cfg-options', *as_cli(opts)])
    first = osp.join(work_dir, 'iter_2.pth')
    assert osp.isfile(first)
    opts.update({
        'train_cfg.max_iters': 3,
        'train_cfg.val_interval': 3,
        'default_hooks.checkpoint.interval': 3
    })
    runner = train_tool.main([cfg, '--resume', first, '--cfg-options', *as_cli(opts)])
    assert runner.iter == 3
    last = osp.join(work_dir, 'iter_3.pth')
    ckpt = _load(last)
    assert ckpt['meta']['iter'] == 3
    metrics = test_tool.main([cfg, last, '--teacher', '--cfg-options', *as_cli(opts)])
    for prefix in ('', 'teacher/'):
        for key in ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s', 'bbox_mAP_m',
                    'bbox_mAP_l'):
            value = metrics[f'{prefix}coco/{key}']
            assert value == -1 or 0.0 <= value <= 1.0  # -1: no object of that size
    return _load(first), ckpt


def test_base_kd_train_resume_evaluate(tiny_data, teacher_ckpt, tmp_path):
    first, last = _train_resume_test('quickstart/cwd_retinanet_r34_r18_shapes.py', tiny_data,
                                     teacher_ckpt, str(tmp_path))
    teacher = {k: v for k, v in last['state_dict'].items() if k.startswith('teacher.')}
    saved = _load(teacher_ckpt)['state_dict']
    assert teacher and all(torch.equal(v, saved[k[len('teacher.'):]]) for k, v in teacher.items())


def test_sokd_train_resume_evaluate(tiny_data, teacher_ckpt, tmp_path):
    # a policy step every iteration (the config takes one every 5th), so that the resumed
    # iteration takes one too
    first, last = _train_resume_test('quickstart/sokd_cwd_retinanet_r34_r18_shapes.py', tiny_data,
                                     teacher_ckpt, str(tmp_path), **{'model.search_interval': 1})
    state = last['state_dict']
    # the policy moved away from its initialisation (equal weights, p = m = 0.5)
    assert state['distiller.dafa.weights'].abs().max() > 0
    assert (state['distiller.dafa.probs'] - 0.5).abs().max() > 0
    # both optimisers and the sampling generator are in the checkpoint
    assert set(last['optimizer']) == {'student', 'policy'}
    assert 'distiller.dafa._extra_state' in state
    assert int(state['train_iter']) == 3  # the search schedule resumes where it stopped
    # the resumed run continued from the saved policy, it did not restart it
    assert not torch.equal(first['state_dict']['distiller.dafa.weights'],
                           state['distiller.dafa.weights'])
    assert osp.isfile(osp.join(str(tmp_path), 'policy_history.json'))
    assert osp.isfile(osp.join(str(tmp_path), 'policy.png'))
    # resumed with the CWD config by mistake: refused before anything is built
    opts = tiny_options(tiny_data, str(tmp_path / 'cwd'), iters=4, teacher_ckpt=teacher_ckpt)
    with pytest.raises(
            SystemExit,
            match=r"cannot resume from .*iter_3\.pth: it was written "
            r"by a run with optimisers \['policy', 'student'\], and this config "
            r"builds one optimiser"):
        train_tool.main([
            config_path('quickstart/cwd_retinanet_r34_r18_shapes.py'), '--resume',
            osp.join(str(tmp_path), 'iter_3.pth'), '--cfg-options', *as_cli(opts)
        ])

    # the student alone, loaded and run by plain MMDetection with its own config
    from mmdet.apis import inference_detector, init_detector
    student_ckpt = str(tmp_path / 'student.pth')
    export_tool.main([osp.join(str(tmp_path), 'iter_3.pth'), student_ckpt])
    exported = _load(student_ckpt)
    assert set(exported) == {'state_dict', 'meta'}
    assert not any(
        k.startswith(('teacher', 'distiller', 'architecture')) for k in exported['state_dict'])
    detector = init_detector(
        config_path('quickstart/retinanet_r18_shapes_student.py'),
        student_ckpt,
        device='cpu',
        cfg_options={'test_dataloader.dataset.pipeline.1.scale': (128, 128)})
    for name, value in detector.state_dict().items():
        assert torch.equal(value, state[f'architecture.{name}']), name
    result = inference_detector(detector, osp.join(tiny_data, 'val', '000000.png'))
    assert result.pred_instances.bboxes.shape[1] == 4
    assert detector.dataset_meta['classes'][0] == 'circle'


def test_train_tool_reports_a_missing_data_root(tmp_path):
    opts = tiny_options(str(tmp_path / 'nowhere'), str(tmp_path))
    with pytest.raises(SystemExit, match='data root .* does not exist'):
        train_tool.main([
            config_path('quickstart/cwd_retinanet_r34_r18_shapes.py'), '--cfg-options',
            *as_cli(opts)
        ])


def test_train_tool_reports_a_missing_teacher_checkpoint(tiny_data, tmp_path):
    opts = tiny_options(tiny_data, str(tmp_path), teacher_ckpt=str(tmp_path / 'none.pth'))
    with pytest.raises(SystemExit, match='teacher checkpoint .* does not exist'):
        train_tool.main([
            config_path('quickstart/cwd_retinanet_r34_r18_shapes.py'), '--cfg-options',
            *as_cli(opts)
        ])


def test_export_refuses_a_plain_detector_checkpoint(teacher_ckpt, tmp_path):
    with pytest.raises(SystemExit, match='distillation checkpoint'):
        export_tool.main([teacher_ckpt, str(tmp_path / 'x.pth')])


def test_export_never_overwrites_its_input_and_needs_force_for_others(tmp_path):
    src = tmp_path / 'iter_3.pth'
    torch.save({'state_dict': {'architecture.w': torch.ones(1)}, 'meta': {}}, str(src))
    original = src.read_bytes()
    with pytest.raises(SystemExit, match='is the input checkpoint'):
        export_tool.main([str(src), str(src)])
    with pytest.raises(SystemExit, match='is the input checkpoint'):
        export_tool.main([str(src), str(tmp_path / '.' / 'iter_3.pth'), '--force'])
    assert src.read_bytes() == original
    out = tmp_path / 'student.pth'
    out.write_bytes(b'keep me')
    with pytest.raises(SystemExit, match='exists; pass --force'):
        export_tool.main([str(src), str(out)])
    assert out.read_bytes() == b'keep me'
    export_tool.main([str(src), str(out), '--force'])
    assert torch.equal(_load(str(out))['state_dict']['w'], torch.ones(1))


def test_test_tool_refuses_a_checkpoint_of_another_model(tiny_data, teacher_ckpt, tmp_path):
    """A teacher (R34) checkpoint evaluated with the R18 student's config at the teacher's
    width: it fills the R18 completely (the first blocks of each stage), but a third of it
    is not used: refused. (At the student's own width it fills 30%: refused too.)"""
    opts = tiny_options(tiny_data, str(tmp_path))
    opts = {k: v for k, v in opts.items() if not k.startswith('model.')}
    opts.update({'model.backbone.base_channels': 32, 'model.neck.in_channels': '[64,128,256]'})
    with pytest.raises(
            SystemExit,
            match=r'checkpoint .*teacher\.pth holds tensors the '
            r'RetinaNet .* does not have: only \d+\.\d% of them are used'):
        test_tool.main([
            config_path('quickstart/retinanet_r18_shapes_student.py'), teacher_ckpt,
            '--cfg-options', *as_cli(opts)
        ])


def test_sokd_trains_with_amp(tiny_data, teacher_ckpt, tmp_path):
    """--amp: bf16 autocast on the CPU (float16 + loss scaling with CUDA), bi-level step
    included; losses stay finite and the policy still moves."""
    opts = tiny_options(tiny_data, str(tmp_path), iters=2, teacher_ckpt=teacher_ckpt)
    runner = train_tool.main([
        config_path('quickstart/sokd_cwd_retinanet_r34_r18_shapes.py'), '--amp', '--cfg-options',
        *as_cli(opts)
    ])
    student_wrapper = runner.optim_wrapper['student']
    assert type(student_wrapper).__name__ in ('CPUAutocastOptimWrapper', 'AmpOptimWrapper')
    scalars = runner.message_hub.log_scalars
    for key in ('train/loss', 'train/policy/reward', 'train/distill.loss_fpn0_masked'):
        assert torch.isfinite(torch.tensor(scalars[key].current())), key
    dafa = runner.model.distiller.dafa
    assert dafa.weights.detach().abs().max() > 0


@pytest.mark.parametrize('name,lr_key', [
    ('quickstart/cwd_retinanet_r34_r18_shapes.py', 'optim_wrapper.optimizer.lr'),
    ('quickstart/sokd_cwd_retinanet_r34_r18_shapes.py', 'optim_wrapper.student.optimizer.lr'),
])
def test_diverging_run_stops_naming_the_term_without_a_nan_checkpoint(
        name, lr_key, tiny_data, teacher_ckpt, tmp_path):
    """Student lr 1e6: MMRazor's CWD (FiniteLossHook) and SoKD (its own step) both stop at
    the first non-finite term; no checkpoint and no policy history is written after it."""
    opts = tiny_options(tiny_data, str(tmp_path), iters=4, teacher_ckpt=teacher_ckpt)
    clip = lr_key.replace('optimizer.lr', 'clip_grad')
    opts.update({lr_key: 1e6, clip: None, 'default_hooks.checkpoint.interval': 1})
    with pytest.raises(
            FloatingPointError,
            match=r'training stopped at iteration (\d+): '
            r'non-finite loss term\(s\) ') as err:
        train_tool.main([config_path(name), '--cfg-options', *as_cli(opts)])
    stopped = int(str(err.value).split('iteration ')[1].split(':')[0])
    assert stopped >= 2
    saved = sorted(int(osp.basename(p)[5:-4]) for p in glob.glob(str(tmp_path / 'iter_*.pth')))
    assert saved == list(range(1, stopped))  # every checkpoint before the NaN, none after
    for path in saved:
        state = _load(str(tmp_path / f'iter_{path}.pth'))['state_dict']
        assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())
