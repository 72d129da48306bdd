"""A teacher (or evaluated) checkpoint must fill the model it is loaded into."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmrazor.registry import MODELS

from conftest import config_path, shrink_retinanet
from sokd_mmdet.engine import CheckpointCoverageError, load_with_coverage, set_min_coverage


def _detector(depth):
    from mmdet.registry import MODELS as DET
    init_default_scope('mmdet')
    cfg = Config.fromfile(config_path('quickstart/retinanet_r34_shapes_teacher.py')).model
    shrink_retinanet(cfg, 8)
    cfg.backbone.depth = depth
    torch.manual_seed(depth)
    return DET.build(cfg)


def test_full_checkpoint_loads_and_fills_the_model(tmp_path):
    src, dst = _detector(34), _detector(34)
    path = str(tmp_path / 'r34.pth')
    torch.save({'state_dict': src.state_dict(), 'meta': {}}, path)
    load_with_coverage(dst, path)
    for k, v in src.state_dict().items():
        assert torch.equal(dst.state_dict()[k], v), k


def test_other_architecture_is_refused_naming_file_share_and_keys(tmp_path):
    path = str(tmp_path / 'r18.pth')
    torch.save({'state_dict': _detector(18).state_dict()}, path)
    teacher = _detector(34)
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    with pytest.raises(
            CheckpointCoverageError,
            match=r'teacher checkpoint .*r18\.pth fills only \d+\.\d% of the '
            r'RetinaNet .*at least 95% .*missing or of another shape: backbone\.'
            r'.*another architecture.*checkpoint_min_coverage') as err:
        load_with_coverage(teacher, path, what='teacher checkpoint')
    share = float(str(err.value).split('fills only ')[1].split('%')[0])
    assert 30 < share < 95
    assert all(torch.equal(teacher.state_dict()[k], v) for k, v in before.items())
    load_with_coverage(teacher, path, min_coverage=0.0)  # a partial load, asked for


def test_distillation_checkpoint_as_teacher_says_so(tmp_path):
    student = _detector(34)
    path = str(tmp_path / 'sokd.pth')
    torch.save({'state_dict': {f'teacher.{k}': v for k, v in student.state_dict().items()}}, path)
    with pytest.raises(
            CheckpointCoverageError,
            match=r'fills only 0\.0%.*under "teacher\.": '
            r'it is a distillation checkpoint.*export_student'):
        load_with_coverage(_detector(34), path)


def test_mmrazor_teacher_ckpt_goes_through_the_check(tmp_path, tiny_data):
    """MMRazor's SingleTeacherDistill (the base of every distillation algorithm here)."""
    path = str(tmp_path / 'r18.pth')
    cfg = Config.fromfile(config_path('quickstart/cwd_retinanet_r34_r18_shapes.py'))
    init_default_scope('mmdet')
    from mmdet.registry import MODELS as DET
    torch.save({'state_dict': DET.build(cfg.model.architecture).state_dict()}, path)
    cfg.model.teacher_ckpt = path  # the R18 student's weights given as the R34 teacher
    with pytest.raises(CheckpointCoverageError, match='teacher checkpoint'):
        MODELS.build(cfg.model)
    set_min_coverage(0.0)
    try:
        MODELS.build(cfg.model)  # the switch lets a partial teacher through
    finally:
        set_min_coverage(0.95)
