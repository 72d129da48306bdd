"""Variance of DAFA's policy-gradient estimators now against an earlier version of them.

Trains the RELAX control variate on the toy objective of
``tests/test_models/test_sokd/test_dafa_policy.py`` (a reward table over sub-policies and flags,
centred on 0) and prints, for several numbers of sub-policies S, the total per-sample
variance of the RELAX and REINFORCE estimates of this tree against those of ``--old-ref``
(a git revision whose ``policy.py`` and test helpers are read with ``git show``). Both are
unbiased (the tests check it); only the variance is compared.

    python tools/analysis_tools/relax_variance.py --old-ref b12a16d [--sub-policies 3 9 36]
"""
import argparse
import importlib.util
import os.path as osp
import subprocess
import sys
import tempfile

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
POLICY = 'sokd_mmdet/models/sokd/dafa/policy.py'
# where policy.py was before the models were grouped by method (older revisions)
OLD_POLICY = 'sokd_mmdet/models/dafa/policy.py'
TESTS = 'tests/test_models/test_sokd/test_dafa_policy.py'
OLD_TESTS = 'tests/test_models/test_dafa_policy.py'


def _helpers(policy_src: str, test_src: str, tag: str) -> dict:
    """The toy-problem helpers of a test file, bound to the given policy module source."""
    tmp = tempfile.mkdtemp()
    path = osp.join(tmp, f'{tag}_policy.py')
    with open(path, 'w') as f:
        f.write(policy_src)
    spec = importlib.util.spec_from_file_location(f'{tag}_policy', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[f'{tag}_policy'] = module
    ns = {}
    for module_path in ('sokd_mmdet.models.sokd.dafa.policy', 'sokd_mmdet.models.dafa.policy'):
        test_src = test_src.replace(f'from {module_path} import', f'from {tag}_policy import')
    exec(compile(test_src, f'{tag}_tests', 'exec'), ns)
    return ns


def _variances(ns: dict, s: int, k: int, draws: int, steps: int):
    ns['S'], ns['K'] = s, k
    torch.manual_seed(0)
    w, p = ns['random_policy'](s, k, 1)
    table = torch.rand(s, 2, 2, dtype=torch.float64, generator=ns['gen'](2)) - 0.5
    cv = ns['build_control_variate'](s, k, 64).double()
    ns['train_control_variate'](cv, w, p, table, steps=steps)
    relax = ns['mc_estimates'](w, p, table, cv, draws, seed=8)
    reinforce = ns['mc_estimates'](w, p, table, None, draws, seed=8)
    return relax.var(0).sum().item(), reinforce.var(0).sum().item()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--old-ref', required=True, help='git revision to compare with')
    parser.add_argument('--sub-policies', type=int, nargs='+', default=[3, 9, 36])
    parser.add_argument('--draws', type=int, default=20000)
    parser.add_argument('--cv-steps', type=int, default=200)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    def show(ref, *paths):
        """The file at the first of ``paths`` that exists at ``ref``."""
        for path in paths:
            out = subprocess.run(['git', 'show', f'{ref}:{path}'],
                                 cwd=ROOT,
                                 capture_output=True,
                                 text=True)
            if out.returncode == 0:
                return out.stdout
        raise FileNotFoundError(f'none of {paths} exists at {ref}')

    with open(osp.join(ROOT, POLICY)) as f, open(osp.join(ROOT, TESTS)) as g:
        new = _helpers(f.read(), g.read(), 'new')
    old = _helpers(
        show(args.old_ref, POLICY, OLD_POLICY), show(args.old_ref, TESTS, OLD_TESTS), 'old')
    print('| S | K | RELAX now / then | REINFORCE now / then | RELAX / REINFORCE now | then |')
    print('|---|---|---|---|---|---|')
    for s in args.sub_policies:
        rn, fn = _variances(new, s, 2, args.draws, args.cv_steps)
        ro, fo = _variances(old, s, 2, args.draws, args.cv_steps)
        print(f'| {s} | 2 | {rn / ro:.3f} | {fn / fo:.3f} | {rn / fn:.3f} | {ro / fo:.3f} |')


if __name__ == '__main__':
    main()
