"""docs/robustness.md names, for every fault, a test that exists."""
import os.path as osp
import re

from conftest import ROOT


def test_every_row_of_the_robustness_page_names_an_existing_test():
    page = open(osp.join(ROOT, 'docs', 'robustness.md')).read()
    rows = [
        line for line in page.splitlines()
        if line.startswith('| ') and not line.startswith(('| fault', '|---'))
    ]
    assert len(rows) >= 20
    for row in rows:
        refs = re.findall(r'`(tests/[\w/]+\.py)::(\w+)`', row)
        assert refs, f'a row without a test: {row[:80]}'
        for path, name in refs:
            with open(osp.join(ROOT, path)) as f:
                assert re.search(rf'^def {name}\(', f.read(), re.M), f'{path}::{name}'
