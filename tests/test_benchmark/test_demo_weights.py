"""The demo's shipped weights: their export, their sums, and that they are what they say."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from benchmark.demo_weights import (BACKBONE_FILE, DEMO_DIR, SUMS_FILE, TEACHER_FILE,
                                    DemoWeightsError, check_weights, export_weights,
                                    half_state_dict, read_sums, sha256_of, write_sums)
from conftest import ROOT


def _checkpoint(path):
    state = {
        'backbone.conv.weight': torch.randn(4, 3, 3, 3, dtype=torch.float64),
        'backbone.bn.num_batches_tracked': torch.tensor(7),
        'head.fc.weight': torch.randn(2, 4)
    }
    torch.save(dict(state_dict=state, optimizer={'x': 1}), path)
    return state


def test_half_state_dict_keeps_the_prefix_and_integers():
    state = {'a.w': torch.ones(2), 'a.n': torch.tensor(3), 'b.w': torch.ones(1)}
    half = half_state_dict(state, 'a.')
    assert set(half) == {'a.w', 'a.n'}
    assert half['a.w'].dtype == torch.float16 and half['a.n'].dtype == torch.int64
    assert half['a.n'].item() == 3


def test_export_writes_half_precision_and_meta_readable_by_the_safe_loader(tmp_path):
    src = tmp_path / 'iter_1.pth'
    state = _checkpoint(src)
    info = export_weights(str(src), str(tmp_path / 'out' / 'w.pth'), dict(AP=0.5), 'backbone.')
    out = torch.load(tmp_path / 'out' / 'w.pth', weights_only=True)
    assert set(out['state_dict']) == {'backbone.conv.weight', 'backbone.bn.num_batches_tracked'}
    assert out['meta'] == dict(AP=0.5) and 'optimizer' not in out
    torch.testing.assert_close(
        out['state_dict']['backbone.conv.weight'].double(),
        state['backbone.conv.weight'],
        rtol=1e-3,
        atol=1e-3)
    assert info['params'] == 4 * 3 * 3 * 3 and info['sha256'] == sha256_of(
        str(tmp_path / 'out' / 'w.pth'))
    with pytest.raises(ValueError, match="no state_dict entry starts with 'neck.'"):
        export_weights(str(src), str(tmp_path / 'x.pth'), {}, 'neck.')


def test_export_is_deterministic(tmp_path):
    """The same source gives the same bytes: the sums in the repository name the runs."""
    src = tmp_path / 'iter_1.pth'
    _checkpoint(src)
    a = export_weights(str(src), str(tmp_path / 'a' / 'w.pth'), dict(run_key='k'))
    b = export_weights(str(src), str(tmp_path / 'b' / 'w.pth'), dict(run_key='k'))
    assert a['sha256'] == b['sha256']


def test_export_refuses_values_beyond_half_precision(tmp_path):
    src = tmp_path / 'iter_1.pth'
    torch.save(dict(state_dict={'w': torch.tensor([1.0, 1e6])}), src)
    with pytest.raises(ValueError, match='leave the float16 range'):
        export_weights(str(src), str(tmp_path / 'w.pth'), {})


def _shipped_copy(tmp_path):
    for name in (TEACHER_FILE, BACKBONE_FILE):
        (tmp_path / name).write_bytes(b'weights of ' + name.encode())
    write_sums(str(tmp_path), [TEACHER_FILE, BACKBONE_FILE])


def test_check_weights_names_the_file_and_the_fix(tmp_path):
    _shipped_copy(tmp_path)
    found = check_weights(str(tmp_path))
    assert found == {
        'teacher': str(tmp_path / TEACHER_FILE),
        'backbone': str(tmp_path / BACKBONE_FILE)
    }
    assert read_sums(str(tmp_path))[TEACHER_FILE] == sha256_of(str(tmp_path / TEACHER_FILE))
    (tmp_path / TEACHER_FILE).write_bytes(b'version https://git-lfs.github.com/spec/v1')
    with pytest.raises(
            DemoWeightsError,
            match=f'{TEACHER_FILE} is not the file SHA256SUMS '
            'names.*git checkout.*tools/make_demo_weights.py'):
        check_weights(str(tmp_path))
    (tmp_path / TEACHER_FILE).unlink()
    with pytest.raises(DemoWeightsError, match='teacher weights .* are missing'):
        check_weights(str(tmp_path))
    (tmp_path / TEACHER_FILE).write_bytes(b'weights')
    write_sums(str(tmp_path), [TEACHER_FILE])
    with pytest.raises(DemoWeightsError, match=f'has no sum for {BACKBONE_FILE}'):
        check_weights(str(tmp_path))
    (tmp_path / SUMS_FILE).write_text('not a sum line\n')
    with pytest.raises(DemoWeightsError, match='line 1: not "<sha256>  <file>"'):
        check_weights(str(tmp_path))
    (tmp_path / SUMS_FILE).unlink()
    with pytest.raises(DemoWeightsError, match='SHA256SUMS is missing'):
        check_weights(str(tmp_path))


def test_read_sums_takes_sha256sum_binary_marks(tmp_path):
    (tmp_path / SUMS_FILE).write_text(f'{"a" * 64} *{TEACHER_FILE}\n\n')
    assert read_sums(str(tmp_path)) == {TEACHER_FILE: 'a' * 64}


def test_the_shipped_weights_match_their_sums_and_load_into_their_configs():
    found = check_weights(DEMO_DIR)
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    teacher = torch.load(found['teacher'], weights_only=True)
    assert teacher['meta']['config'] == 'configs/quickstart/retinanet_r34_shapes_teacher.py'
    assert teacher['meta']['metrics']['AP'] > 0.2  # what the benchmark measured for it
    cfg = Config.fromfile(osp.join(ROOT, teacher['meta']['config']))
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    # every tensor of the config's detector, none left over
    model.load_state_dict(teacher['state_dict'], strict=True)
    backbone = torch.load(found['backbone'], weights_only=True)
    student = Config.fromfile(
        osp.join(ROOT, 'configs/quickstart/retinanet_r18_shapes_student.py')).model.backbone
    assert osp.basename(osp.dirname(student.init_cfg.checkpoint)) in backbone['meta']['source']
    student.init_cfg = None
    net = MODELS.build(student)
    net.load_state_dict({
        k[len('backbone.'):]: v
        for k, v in backbone['state_dict'].items()
    },
                        strict=True)
