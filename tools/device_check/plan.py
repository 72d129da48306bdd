"""Check a wheelhouse against tools/device_check/wheelhouse.txt and print the check's plan.

    python tools/device_check/plan.py WHEELHOUSE     # exit 1 with what is missing

Used by ``tools/device_check/run.sh --dry-run`` (and by the tests, here, on the CPU).
"""
import os
import os.path as osp
import re
import sys

HERE = osp.dirname(osp.abspath(__file__))
LIMIT_MIB = 64
STEPS = [
    ('install', 'a venv over the machine\'s torch; the wheelhouse with --no-deps; mmcv 2.1.0 '
     'built with FORCE_CUDA=1 for the local GPU only (TORCH_CUDA_ARCH_LIST)'),
    ('ops', 'CUDA nms / roi_align against their CPU results -> ops.json'),
    ('exactness', 'the policy-step exactness tests on CUDA -> exactness.txt'),
    ('amp', '50 iterations of SoKD over CWD with --amp (fp16): finite losses, float32 '
     'policy -> amp.json'),
    ('cost', 'CWD and SoKD side by side at 640 px: s/iteration, CUDA peak memory -> '
     'cost.json'),
]


def requirements():
    with open(osp.join(HERE, 'wheelhouse.txt')) as f:
        names = [
            re.split(r'[=<>]', line.strip())[0] for line in f
            if line.strip() and not line.startswith('#')
        ]
    return names + ['mmcv']


def _normal(name: str) -> str:
    return re.sub(r'[-_.]+', '_', name).lower()


def missing(wheelhouse: str):
    """Requirements with no wheel (or, for mmcv, no source archive) in ``wheelhouse``."""
    files = [_normal(f) for f in os.listdir(wheelhouse)] if osp.isdir(wheelhouse) else []
    out = []
    for name in requirements():
        stem = _normal(name) + '_'
        if name == 'mmcv':
            ok = any(f.startswith(stem) and f.endswith('tar_gz') for f in files)
        else:
            ok = any(
                f.startswith(stem) and f.endswith('whl') and (
                    'cp312' in f or 'py3_none_any' in f or 'py2.py3' in f or 'abi3' in f
                    or 'none_any' in f) for f in files)
        if not ok:
            out.append(name)
    return out


def size_mib(path: str) -> float:
    total = 0
    for root, _, names in os.walk(path):
        total += sum(osp.getsize(osp.join(root, n)) for n in names)
    return total / 2**20


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    wheelhouse = argv[0] if argv else 'wheelhouse'
    lost = missing(wheelhouse)
    size = size_mib(wheelhouse) if osp.isdir(wheelhouse) else 0.0
    print(f'wheelhouse {wheelhouse}: {len(requirements()) - len(lost)}/{len(requirements())} '
          f'requirements, {size:.1f} MiB')
    for i, (name, what) in enumerate(STEPS, 1):
        print(f'  {i}. {name}: {what}')
    if lost:
        print(f'missing: {", ".join(lost)}; run bash tools/device_check/make_wheelhouse.sh')
        return 1
    if size > LIMIT_MIB:
        print(f'the wheelhouse is {size:.1f} MiB, over the {LIMIT_MIB} MiB that travel')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
