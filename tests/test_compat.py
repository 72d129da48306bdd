"""The compatibility layer: what it fixes, what it refuses, and when it becomes unneeded."""
import os.path as osp
import pickle
import subprocess
import sys
from importlib.metadata import version

import numpy as np
import pytest
import torch
from packaging.version import Version

from sokd_mmdet import compat

TORCH = Version(torch.__version__.split('+')[0])


class NotAllowed:
    """A class that no allow-list contains (pickled by reference to this test module)."""

    def __init__(self):
        self.payload = 1


def _runner_like_checkpoint(path):
    """What an MMEngine Runner writes besides tensors: a message hub with history buffers."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('compat_test_hub')
    for i in range(3):
        hub.update_scalar('train/loss', 1.0 / (i + 1))
        hub.update_scalar('train/iters', i)
    hub.update_info('iter', 3)
    ckpt = {
        'meta': {
            'epoch': 0,
            'iter': 3,
            'seed': np.int64(0),
            'mean': np.float64(0.5),
            'dataset_meta': {
                'classes': ('a', 'b')
            }
        },
        'state_dict': {
            'w': torch.ones(2)
        },
        'message_hub': hub.state_dict(),
    }
    torch.save(ckpt, path)
    return ckpt


def test_mmrazor_models_imports_after_sokd_mmdet():
    import mmrazor.models  # noqa: F401
    from mmrazor.models import ChannelWiseDivergence, ConfigurableDistiller  # noqa: F401
    assert compat.MMRAZOR_STANDIN_INSTALLED == (
        TORCH >= Version('2.1') and Version(version('mmrazor')) <= Version('1.0.0'))


def test_quantization_standin_raises_a_clear_error():
    if not compat.MMRAZOR_STANDIN_INSTALLED:
        pytest.skip('the stand-in is only installed for mmrazor<=1.0.0 on torch>=2.1')
    from mmrazor.structures.quantization import BackendConfigs, QConfigHandler
    with pytest.raises(compat.QuantizationUnavailableError, match='quantization'):
        BackendConfigs['native']
    with pytest.raises(compat.QuantizationUnavailableError):
        QConfigHandler(dict())


def test_runner_checkpoint_loads_with_weights_only(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    ckpt = _runner_like_checkpoint(path)
    loaded = compat.load_checkpoint_file(path)
    assert loaded['meta']['mean'] == 0.5 and loaded['meta']['seed'] == 0
    buf = loaded['message_hub']['log_scalars']['train/loss']
    np.testing.assert_allclose(buf.data[0], [1.0, 0.5, 1.0 / 3])
    assert torch.equal(loaded['state_dict']['w'], ckpt['state_dict']['w'])
    # MMEngine's own entry point goes through the same loader
    from mmengine.runner.checkpoint import CheckpointLoader
    assert CheckpointLoader.load_checkpoint(path)['meta']['iter'] == 3


def test_object_outside_allow_list_is_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'meta': {'x': NotAllowed()}}, path)
    with pytest.raises(compat.UnsafeCheckpointError, match='NotAllowed') as err:
        compat.load_checkpoint_file(path)
    assert 'allow-list' in str(err.value)
    from mmengine.runner import load_checkpoint
    with pytest.raises(pickle.UnpicklingError, match='NotAllowed'):
        load_checkpoint(torch.nn.Linear(1, 1), path)


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        compat.load_checkpoint_file(str(tmp_path / 'nope.pth'))


def _python(code):
    return subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True,
                          timeout=300)


def test_fixes_are_still_needed(tmp_path):
    """Fails when an upstream release makes a fix unnecessary: then remove that fix."""
    if TORCH >= Version('2.1') and Version(version('mmrazor')) <= Version('1.0.0'):
        res = _python('import mmrazor.models')
        assert res.returncode != 0, (
            f'mmrazor {version("mmrazor")} now imports on torch {torch.__version__} without '
            'sokd_mmdet.compat: remove the quantization stand-in')
        assert 'quantization' in res.stderr or 'torch.ao' in res.stderr
    if TORCH >= Version('2.6'):
        path = str(tmp_path / 'ckpt.pth')
        _runner_like_checkpoint(path)
        res = _python(f'from mmengine.runner.checkpoint import CheckpointLoader\n'
                      f'CheckpointLoader.load_checkpoint({path!r})')
        assert res.returncode != 0, (
            f'mmengine {version("mmengine")} now loads its checkpoints on torch '
            f'{torch.__version__} by itself: remove the allow-list fix')
        assert 'weights_only' in res.stderr or 'Unpickl' in res.stderr


class _Evil:
    """Pickles as a getattr on an allowed class that is not a HistoryBuffer statistic."""

    def __reduce__(self):
        from mmengine.logging.history_buffer import HistoryBuffer
        return (getattr, (HistoryBuffer, '__init__'))


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    path = str(tmp_path / 'getattr.pth')
    torch.save({'x': _Evil()}, path, pickle_protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="refused getattr.*__init__"):
        compat.load_checkpoint_file(path)
    from mmengine.logging.history_buffer import HistoryBuffer
    assert compat.history_buffer_attribute(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(compat.UnsafeCheckpointError):
        compat.history_buffer_attribute(dict, 'min')


class _Touch:
    """A pickle that creates a file when it is loaded (the side effect to look for)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


