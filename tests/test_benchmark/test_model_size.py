"""The benchmark's larger setting: R101 -> R50 by --cfg-options, GPU memory, the page."""
import copy
import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmrazor.registry import MODELS

from benchmark.markdown import render_markdown
from benchmark.model_size import DEFAULT_SIZE, resnet_stage_channels, size_label, size_options
from benchmark.planning import plan_run, plan_teacher
from benchmark.scalars import parse_run
from benchmark.summary import summarise
from conftest import ROOT, config_path
from test_report import synthetic

spec = importlib.util.spec_from_file_location('benchmark_tool',
                                              osp.join(ROOT, 'tools', 'benchmark.py'))
benchmark_tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(benchmark_tool)

pytestmark = pytest.mark.usefixtures('one_thread')


def test_resnet_stage_channels():
    assert resnet_stage_channels(18, (1, 2, 3)) == [128, 256, 512]
    assert resnet_stage_channels(34, (0, 1, 2, 3)) == [64, 128, 256, 512]
    assert resnet_stage_channels(50, (1, 2, 3)) == [512, 1024, 2048]
    assert resnet_stage_channels(101, (3, )) == [2048]
    assert resnet_stage_channels(50, (1, ), base_channels=32) == [256]
    with pytest.raises(ValueError, match='no ResNet of depth 20'):
        resnet_stage_channels(20, (1, ))


def _options_dict(options):
    """``--cfg-options`` strings parsed as tools/train.py parses them."""
    parsed = {}
    for opt in options:
        key, value = opt.split('=', 1)
        parsed[key] = DictAction._parse_iterable(value)
    return parsed


def test_default_size_adds_nothing_so_cached_runs_keep_their_keys():
    cfg = Config.fromfile(config_path('quickstart/sokd_cwd_retinanet_r34_r18_shapes.py'))
    assert size_options(cfg.model.to_dict(), DEFAULT_SIZE) == []
    assert size_label(DEFAULT_SIZE) == dict(teacher='R34', student='R18')
    with pytest.raises(ValueError, match="unknown model size 'r152-r50'"):
        size_options(cfg.model.to_dict(), 'r152-r50')


def test_r101_r50_options_build_detectors_whose_fpn_reads_the_backbone():
    """The options turn the quickstart pair into R101 -> R50 that run, with the FPN (and so
    every loss, DAM and head after it) unchanged. The widths stay the configs' (teacher 32
    stem channels, student 16): bottleneck stages of 4x, 8x, 16x and 32x the stem."""
    init_default_scope('mmdet')
    cfg = Config.fromfile(config_path('quickstart/sokd_cwd_retinanet_r34_r18_shapes.py'))
    options = size_options(cfg.model.to_dict(), 'r101-r50')
    assert options == [
        'model.architecture.backbone.depth=50',
        'model.architecture.neck.in_channels=[128,256,512]', 'model.teacher.backbone.depth=101',
        'model.teacher.neck.in_channels=[256,512,1024]'
    ]
    cfg.merge_from_dict(_options_dict(options))
    cfg.model.teacher_ckpt = None
    model = MODELS.build(cfg.model)
    assert (model.architecture.backbone.depth, model.teacher.backbone.depth) == (50, 101)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        feats_s = model.architecture.extract_feat(x)
        feats_t = model.teacher.extract_feat(x)
    assert [tuple(f.shape) for f in feats_s] == [tuple(f.shape)
                                                 for f in feats_t] == [(1, 128, 8, 8),
                                                                       (1, 128, 4, 4),
                                                                       (1, 128, 2, 2),
                                                                       (1, 128, 1, 1),
                                                                       (1, 128, 1, 1)]
    # a plain detector is the teacher or the student, as the caller says
    plain = Config.fromfile(config_path('quickstart/retinanet_r34_shapes_teacher.py'))
    assert size_options(plain.model.to_dict(), 'r101-r50', plain_role='teacher')[0] == \
        'model.backbone.depth=101'
    assert size_options(plain.model.to_dict(), 'r101-r50')[0] == 'model.backbone.depth=50'


