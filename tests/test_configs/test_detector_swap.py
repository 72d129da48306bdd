"""What a distillation config ties to its detectors: the FPN outputs it distils, the channels
DAM reads, the teacher's weights. Swapping the detector changes exactly those, nothing else."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.registry import init_default_scope

from conftest import ROOT

SOKD_COCO = {
    'retinanet': 'sokd_retinanet_r101_r50_coco.py',
    'faster-rcnn': 'sokd_faster-rcnn_r101_r50_coco.py'
}
# (config, its FPN's stride at output 0): RetinaNet's FPN starts at P3, Faster R-CNN's at P2
QUICKSTART = [('quickstart/sokd_cwd_retinanet_r34_r18_shapes.py', 8),
              ('quickstart/sokd_cwd_faster-rcnn_r34_r18_shapes.py', 4)]
FPN_DISTILL = [c for c, _ in QUICKSTART] + [
    'quickstart/cwd_retinanet_r34_r18_shapes.py', 'quickstart/fitnet_retinanet_r34_r18_shapes.py',
    'quickstart/pkd_retinanet_r34_r18_shapes.py', *SOKD_COCO.values(),
    *(f'baselines/{loss}_fpn_{det}_r101_r50_coco.py' for loss in ('cwd', 'fitnet', 'pkd')
      for det in ('retinanet', 'faster-rcnn'))
]
# the quickstart teachers and the distillation configs that load their checkpoints
TEACHERS = [('quickstart/retinanet_r34_shapes_teacher.py', QUICKSTART[0][0]),
            ('quickstart/faster-rcnn_r34_shapes_teacher.py', QUICKSTART[1][0])]


def _cfg(name):
    return Config.fromfile(osp.join(ROOT, 'configs', name)).to_dict()


def _drop(cfg, *paths):
    """``cfg`` without the dotted ``paths``, and their values."""
    dropped = {}
    for path in paths:
        *parents, key = path.split('.')
        node = cfg
        for p in parents:
            node = node[p]
        dropped[path] = node.pop(key)
    return cfg, dropped


def _fpn_mappings(cfg):
    """``{loss: data_idx}`` of the losses that read the FPN recorder."""
    levels = {}
    for name, mapping in cfg['model']['distiller']['loss_forward_mappings'].items():
        specs = [spec for spec in mapping.values() if spec.get('recorder') == 'fpn']
        if specs:  # the student's and the teacher's output of the same level
            assert len({spec['data_idx'] for spec in specs}) == 1, mapping
            levels[name] = specs[0]['data_idx']
    return levels


def _neck(detector):
    return get_config(detector['cfg_path']).model.neck if 'cfg_path' in detector \
        else detector['neck']


def test_coco_sokd_swaps_the_detector_by_its_cfg_paths():
    paths = ('model.architecture.cfg_path', 'model.teacher.cfg_path', 'model.teacher_ckpt',
             'teacher_ckpt', 'optim_wrapper.student.optimizer.lr')
    retina, retina_paths = _drop(_cfg(SOKD_COCO['retinanet']), *paths)
    faster, faster_paths = _drop(_cfg(SOKD_COCO['faster-rcnn']), *paths)
    assert retina == faster  # distiller, DAM, losses, policy optimiser, schedule, hooks
    # the student's learning rate is each detector's own, as in its CWD baseline
    for det, found in (('retinanet', retina_paths), ('faster-rcnn', faster_paths)):
        baseline = _cfg(f'baselines/cwd_fpn_{det}_r101_r50_coco.py')
        assert found['optim_wrapper.student.optimizer.lr'] == \
            baseline['optim_wrapper']['optimizer']['lr']
    assert faster_paths['optim_wrapper.student.optimizer.lr'] == 0.02
    assert faster_paths['model.architecture.cfg_path'].startswith('mmdet::faster_rcnn/')
    assert faster_paths['model.teacher.cfg_path'].startswith('mmdet::faster_rcnn/')
    assert faster_paths['model.teacher_ckpt'] == faster_paths['teacher_ckpt']
    assert 'faster_rcnn_r101' in faster_paths['teacher_ckpt']
    assert 'retinanet_r101' in retina_paths['teacher_ckpt']


@pytest.mark.parametrize('loss', ['cwd', 'fitnet', 'pkd'])
def test_coco_baselines_share_their_loss(loss):
    retina, faster = (
        _cfg(f'baselines/{loss}_fpn_{det}_r101_r50_coco.py')['model']['distiller']
        for det in ('retinanet', 'faster-rcnn'))
    if loss == 'pkd':  # MMRazor's PKD weight for each detector
        for det, weight in ((retina, 10), (faster, 6)):
            assert {v.pop('loss_weight') for v in det['distill_losses'].values()} == {weight}
    assert retina == faster


@pytest.mark.parametrize('name', FPN_DISTILL)
def test_one_loss_per_distilled_fpn_output(name):
    cfg = _cfg(name)
    fpn = _fpn_mappings(cfg)
    distiller = cfg['model']['distiller']
    assert set(fpn) <= set(distiller['distill_losses'])
    # the CWD baselines keep MMRazor's five levels; the others name theirs
    assert sorted(fpn.values()) == list(cfg.get('distill_levels', range(5)))
    # the recorded outputs are the neck's, on both sides, and exist
    for side in ('student', 'teacher'):
        assert distiller[f'{side}_recorders']['fpn'] == dict(type='ModuleOutputs', source='neck')
    for detector in ('architecture', 'teacher'):
        assert max(fpn.values()) < _neck(cfg['model'][detector])['num_outs']


@pytest.mark.parametrize('name', [*(c for c, _ in QUICKSTART), *SOKD_COCO.values()])
def test_dam_reads_the_fpn_channels(name):
    cfg = _cfg(name)
    necks = [_neck(cfg['model'][d]) for d in ('architecture', 'teacher')]
    assert cfg['model']['distiller']['dam']['in_channels'] == necks[0]['out_channels'] \
        == necks[1]['out_channels']


@pytest.mark.parametrize('name, first_stride', QUICKSTART)
def test_quickstart_distils_p3_to_p5(name, first_stride):
    """The outputs the config distils are, in the built student, those of strides 8-32."""
    from mmdet.registry import MODELS
    cfg = Config.fromfile(osp.join(ROOT, 'configs', name))
    init_default_scope('mmdet')
    student = MODELS.build(cfg.model.architecture).eval()
    size = 128
    with torch.no_grad():
        outs = student.extract_feat(torch.zeros(1, 3, size, size))
    assert outs[0].shape[-1] == size // first_stride
    strides = [size // outs[i].shape[-1] for i in sorted(_fpn_mappings(cfg.to_dict()).values())]
    assert strides == [8, 16, 32]


@pytest.mark.parametrize('teacher, distill', TEACHERS)
def test_quickstart_teacher_config_trains_the_teacher_it_loads(teacher, distill):
    teacher_cfg, distill_cfg = _cfg(teacher), _cfg(distill)
    assert teacher_cfg['model'] == distill_cfg['model']['teacher']
    work_dir = osp.join('work_dirs', osp.splitext(osp.basename(teacher))[0])
    last = teacher_cfg['train_cfg']['max_iters']
    assert distill_cfg['model']['teacher_ckpt'] == osp.join(work_dir, f'iter_{last}.pth')
    # iter_<last>.pth is one of the checkpoints the teacher's run writes
    assert last % teacher_cfg['default_hooks']['checkpoint']['interval'] == 0
