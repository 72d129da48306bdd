"""50 iterations of SoKD over CWD with --amp on the GPU (the GPU check's step 4).

Trains the quickstart pair (random teacher, generated data at 256 px) through
tools/train.py with --amp and writes whether every logged loss was finite, the policy
steps skipped, the dtype of the learned policy and the time per iteration.

    python tools/device_check/amp_run.py OUT.json [ITERATIONS]
"""
import json
import os.path as osp
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def main(out: str, iters: int = 50) -> None:
    import importlib.util

    import torch

    from sokd_mmdet.datasets import generate_detection_dataset
    work = tempfile.mkdtemp()
    data = osp.join(work, 'shapes')
    generate_detection_dataset(
        data, num_train=64, num_val=8, img_size=(256, 256), seed=0, progress=False)
    spec = importlib.util.spec_from_file_location('train', osp.join(ROOT, 'tools', 'train.py'))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    opts = [
        f'work_dir={work}/run', 'model.teacher_ckpt=None', f'train_cfg.max_iters={iters}',
        f'train_cfg.val_interval={iters}', f'default_hooks.checkpoint.interval={iters}',
        'default_hooks.logger.interval=1', 'train_dataloader.batch_size=4'
    ]
    for split in ('train', 'val', 'test'):
        opts.append(f'{split}_dataloader.dataset.data_root={data}/')
    for split in ('val', 'test'):
        opts.append(f'{split}_evaluator.ann_file={data}/annotations/instances_val.json')
    t0 = time.time()
    runner = train.main([
        osp.join(ROOT, 'configs/quickstart/sokd_cwd_retinanet_r34_r18_shapes.py'), '--amp',
        '--cfg-options', *opts
    ])
    seconds = time.time() - t0
    from mmengine.model import is_model_wrapper
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    dafa = model.distiller.dafa
    logs = [
        json.loads(line) for line in open(osp.join(runner.log_dir, 'vis_data', 'scalars.json'))
    ]
    losses = [v for log in logs for k, v in log.items() if 'loss' in k]
    result = dict(
        iterations=int(runner.iter),
        seconds=seconds,
        optim_wrapper=type(runner.optim_wrapper['student']).__name__,
        losses_logged=len(losses),
        all_finite=all(abs(v) < float('inf') and v == v for v in losses),
        skipped_policy_steps=int(model.skipped_policy_steps),
        policy_dtype=str(dafa.magnitudes.dtype),
        policy_finite=bool(all(torch.isfinite(p).all() for p in dafa.parameters())),
    )
    result['ok'] = (
        result['all_finite'] and result['policy_finite']
        and result['policy_dtype'] == 'torch.float32' and result['iterations'] == iters)
    with open(out, 'w') as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result))


if __name__ == '__main__':
    main(sys.argv[1], *(int(a) for a in sys.argv[2:3]))
