#!/usr/bin/env bash
# Set up sokd-mmdet in a virtual environment at <repo>/.venv. Idempotent: a second run only
# checks what is there (seconds).
#
#   bash tools/setup_env.sh              # CPU ops without a GPU; CUDA kernels for the visible
#                                        # GPU with a CUDA torch and a matching nvcc
#   FORCE_CUDA=0|1 bash tools/setup_env.sh  # force CPU ops / CUDA kernels
#                                        # (tools/mmcv_build_plan.py: the rule, tested)
#
# mmcv 2.1.0 has no reachable prebuilt wheel, so it is compiled from source (about 7 minutes on
# 2 cores). The built wheel is cached outside the repo, keyed by torch version, CUDA/CPU,
# Python tag and machine, in ${SOKD_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/sokd-mmdet}.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
python_bin="${PYTHON:-python3}"
venv="$repo/.venv"
cache_root="${SOKD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sokd-mmdet}"
log() { printf '[setup_env] %s\n' "$*"; }
t0=$(date +%s)

if ! "$python_bin" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 10) else 1)'; then
    log "error: $("$python_bin" --version 2>&1) is too old; torch 2.14 needs Python >= 3.10 (set PYTHON=...)"
    exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
    log "creating virtual environment at $venv"
    "$python_bin" -m venv "$venv"
fi
py="$venv/bin/python"
pip_install() { "$py" -m pip install --disable-pip-version-check -q "$@"; }

log "torch / torchvision (requirements/torch.txt)"
pip_install -r requirements/torch.txt
log "build tools (requirements/build.txt)"
pip_install -r requirements/build.txt

# CPU ops, or CUDA kernels for the visible GPU (tools/mmcv_build_plan.py says which and why)
plan="$("$py" tools/mmcv_build_plan.py)" || exit 1
eval "$plan"
key="$("$py" -c "import platform, sys, torch; print(f\"torch{torch.__version__.replace('+', '_')}-$MMCV_OPS_KEY-cp{sys.version_info[0]}{sys.version_info[1]}-{platform.machine()}\")")"
wheel_dir="$cache_root/mmcv/$key"
wheel="$(ls "$wheel_dir"/mmcv-2.1.0-*.whl 2>/dev/null | head -n 1 || true)"
if [ -z "$wheel" ]; then
    log "building mmcv 2.1.0 with ops for $key (about 7 min on 2 cores; cached afterwards)"
    tmp="$(mktemp -d)"
    "$py" -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: \
        mmcv==2.1.0 -d "$tmp"
    tar -xzf "$tmp"/mmcv-2.1.0.tar.gz -C "$tmp"
    # torch >= 2.14's headers require C++20 ("#error C++20 or later compatible compiler is
    # required to use ATen"), but mmcv 2.1.0's setup.py hard-codes -std=c++17 for every torch
    # newer than 1.12. Build with C++20 instead (gcc >= 10 / CUDA >= 12 accept it).
    sed -i -e 's/-std=c++17/-std=c++20/g' -e 's#/std:c++17#/std:c++20#g' "$tmp"/mmcv-2.1.0/setup.py
    if [ "$MMCV_FORCE_CUDA" = 1 ] && [ -n "$MMCV_ARCH_LIST" ]; then
        export TORCH_CUDA_ARCH_LIST="$MMCV_ARCH_LIST"
    fi
    (cd "$tmp"/mmcv-2.1.0 && MMCV_WITH_OPS=1 FORCE_CUDA="$MMCV_FORCE_CUDA" \
        MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
        "$py" -m pip wheel --disable-pip-version-check --no-build-isolation --no-deps . -w "$tmp/dist")
    mkdir -p "$wheel_dir"
    # move into place only when complete, so an interrupted build never leaves a broken cache
    mv "$tmp"/dist/mmcv-2.1.0-*.whl "$wheel_dir/"
    rm -rf "$tmp"
    wheel="$(ls "$wheel_dir"/mmcv-2.1.0-*.whl | head -n 1)"
else
    log "using cached mmcv wheel $wheel"
fi
pip_install "$wheel" -c requirements/runtime.txt
log "sokd_mmdet and its runtime/test requirements (setup.py)"
pip_install -e ".[tests]" -c requirements/runtime.txt
log "linters of make lint / make format (requirements/lint.txt)"
pip_install -r requirements/lint.txt -c requirements/runtime.txt

"$py" - <<'PY'
import torch, mmcv, mmdet, mmengine
import sokd_mmdet  # noqa: F401  (applies the compatibility layer)
import mmrazor.models  # noqa: F401
from mmcv.ops import nms
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]])
nms(boxes, torch.tensor([0.9, 0.8]), 0.5)
print(f'[setup_env] ok: torch {torch.__version__}, mmcv {mmcv.__version__} (ops built), '
      f'mmengine {mmengine.__version__}, mmdet {mmdet.__version__}')
PY
log "done in $(( $(date +%s) - t0 )) s; activate with: source .venv/bin/activate"