def test_large_setting_and_its_own_output(tmp_path):
    args = benchmark_tool.parse_args(['--large'])
    assert args.models == 'r101-r50' and args.img_size == 256 and args.iters == 12000
    assert args.data_seed == 1 and args.pretrain_iters == 2000
    assert args.out == 'work_dirs/benchmark-r101-r50'
    assert args.report == osp.join(ROOT, 'docs', 'benchmark-r101-r50.md')
    args = benchmark_tool.parse_args(['--large', '--img-size', '192', '--out', str(tmp_path)])
    assert args.img_size == 192 and args.out == str(tmp_path)
    args = benchmark_tool.parse_args([])
    assert args.models == DEFAULT_SIZE and args.out == 'work_dirs/benchmark'
    assert args.report == osp.join(ROOT, 'docs', 'benchmark.md') and args.img_size == 128
    args = benchmark_tool.parse_args(['--models', 'r101-r50'])
    assert args.img_size == 128 and args.out == 'work_dirs/benchmark-r101-r50'
    # classification's rows share names with detection's: never the same folder by default
    args = benchmark_tool.parse_args(['--task', 'classification'])
    assert args.out == 'work_dirs/benchmark-classification'
    assert args.report == osp.join(ROOT, 'docs', 'benchmark.md')  # its own section there


@pytest.mark.parametrize('argv, message', [
    (['--quick', '--large'], 'choose one'),
    (['--task', 'classification', '--large'], 'detection settings'),
])
def test_large_setting_errors(argv, message, capsys):
    with pytest.raises(SystemExit):
        benchmark_tool.parse_args(argv)
    assert message in capsys.readouterr().err


def test_runs_and_teacher_of_the_large_setting_get_the_sizes(tmp_path):
    args = benchmark_tool.parse_args(['--models', 'r101-r50', '--out', str(tmp_path)])
    run = plan_run(args, 'sokd_cwd', 0, str(tmp_path / 'data'), dict(checkpoint='teacher.pth'),
                   str(tmp_path / 'run.py'))
    assert 'model.architecture.backbone.depth=50' in run['options']
    assert 'model.teacher.backbone.depth=101' in run['options']
    teacher = plan_teacher(args, str(tmp_path / 'data'), str(tmp_path / 't.py'))
    assert 'model.backbone.depth=101' in teacher['options']
    small = benchmark_tool.parse_args(['--out', str(tmp_path)])
    small_run = plan_run(small, 'sokd_cwd', 0, str(tmp_path / 'data'),
                         dict(checkpoint='teacher.pth'), str(tmp_path / 'run.py'))
    assert not any('depth' in o for o in small_run['options'])
    assert small_run['key'] != run['key']


def test_gpu_memory_is_read_from_the_log_and_shown_with_the_gpu():
    records = [
        dict(step=i, loss=1.0, time=0.5, memory=m)
        for i, m in ((1, 900), (2, 1200), (3, 1100), (4, 1000))
    ]
    records.append({'coco/bbox_mAP': 0.3, 'step': 4})
    parsed = parse_run(records, iters=4, eval_interval=4, warmup=0)
    assert parsed['cost']['gpu_mem_mib'] == 1200
    for rec in records:
        rec.pop('memory', None)
    assert parse_run(records, iters=4, eval_interval=4, warmup=0)['cost']['gpu_mem_mib'] is None

    # on a CPU the page has no GPU column
    results = synthetic()
    page = render_markdown(summarise(results))
    assert 'peak GPU memory (MiB)' not in page
    assert 'GPU: none (the runs trained on the CPU)' in page
    assert 'R34 teacher, R18 students (RetinaNet' in page
    # on a GPU: the column with its ratio, the GPU, the sizes in the teacher row
    gpu = copy.deepcopy(results)
    gpu['machine']['gpu'] = 'NVIDIA H100 80GB HBM3'
    gpu['settings']['models'] = 'r101-r50'
    for run in gpu['runs']:
        run['cost']['gpu_mem_mib'] = dict(
            student=3000.0, cwd=4000.0, sokd_cwd=5000.0)[run['method']]
    page = render_markdown(summarise(gpu))
    assert '| peak GPU memory (MiB) | ratio |' in page
    assert '| 1560 ± 60 | 1.30× | 5000 ± 0 | 1.25× |' in page
    assert 'GPU: NVIDIA H100 80GB HBM3' in page
    assert '| teacher (R101) | 1 |' in page
    assert 'R101 teacher, R50 students' in page and '`--models r101-r50`' in page
