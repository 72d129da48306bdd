"""How large RELAX's reward is under each reward baseline, on the built-in data.

Trains the quickstart SoKD-CWD model for a few steps on one batch of a built-in data draw
(the tuning draw, data seed 1, by default) and prints the mean and root mean square of the
reward ``L_val(theta')`` minus each baseline, both measured in the same steps:
``before_step`` (the outer loss before the virtual step) and ``unaugmented_step`` (the outer
loss after the same virtual step on un-augmented knowledge). The score-function part of
the estimate is the reward times the score, so its variance grows with the reward's mean
square.

    python tools/analysis_tools/reward_baseline.py [--steps 12] [--data-seed 1]
"""
import argparse
import copy
import os.path as osp
import statistics
import tempfile

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = 'configs/quickstart/sokd_cwd_retinanet_r34_r18_shapes.py'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=12)
    parser.add_argument('--data-seed', type=int, default=1)
    parser.add_argument('--img-size', type=int, default=128)
    args = parser.parse_args(argv)

    import torch
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    from mmrazor.registry import MODELS

    import sokd_mmdet  # noqa: F401
    from sokd_mmdet.datasets import generate_detection_dataset
    root = tempfile.mkdtemp()
    generate_detection_dataset(
        root,
        num_train=16,
        num_val=2,
        img_size=(args.img_size, args.img_size),
        seed=args.data_seed,
        progress=False)
    init_default_scope('mmdet')
    cfg = Config.fromfile(osp.join(ROOT, CONFIG))
    cfg.model.teacher_ckpt = None
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.data_root = root + '/'
    for step in cfg.train_dataloader.dataset.pipeline:
        if step['type'] == 'Resize':
            step['scale'] = (args.img_size, args.img_size)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    batch = next(iter(Runner.build_dataloader(cfg.train_dataloader, seed=0)))
    rewards = {'before_step': [], 'unaugmented_step': []}
    for _ in range(args.steps):
        log = model.train_step(copy.deepcopy(batch), optim)
        after = float(log['policy/outer_after'])
        rewards['before_step'].append(after - float(log['policy/outer_before']))
        rewards['unaugmented_step'].append(after - float(log['policy/outer_unaugmented']))
    for name, values in rewards.items():
        rms = (sum(v * v for v in values) / len(values))**0.5
        print(f'{name}: reward mean {statistics.mean(values):.4g}, rms {rms:.4g}')


if __name__ == '__main__':
    main()
