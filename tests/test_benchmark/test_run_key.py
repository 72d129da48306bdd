"""A run's key (benchmark/run_key.py): what the run does, not how its config is written."""
from benchmark.run_key import run_key, semantic_text

RESOLVED = ("model = dict(type='X', lr=0.1)\n"
            "train_cfg = dict(\n    max_iters=10,\n    val_interval=5)\n")


def test_private_helpers_do_not_change_the_key():
    helper = ("_paramwise = dict(\n    custom_keys=dict(m=dict(decay_mult=0.0)))\n" + RESOLVED +
              "_lr = 0.1\n")
    assert semantic_text(helper) == RESOLVED
    assert semantic_text(RESOLVED) is RESOLVED  # no helper: the text as it was
    # a real change still changes the text
    assert semantic_text(RESOLVED.replace('0.1', '0.2')) != RESOLVED


def test_the_key_hashes_its_parts_by_value():
    key = run_key(RESOLVED, ['a=1', 'b=2'], 4)
    assert len(key) == 10 and int(key, 16) >= 0
    assert run_key(RESOLVED, ['a=1', 'b=2'], 4) == key
    assert run_key(RESOLVED, ['b=2', 'a=1'], 4) != key  # the options' order is part of it
    assert run_key(RESOLVED, ['a=1', 'b=2'], 5) != key


def test_paths_inside_the_checkout_hash_as_relative_paths():
    # the same run planned in two clones has one key (its committed record is found in both)
    a = run_key(['data_root=/clone/a/work_dirs/benchmark/data/'], root='/clone/a')
    b = run_key(['data_root=/elsewhere/b/work_dirs/benchmark/data/'], root='/elsewhere/b')
    assert a == b == run_key(['data_root=work_dirs/benchmark/data/'], root='/nowhere')
    # a path outside the checkout still counts as it is
    assert run_key(['data_root=/data/coco/'],
                   root='/clone/a') != run_key(['data_root=/data/other/'], root='/clone/a')
