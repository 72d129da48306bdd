"""sokd-mmdet: Student-Oriented Knowledge Distillation for MMDetection / MMRazor."""
import os.path as osp
import re
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name):
    """Requirement lines of ``requirements/<name>.txt`` (comments and blanks dropped)."""
    with open(osp.join(HERE, 'requirements', name + '.txt')) as f:
        lines = (re.sub(r'#.*', '', line).strip() for line in f)
        return [line for line in lines if line]


def read_version():
    with open(osp.join(HERE, 'sokd_mmdet', 'version.py')) as f:
        return re.search(r"__version__ = '([^']+)'", f.read()).group(1)


setup(
    name='sokd-mmdet',
    version=read_version(),
    description='Student-Oriented Knowledge Distillation (SoKD) for MMDetection and MMRazor',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    # benchmark/ is development tooling run from a checkout (as MMDetection keeps
    # .dev_scripts/ apart), not part of the installed package
    packages=find_packages(
        exclude=('tests', 'tests.*', 'configs', 'tools', 'benchmark', 'benchmark.*')),
    python_requires='>=3.10',  # torch 2.14 (requirements/torch.txt) needs 3.10
    install_requires=read_requirements('runtime'),
    extras_require={'tests': read_requirements('tests')},
    license='Apache-2.0',
)
