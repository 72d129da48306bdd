"""The prepared GPU check's dry run: the wheelhouse and the plan, checked on the CPU."""
import os
import os.path as osp
import subprocess
import sys

from conftest import ROOT

WHEELS = [
    'numpy-1.26.4-cp312-cp312-manylinux2014_x86_64.whl', 'setuptools-69.5.1-py3-none-any.whl',
    'wheel-0.48.0-py3-none-any.whl', 'mmengine-0.10.7-py3-none-any.whl',
    'mmdet-3.3.0-py3-none-any.whl', 'mmrazor-1.0.0-py2.py3-none-any.whl',
    'pycocotools-2.0.11-cp312-abi3-manylinux2014_x86_64.whl', 'addict-2.4.0-py3-none-any.whl',
    'yapf-0.43.0-py3-none-any.whl', 'platformdirs-4.14.9-py3-none-any.whl',
    'termcolor-3.3.0-py3-none-any.whl', 'rich-15.0.0-py3-none-any.whl',
    'markdown_it_py-4.3.0-py3-none-any.whl', 'mdurl-0.1.2-py3-none-any.whl',
    'pygments-2.21.0-py3-none-any.whl', 'pyyaml-6.0.4-cp312-cp312-manylinux2014_x86_64.whl',
    'shapely-2.2.0-cp312-cp312-manylinux_2_28_x86_64.whl', 'six-1.17.0-py2.py3-none-any.whl',
    'terminaltables-3.1.10-py2.py3-none-any.whl', 'tqdm-4.70.1-py3-none-any.whl',
    'joblib-1.6.0-py3-none-any.whl', 'ordered_set-4.1.0-py3-none-any.whl', 'mmcv-2.1.0.tar.gz'
]


def _dry_run(wheelhouse, tmp_path):
    env = dict(os.environ, PYTHON=sys.executable, SOKD_WHEELHOUSE=str(wheelhouse))
    return subprocess.run([
        'bash',
        osp.join(ROOT, 'tools', 'device_check', 'run.sh'),
        str(tmp_path / 'out'), '--dry-run'
    ],
                          capture_output=True,
                          text=True,
                          env=env,
                          timeout=60)


def test_dry_run_accepts_a_complete_wheelhouse_and_prints_the_plan(tmp_path):
    house = tmp_path / 'wheelhouse'
    house.mkdir()
    for name in WHEELS:
        (house / name).write_bytes(b'x' * 1024)
    res = _dry_run(house, tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f'{len(WHEELS)}/{len(WHEELS)} requirements' in res.stdout
    for step in ('install', 'ops', 'exactness', 'amp', 'cost'):
        assert f'. {step}: ' in res.stdout
    assert not (tmp_path / 'out').exists()  # a dry run writes nothing


def test_dry_run_names_what_is_missing_or_too_big(tmp_path):
    house = tmp_path / 'wheelhouse'
    house.mkdir()
    for name in WHEELS:
        if not name.startswith(('mmcv', 'pycocotools')):
            (house / name).write_bytes(b'x')
    (house / 'pycocotools-2.0.11-cp311-cp311-manylinux2014_x86_64.whl').write_bytes(b'x')
    res = _dry_run(house, tmp_path)
    assert res.returncode == 1
    assert 'missing: pycocotools, mmcv; run bash tools/device_check/make_wheelhouse.sh' in \
        res.stdout  # a cp311 wheel does not count for the machine's Python 3.12
    (house / 'mmcv-2.1.0.tar.gz').write_bytes(b'x')
    (house / 'pycocotools-2.0.11-cp312-abi3-manylinux2014_x86_64.whl').write_bytes(b'x')
    with open(house / 'huge.bin', 'wb') as f:
        f.truncate(65 * 2**20)
    res = _dry_run(house, tmp_path)
    assert res.returncode == 1 and 'over the 64 MiB that travel' in res.stdout
