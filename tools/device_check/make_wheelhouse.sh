#!/usr/bin/env bash
# Download what tools/device_check/run.sh installs on the GPU machine into wheelhouse/ (cp312
# wheels of tools/device_check/wheelhouse.txt and mmcv 2.1.0's source), here, where there is
# a network. It travels with the working tree (ignored by git: name it in the device tool's
# `carry`); 64 MiB at most with the rest of the tree.
#   bash tools/device_check/make_wheelhouse.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$repo/wheelhouse"
mkdir -p "$out"
py="${PYTHON:-$repo/.venv/bin/python}"
grep -v '^#' "$repo/tools/device_check/wheelhouse.txt" | grep -v '^$' > "$out/requirements.txt"
"$py" -m pip download --disable-pip-version-check -q --no-deps --only-binary=:all: \
    --python-version 3.12 --implementation cp --abi cp312 \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux_2_28_x86_64 --platform any \
    -r "$out/requirements.txt" -d "$out"
"$py" -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: \
    mmcv==2.1.0 -d "$out"
du -sh "$out"