@pytest.fixture
def hub_home(tmp_path, monkeypatch):
    """A torch hub cache of this test's own (no network: files are put there by hand)."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    ckpts = tmp_path / 'torch_home' / 'hub' / 'checkpoints'
    ckpts.mkdir(parents=True)
    return ckpts


def _url_schemes():
    from mmengine.runner.checkpoint import get_external_models, get_torchvision_models
    external = get_external_models()
    name = next(k for k, v in external.items() if v.startswith('https://'))
    return [
        ('https://download.example.org/models/teacher.pth', 'teacher.pth'),
        ('http://download.example.org/models/teacher.pth', 'teacher.pth'),
        ('torchvision://resnet50', osp.basename(get_torchvision_models()['resnet50'])),
        (f'open-mmlab://{name}', osp.basename(external[name])),
    ]


@pytest.mark.parametrize('url,cached', _url_schemes())
def test_url_checkpoints_go_through_the_allow_list(url, cached, hub_home, tmp_path):
    """Every URL scheme MMEngine knows is read with weights_only=True: a hostile pickle in
    the hub cache is refused without running, a plain checkpoint loads."""
    from mmengine.runner.checkpoint import CheckpointLoader
    marker = tmp_path / 'pwned'
    torch.save({
        'state_dict': {
            'w': torch.ones(2)
        },
        'meta': {
            'x': _Touch(str(marker))
        }
    }, hub_home / cached)
    with pytest.raises(compat.UnsafeCheckpointError, match=f'refused to load .*{cached}'):
        CheckpointLoader.load_checkpoint(url)
    assert not marker.exists()  # the pickle's code never ran
    torch.save({'state_dict': {'w': torch.full((2, ), 3.0)}}, hub_home / cached)
    assert torch.equal(
        CheckpointLoader.load_checkpoint(url)['state_dict']['w'], torch.full((2, ), 3.0))


def test_pretrained_init_cfg_url_goes_through_the_allow_list(hub_home, tmp_path):
    from mmengine.model import BaseModule
    marker = tmp_path / 'pwned'
    torch.save({
        'state_dict': {
            'weight': torch.zeros(1, 1)
        },
        'x': _Touch(str(marker))
    }, hub_home / 'linear.pth')

    class Net(BaseModule):

        def __init__(self):
            super().__init__(
                init_cfg=dict(
                    type='Pretrained', checkpoint='https://download.example.org/linear.pth'))
            self.linear = torch.nn.Linear(1, 1, bias=False)

    with pytest.raises(compat.UnsafeCheckpointError):
        Net().init_weights()
    assert not marker.exists()


def test_undownloadable_url_names_the_url_and_the_cache_path(hub_home, monkeypatch):
    from mmengine.runner.checkpoint import CheckpointLoader

    def offline(url, dst, **kwargs):
        raise OSError('[Errno -3] Temporary failure in name resolution')

    monkeypatch.setattr(torch.hub, 'download_url_to_file', offline)
    url = 'https://download.example.org/models/missing.pth'
    with pytest.raises(
            RuntimeError,
            match=f'cannot download the checkpoint {url} .*put it at '
            f'{hub_home / "missing.pth"}'):
        CheckpointLoader.load_checkpoint(url)


@pytest.mark.parametrize('content,why', [
    (b'', 'it is empty'),
    (bytes(range(7, 255)) * 4, 'it is neither a zip archive nor a pickle'),
    (None, 'its zip archive is truncated or damaged'),
])
def test_corrupt_checkpoint_names_the_file_and_the_cause(content, why, tmp_path):
    path = tmp_path / 'iter_9.pth'
    if content is None:  # a checkpoint cut in half while it was written
        torch.save({'state_dict': {'w': torch.ones(1000)}}, str(path))
        content = path.read_bytes()[:600]
    path.write_bytes(content)
    with pytest.raises(
            compat.CorruptCheckpointError,
            match=f'{path} is not a readable PyTorch checkpoint: {why}.*'
            'last_checkpoint'):
        compat.load_checkpoint_file(str(path))
