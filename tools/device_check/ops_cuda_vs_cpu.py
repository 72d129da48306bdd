"""mmcv's CUDA nms and roi_align against their CPU results (the GPU check's step 2).

    python tools/device_check/ops_cuda_vs_cpu.py OUT.json
"""
import json
import sys

import torch


def main(out: str) -> None:
    from mmcv.ops import nms, roi_align
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(2000, 2, generator=g) * 600
    wh = torch.rand(2000, 2, generator=g) * 100 + 1
    boxes = torch.cat([xy, xy + wh], 1)
    scores = torch.rand(2000, generator=g)
    _, keep_cpu = nms(boxes, scores, 0.5)
    _, keep_gpu = nms(boxes.cuda(), scores.cuda(), 0.5)
    feat = torch.randn(2, 16, 64, 64, generator=g)
    rois = torch.cat([torch.randint(0, 2, (300, 1), generator=g).float(), boxes[:300] / 10], 1)
    cpu = roi_align(feat, rois, (7, 7), 0.5, 2, 'avg', True)
    gpu = roi_align(feat.cuda(), rois.cuda(), (7, 7), 0.5, 2, 'avg', True).cpu()
    result = dict(
        device=torch.cuda.get_device_name(),
        nms_same_keep=bool(torch.equal(keep_cpu.sort()[0],
                                       keep_gpu.cpu().sort()[0])),
        nms_kept=[int(keep_cpu.numel()), int(keep_gpu.numel())],
        roi_align_max_abs_diff=float((cpu - gpu).abs().max()),
    )
    result['ok'] = result['nms_same_keep'] and result['roi_align_max_abs_diff'] < 1e-4
    with open(out, 'w') as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result))


if __name__ == '__main__':
    main(sys.argv[1])
