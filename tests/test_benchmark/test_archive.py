"""The committed run records (benchmark/archive.py): where they go, what they keep, when a
planned run may take one instead of training."""
import json
import os
import os.path as osp

from benchmark import REPO_ROOT
from benchmark.archive import (RECORDS, default_records_dir, load_record, once_name, portable,
                               record_path, save_record)


def test_records_go_beside_the_repository_only_for_an_out_under_work_dirs(tmp_path):
    work_dirs = osp.join(REPO_ROOT, 'work_dirs')
    assert default_records_dir(osp.join(work_dirs, 'benchmark')) == osp.join(RECORDS, 'benchmark')
    assert default_records_dir(osp.join(work_dirs, 'tune', 'a')) == osp.join(RECORDS, 'tune', 'a')
    # a test's temporary folder, or work_dirs itself, writes nothing into the checkout
    assert default_records_dir(str(tmp_path / 'bench')) == ''
    assert default_records_dir(work_dirs) == ''
    assert default_records_dir(work_dirs + '-other') == ''


def test_paths_inside_the_checkout_are_kept_relative():
    root = '/clone'
    record = dict(
        work_dir='/clone/work_dirs/b/runs/cwd/seed0',
        config='/elsewhere/x.py',
        curve=[dict(iter=2, AP=1.5)],
        nested={'ckpt': ['/clone/a.pth', 3]},
        prefix_only='/clone2/x')
    assert portable(record, root) == dict(
        work_dir='work_dirs/b/runs/cwd/seed0',
        config='/elsewhere/x.py',
        curve=[dict(iter=2, AP=1.5)],
        nested={'ckpt': ['a.pth', 3]},
        prefix_only='/clone2/x')


def test_a_record_is_found_only_for_its_key(tmp_path):
    records = str(tmp_path)
    record = dict(method='cwd', seed=1, key='abc', metrics=dict(AP=17.9), cached=False)
    save_record(records, 'cwd', 1, record)
    with open(record_path(records, 'cwd', 1)) as f:
        kept = json.load(f)
    assert kept == dict(method='cwd', seed=1, key='abc', metrics=dict(AP=17.9))
    assert load_record(records, 'cwd', 1, 'abc') == kept
    assert load_record(records, 'cwd', 1, 'other') is None  # a changed config: trained again
    assert load_record(records, 'cwd', 2, 'abc') is None
    assert load_record('', 'cwd', 1, 'abc') is None and load_record(None, 'cwd', 1, 'abc') is None
    save_record('', 'cwd', 1, record)  # no records folder: nothing written, no error


def test_a_record_is_rewritten_only_when_it_changes(tmp_path):
    records = str(tmp_path)
    save_record(records, 'teacher', None, dict(key='k', metrics=dict(AP=23.6)))
    path = record_path(records, 'teacher', None)
    assert path == osp.join(records, 'teacher.json')
    os.utime(path, (1, 1))
    save_record(records, 'teacher', None, dict(key='k', metrics=dict(AP=23.6), cached=True))
    assert os.stat(path).st_mtime == 1  # same contents: the file is left alone
    save_record(records, 'teacher', None, dict(key='k', metrics=dict(AP=23.7)))
    assert load_record(records, 'teacher', None, 'k')['metrics'] == dict(AP=23.7)
    assert not [n for n in os.listdir(records) if n.endswith('.tmp')]


def test_a_once_per_key_run_is_named_by_its_work_dir_prefix():
    assert once_name(dict(work_dir='/o/teacher-0123456789', key='0123456789')) == 'teacher'
    plan = dict(work_dir='/o/pretrain-resnet18-w16_shapes-cls64-aaaaaaaaaa', key='aaaaaaaaaa')
    assert once_name(plan) == 'pretrain-resnet18-w16_shapes-cls64'
