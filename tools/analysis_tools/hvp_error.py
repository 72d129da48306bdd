"""How far the finite-difference policy gradient is from the exact one on tiny detectors.

Builds the float64 RetinaNet / Faster R-CNN pairs of
``tests/test_models/test_sokd/test_policy_step_exactness.py`` (its helpers are reused, so the
models, draws and brute force are the test's), and prints, for ``hvp='finite_difference'`` at
several ``hvp_eps``, the relative error of each magnitude-gradient entry against the
brute-force derivative of the outer objective (which the exact product matches).

    python tools/analysis_tools/hvp_error.py
"""
import importlib
import os.path as osp
import sys
import tempfile

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def main():
    import torch
    sys.path[:0] = [osp.join(ROOT, 'tests'), osp.join(ROOT, 'tests', 'test_models', 'test_sokd')]
    import test_policy_step_exactness as T
    from sokd_mmdet.datasets import generate_detection_dataset
    torch.set_num_threads(1)
    nms_module = importlib.import_module('mmcv.ops.nms')  # float32-only CPU nms, as the test
    nms = nms_module.nms
    nms_module.nms = lambda b, s, *a, **k: (lambda r: (r[0].to(b.dtype), r[1]))(
        nms(b.float(), s.float(), *a, **k))
    data = tempfile.mkdtemp()
    generate_detection_dataset(
        data, num_train=8, num_val=4, img_size=(128, 128), seed=0, progress=False)
    print('| detector | sub-policy | hvp_eps | relative error per entry |')
    print('|---|---|---|---|')
    for name, ops in [(T.RETINA, ('TranslateX', 'Rotate')), (T.RETINA, ('Cutout', 'ChannelDrop')),
                      (T.FASTER, ('Cutout', 'ChannelDrop'))]:
        brute = None
        for eps in (1e-2, 1e-3, 1e-4, 1e-5, 1e-6):
            model, ow, batches, k = T._setup(
                name, data, tempfile.mkdtemp(), 'gt', ops, hvp='finite_difference', hvp_eps=eps)
            grad, _, (inputs, samples, held) = T._policy_step(model, ow, batches, 'same')
            if brute is None:
                brute, _ = T._brute_force(model, ow, k, inputs, samples, held, 'sgd')
            err = ((grad[k] - brute).abs() / brute.abs()).tolist()
            detector = 'RetinaNet' if name == T.RETINA else 'Faster R-CNN'
            print(
                f'| {detector} | {"+".join(ops)} | {eps:g} | ' + ', '.join(f'{e:.3g}'
                                                                           for e in err) + ' |',
                flush=True)


if __name__ == '__main__':
    main()
