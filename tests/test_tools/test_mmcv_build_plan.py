"""tools/mmcv_build_plan.py: CPU ops or CUDA kernels for the local GPU, and why."""
import importlib.util
import os.path as osp

import pytest

from conftest import ROOT

spec = importlib.util.spec_from_file_location('mmcv_build_plan',
                                              osp.join(ROOT, 'tools', 'mmcv_build_plan.py'))
build_plan = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_plan)
plan = build_plan.plan
H200 = [(9, 0)]


def test_cpu_torch_builds_cpu_ops_quietly():
    assert plan(None, None, []) == dict(cuda=False, arch_list=None, key='cpu', message='')
    assert plan(None, '13.0', [])['cuda'] is False


def test_cuda_torch_nvcc_and_a_gpu_build_for_that_gpu_only():
    out = plan('13.0', '13.0', H200)
    assert out == dict(cuda=True, arch_list='9.0', key='cu130-sm90', message='')
    two = plan('12.4', '12.6', [(8, 0), (9, 0), (8, 0)])  # minor versions may differ
    assert two['arch_list'] == '8.0;9.0' and two['key'] == 'cu124-sm80-sm90'


@pytest.mark.parametrize('nvcc,gpus,why', [
    (None, H200, 'nvcc is not found'),
    ('12.8', H200, 'nvcc is CUDA 12.8 but torch was built with CUDA 13.0'),
    ('13.0', [], 'no GPU is visible'),
])
def test_cuda_torch_without_a_usable_toolkit_or_gpu_says_why(nvcc, gpus, why):
    out = plan('13.0', nvcc, gpus)
    assert out['cuda'] is False and out['key'] == 'cpu'
    assert why in out['message'] and 'nms and roi_align will refuse CUDA tensors' in \
        out['message']


def test_force_cuda_overrides():
    assert plan('13.0', '13.0', H200, force_cuda='0')['cuda'] is False
    forced = plan('13.0', '13.0', [], force_cuda='1', arch_list='9.0;10.0')
    assert forced == dict(cuda=True, arch_list='9.0;10.0', key='cu130-sm90-sm100', message='')
    assert plan('13.0', '13.0', [], force_cuda='1')['key'] == 'cu130-torch-archs'
    with pytest.raises(ValueError, match='nvcc is not found'):
        plan('13.0', None, H200, force_cuda='1')
    with pytest.raises(ValueError, match='CPU build'):
        plan(None, None, [], force_cuda='1')
    with pytest.raises(ValueError, match='install a CUDA 13.x toolkit'):
        plan('13.0', '12.4', H200, force_cuda='1')
    with pytest.raises(ValueError, match='FORCE_CUDA must be 0 or 1'):
        plan('13.0', '13.0', H200, force_cuda='yes')
