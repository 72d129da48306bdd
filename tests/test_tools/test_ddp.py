"""Two-process training (PyTorch launcher, gloo, CPU): ranks stay identical and it evaluates."""
import os
import os.path as osp
import subprocess
import sys

import torch

from conftest import ROOT, as_cli, config_path, tiny_options


def test_sokd_ddp_two_processes_keep_one_policy(tiny_data, teacher_ckpt, tmp_path):
    work_dir = str(tmp_path)
    opts = tiny_options(tiny_data, work_dir, iters=3, teacher_ckpt=teacher_ckpt)
    opts.update({'log_level': 'INFO'})
    # a config that adds the test-only probe hook to the quickstart SoKD config
    cfg = osp.join(work_dir, 'ddp_sokd.py')
    with open(cfg, 'w') as f:
        f.write(f"_base_ = [{config_path('quickstart/sokd_cwd_retinanet_r34_r18_shapes.py')!r}]\n"
                "custom_imports = dict(imports=['sokd_mmdet', 'ddp_probe'])\n"
                "model_wrapper_cfg = dict(type='mmrazor.DistillDataParallel')\n"
                "custom_hooks = [dict(type='mmrazor.DAFAPolicyLoggerHook', interval=1),\n"
                "                dict(type='mmrazor.RankStateDumpHook')]\n")
    env = dict(
        os.environ,
        PYTHONPATH=osp.join(ROOT, 'tests') + os.pathsep + ROOT,
        OMP_NUM_THREADS='1',
        CUDA_VISIBLE_DEVICES='')
    cmd = [
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', '--master_port=29533',
        osp.join(ROOT, 'tools', 'train.py'), cfg, '--launcher', 'pytorch', '--cfg-options',
        *as_cli(opts)
    ]
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    ranks = [torch.load(osp.join(work_dir, f'rank{r}.pth'), weights_only=True) for r in (0, 1)]
    for key, value in ranks[0].items():
        assert torch.equal(value, ranks[1][key]), f'{key} differs between ranks'
    # the policy was searched (it moved), the student trained, and the run evaluated
    assert ranks[0]['distiller.dafa.weights'].abs().max() > 0
    logs = res.stdout + res.stderr
    assert 'coco/bbox_mAP' in logs
