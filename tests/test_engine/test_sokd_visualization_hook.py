"""SoKDVisualizationHook inside a real Runner; tools/visualize_sokd.py and
tools/dafa_target_shift.py on its checkpoint."""
import glob
import importlib.util
import os.path as osp
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

import sokd_mmdet.engine.hooks.sokd_visualization_hook  # noqa: F401  (registers the hook)
from conftest import ROOT, as_cli, config_path, tiny_options
from sokd_mmdet.engine.hooks.sokd_visualization_hook import SoKDVisualizationHook, take_images

SOKD_RETINA = 'quickstart/sokd_cwd_retinanet_r34_r18_shapes.py'
KINDS = ('regions', 'features', 'dafa')


def _tool(name='visualize_sokd'):
    spec = importlib.util.spec_from_file_location(f'tool_{name}',
                                                  osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def trained(tiny_data, tmp_path_factory):
    """Two SoKD iterations with the hook drawing every 2nd; the visualiser's calls."""
    work_dir = str(tmp_path_factory.mktemp('vis_run'))
    cfg = Config.fromfile(config_path(SOKD_RETINA))
    cfg.merge_from_dict(tiny_options(tiny_data, work_dir, iters=2))
    cfg.model.teacher_ckpt = None
    # no evaluation and no policy search: not what is tested here
    cfg.train_cfg.val_interval = 100
    cfg.model.search_begin = 100
    cfg.default_hooks.checkpoint.save_optimizer = False  # the tools read the weights only
    # MMDetection's runtime names its visualiser 'visualizer', and MMEngine hands back the
    # instance of that name an earlier Runner of this process made (writing to that run's
    # folder): a name of this run's own
    cfg.visualizer.name = f'visualizer_{osp.basename(work_dir)}'
    cfg.custom_hooks = [
        dict(type='mmrazor.SoKDVisualizationHook', interval=2, num_images=1, levels=(0, ))
    ]
    runner = Runner.from_cfg(cfg)
    calls = []
    add_image = runner.visualizer.add_image

    def recording_add_image(name, image, step=0):
        calls.append((name, step, image.shape, image.dtype, runner.model.training))
        add_image(name, image, step=step)

    runner.visualizer.add_image = recording_add_image
    runner.train()
    return work_dir, calls


def test_hook_writes_pictures_and_feeds_the_visualiser(trained):
    work_dir, calls = trained
    for kind in KINDS:
        assert osp.isfile(osp.join(work_dir, 'vis', 'iter_2', f'{kind}_img0_lvl0.png'))
    assert not osp.exists(osp.join(work_dir, 'vis', 'iter_1'))
    sokd = [c for c in calls if c[0].startswith('sokd_')]
    # at iteration 2, and not again after training (the last iteration was just drawn)
    assert sorted((name, step) for name, step, *_ in sokd) == sorted(
        (f'sokd_{kind}_img0_lvl0', 2) for kind in KINDS)
    for _, _, shape, dtype, training in sokd:
        assert dtype == np.uint8 and len(shape) == 3 and shape[2] == 3
        assert training  # train mode restored before the pictures are handed over
    # the LocalVisBackend of the default runtime wrote them too
    local = glob.glob(osp.join(work_dir, '*', 'vis_data', 'vis_image', 'sokd_*.png'))
    assert len(local) == len(sokd)


def test_hook_after_train_and_argument_checks():
    hook = SoKDVisualizationHook(interval=10)
    drawn = []
    hook._draw = lambda runner, step, batch: drawn.append(step)
    hook.after_train(SimpleNamespace(iter=7))
    assert drawn == [7]
    with pytest.raises(ValueError, match='interval'):
        SoKDVisualizationHook(interval=0)
    with pytest.raises(TypeError, match='distillation models'):
        hook.before_train(SimpleNamespace(model=torch.nn.Linear(2, 2)))


def test_take_images_collects_across_batches():
    batches = [
        dict(inputs=[torch.zeros(3, 4, 4)] * 2, data_samples=['a', 'b']),
        dict(inputs=torch.ones(2, 3, 4, 4), data_samples=['c', 'd'])
    ]
    taken = take_images(batches, 3)
    assert taken['data_samples'] == ['a', 'b', 'c']
    assert len(taken['inputs']) == 3 and taken['inputs'][2].sum() == 48
    assert take_images([], 2) is None


def test_visualize_tool_draws_a_checkpoint(trained, tiny_data, tmp_path):
    work_dir, _ = trained
    out = str(tmp_path / 'pics')
    opts = as_cli(tiny_options(tiny_data, str(tmp_path)))
    written = _tool().main([
        config_path(SOKD_RETINA),
        osp.join(work_dir, 'iter_2.pth'), '--images', '1', '--levels', '2', '--out-dir', out,
        '--device', 'cpu', '--cfg-options', *opts
    ])
    assert set(written) == {f'{kind}_img0_lvl2' for kind in KINDS}
    assert all(osp.isfile(path) for path in written.values())


def test_visualize_tool_without_dam_and_dafa_draws_the_features(trained, tiny_data, tmp_path,
                                                                capsys):
    work_dir, _ = trained
    out = str(tmp_path / 'pics')
    opts = as_cli(tiny_options(tiny_data, str(tmp_path)))
    written = _tool().main([
        config_path('quickstart/cwd_retinanet_r34_r18_shapes.py'),
        osp.join(work_dir, 'iter_2.pth'), '--images', '1', '--levels', '0', '--out-dir', out,
        '--cfg-options', *opts
    ])
    assert list(written) == ['features_img0_lvl0']
    err = capsys.readouterr().err
    assert 'no DAM (model.distiller.dam)' in err and 'no DAFA' in err


def test_visualize_tool_errors(trained, tmp_path):
    work_dir, _ = trained
    tool, ckpt = _tool(), osp.join(work_dir, 'iter_2.pth')
    with pytest.raises(SystemExit, match='checkpoint .*none.pth does not exist'):
        tool.main([config_path(SOKD_RETINA), str(tmp_path / 'none.pth')])
    with pytest.raises(SystemExit, match='config file .* does not exist'):
        tool.main([str(tmp_path / 'none.py'), ckpt])
    with pytest.raises(SystemExit, match='not a distillation config'):
        tool.main([config_path('quickstart/retinanet_r18_shapes_student.py'), ckpt])


def test_target_shift_tool_measures_every_op_and_level(trained, tiny_data, tmp_path, capsys):
    work_dir, _ = trained
    tool, ckpt = _tool('dafa_target_shift'), osp.join(work_dir, 'iter_2.pth')
    opts = as_cli(tiny_options(tiny_data, str(tmp_path)))
    args = [
        config_path(SOKD_RETINA), ckpt, '--images', '2', '--draws', '2', '--levels', '0', '2',
        '--device', 'cpu', '--cfg-options', *opts
    ]
    rows = tool.main(args)
    ops = ('ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate', 'Cutout', 'Noise',
           'ChannelShuffle', 'ChannelDrop')
    assert set(rows) == {(lv, op) for lv in (0, 2) for op in ops}
    for lv in (0, 2):
        gap = {rows[(lv, op)]['clean'] for op in ops}
        assert len(gap) == 1 and gap.pop() > 0  # one student-teacher gap per level
        assert rows[(lv, 'TranslateX')]['target_move'] > 0
    assert 'move/gap' in capsys.readouterr().out
    assert tool.main(args) == rows  # seeded: the same images (flips) and draws
    # magnitude 0: every op is the identity, nothing moves
    still = tool.main(args[:2] + ['--magnitude', '0'] + args[2:])
    for r in still.values():
        assert r['target_move'] == pytest.approx(0.0, abs=1e-5)  # float32 noise
        assert r['augmented'] == pytest.approx(r['clean'], rel=1e-5)


def test_target_shift_tool_errors(trained, tiny_data, tmp_path):
    work_dir, _ = trained
    tool, ckpt = _tool('dafa_target_shift'), osp.join(work_dir, 'iter_2.pth')
    opts = ['--cfg-options', *as_cli(tiny_options(tiny_data, str(tmp_path)))]
    with pytest.raises(SystemExit, match=r'--magnitude must be in \[0, 1\]'):
        tool.main([config_path(SOKD_RETINA), ckpt, '--magnitude', '2'])
    with pytest.raises(SystemExit, match='has no DAFA policy'):
        tool.main([config_path('quickstart/cwd_retinanet_r34_r18_shapes.py'), ckpt, *opts])
    with pytest.raises(SystemExit, match=r'--levels \[4\]: the model distils levels'):
        tool.main([config_path(SOKD_RETINA), ckpt, '--levels', '4', *opts])


def test_dam_coverage_tool_measures_the_mask_and_every_student(trained, tiny_data, tmp_path,
                                                               capsys):
    work_dir, _ = trained
    tool, ckpt = _tool('dam_coverage'), osp.join(work_dir, 'iter_2.pth')
    opts = as_cli(tiny_options(tiny_data, str(tmp_path)))
    args = [
        config_path(SOKD_RETINA), ckpt, '--images', '2', '--levels', '0', '2', '--device', 'cpu',
        '--student-from', f'same={ckpt}', '--cfg-options', *opts
    ]
    table = tool.main(args)
    assert set(table) == {0, 2}
    for row in table.values():
        assert 0.0 <= row['area'] <= 1.0
        assert row['recall'] is None or 0.0 <= row['recall'] <= 1.0
        assert 0.0 <= row['mass_out'] <= 1.0  # CWD has a temperature: measured
        mine, same = row['checkpoint'], row['same']
        assert mine == same  # the same student read from the same checkpoint
        assert mine['full'] > 0 and mine['masked'] >= 0 and mine['outside'] >= 0
    printed = capsys.readouterr().out
    assert '2 train images' in printed and 'T mass out' in printed
    assert tool.main(args) == table  # seeded: the same images


def test_dam_coverage_tool_errors(trained, tiny_data, teacher_ckpt, tmp_path):
    work_dir, _ = trained
    tool, ckpt = _tool('dam_coverage'), osp.join(work_dir, 'iter_2.pth')
    opts = ['--cfg-options', *as_cli(tiny_options(tiny_data, str(tmp_path)))]
    cfg = config_path(SOKD_RETINA)
    with pytest.raises(SystemExit, match='expected NAME=CHECKPOINT'):
        tool.main([cfg, ckpt, '--student-from', ckpt, *opts])
    with pytest.raises(SystemExit, match="the name 'checkpoint' is taken"):
        tool.main([cfg, ckpt, '--student-from', f'checkpoint={ckpt}', *opts])
    with pytest.raises(SystemExit, match='cwd: checkpoint .*none.pth does not exist'):
        tool.main([cfg, ckpt, '--student-from', f'cwd={tmp_path}/none.pth', *opts])
    with pytest.raises(SystemExit, match='holds no distilled student'):
        tool.main([cfg, ckpt, '--student-from', f'plain={teacher_ckpt}', *opts])
    with pytest.raises(SystemExit, match='has no DAM'):
        tool.main([config_path('quickstart/cwd_retinanet_r34_r18_shapes.py'), ckpt, *opts])
    with pytest.raises(SystemExit, match=r'--levels \[4\]: the model distils levels'):
        tool.main([cfg, ckpt, '--levels', '4', *opts])
    with pytest.raises(SystemExit, match='--images must be >= 1'):
        tool.main([cfg, ckpt, '--images', '0', *opts])
