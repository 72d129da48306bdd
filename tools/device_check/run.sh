#!/usr/bin/env bash
# The prepared GPU check, one command for the GPU machine that is sometimes lent (one H200,
# Python 3.12 with its own torch 2.11 + CUDA 13 and nvcc, no network). Sized for at most 8
# minutes there.
#
#   bash tools/device_check/make_wheelhouse.sh          # here, once (needs the network)
#   bash tools/device_check/run.sh OUT_DIR --dry-run     # here: checks the wheelhouse, the plan
#   bash tools/device_check/run.sh OUT_DIR               # there, with wheelhouse/ carried
#
# Writes OUT_DIR/{log.txt,ops.json,exactness.txt,amp.json,cost.json} (a few small files).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
out="${1:?usage: tools/device_check/run.sh OUT_DIR [--dry-run]}"
py="${PYTHON:-python3}"
if [ "${2:-}" = "--dry-run" ]; then
    exec "$py" tools/device_check/plan.py "${SOKD_WHEELHOUSE:-wheelhouse}"
fi
mkdir -p "$out"
log="$out/log.txt"
step() { printf '[device_check %s] %s\n' "$(date +%T)" "$*" | tee -a "$log"; }
"$py" tools/device_check/plan.py wheelhouse | tee -a "$log"

step "1. install: venv over the machine's torch, wheelhouse, mmcv with CUDA ops"
venv="${TMPDIR:-/tmp}/sokd_device_venv"
"$py" -m venv --system-site-packages "$venv"
vpy="$venv/bin/python"
"$vpy" -m pip install -q --no-index --no-deps --find-links wheelhouse \
    -r wheelhouse/requirements.txt >>"$log" 2>&1
arch="$("$vpy" -c 'import torch; a, b = torch.cuda.get_device_capability(); print(f"{a}.{b}")')"
src="$(mktemp -d)"
tar -xzf wheelhouse/mmcv-2.1.0.tar.gz -C "$src"
# torch >= 2.14's headers need C++20 (as in tools/setup_env.sh); older ones build as released
if "$vpy" -c 'import sys, torch; v = tuple(map(int, torch.__version__.split(".")[:2])); sys.exit(0 if v >= (2, 14) else 1)'; then
    sed -i -e 's/-std=c++17/-std=c++20/g' "$src"/mmcv-2.1.0/setup.py
fi
(cd "$src"/mmcv-2.1.0 && MMCV_WITH_OPS=1 FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST="$arch" \
    MAX_JOBS="$(nproc)" "$vpy" -m pip install -q --no-index --no-deps --no-build-isolation . \
    >>"$log" 2>&1)
"$vpy" -m pip install -q --no-index --no-deps --no-build-isolation -e . >>"$log" 2>&1
step "   mmcv built for sm_${arch/./}"

step "2. ops: CUDA nms / roi_align against CPU"
"$vpy" tools/device_check/ops_cuda_vs_cpu.py "$out/ops.json" 2>>"$log" | tee -a "$log"

step "3. exactness tests on CUDA"
SOKD_TEST_DEVICE=cuda "$vpy" -m pytest -q -p no:cacheprovider \
    tests/test_models/test_policy_step_exactness.py >"$out/exactness.txt" 2>&1 || true
tail -n 3 "$out/exactness.txt" | tee -a "$log"

step "4. 50 iterations of SoKD over CWD with --amp"
"$vpy" tools/device_check/amp_run.py "$out/amp.json" 2>>"$log" | tee -a "$log"

step "5. cost: CWD and SoKD side by side at 640 px"
"$vpy" tools/benchmark_cost.py --device cuda --img-size 640 --batch-size 2 --rounds 3 \
    --steps 3 --warmup 2 --out "$out/cost.json" >>"$log" 2>&1 || step "   cost failed"
step "done"
