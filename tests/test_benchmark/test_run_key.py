"""A run's key (benchmark/run_key.py): what the run does, not how its config is written."""
from benchmark.run_key import file_sha256, run_key, semantic_text, weighed_options, weights_digest

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


def test_weight_files_hash_by_their_contents(tmp_path):
    a, b, c = (tmp_path / n for n in ('a.pth', 'b.pth', 'c.pth'))
    a.write_bytes(b'the same weights')
    b.write_bytes(b'the same weights')
    c.write_bytes(b'other weights')
    digests = {str(p): file_sha256(str(p)) for p in (a, b, c)}
    opts = [f'model.teacher_ckpt={a}', 'randomness.seed=0']
    assert weighed_options(
        opts, digests) == [f'model.teacher_ckpt=sha256:{digests[str(a)]}', 'randomness.seed=0']
    # the same bytes elsewhere: the same run; other bytes under any path: another run
    same = weighed_options([f'model.teacher_ckpt={b}', 'randomness.seed=0'], digests)
    other = weighed_options([f'model.teacher_ckpt={c}', 'randomness.seed=0'], digests)
    assert run_key(same) == run_key(weighed_options(opts, digests)) != run_key(other)
    backbone = f'model.architecture.backbone.init_cfg.checkpoint={c}'
    assert weighed_options([
        backbone
    ], digests) == [f'model.architecture.backbone.init_cfg.checkpoint=sha256:{digests[str(c)]}']
    # a file of unknown contents: a key that no finished run has
    assert weighed_options([f'model.teacher_ckpt={a}'],
                           {}) == ['model.teacher_ckpt=sha256:unknown']
    assert file_sha256(str(tmp_path / 'gone.pth')) is None


def test_a_records_digest_stands_for_weights_not_on_this_machine(tmp_path):
    path = tmp_path / 'iter_6000.pth'
    path.write_bytes(b'teacher')
    assert weights_digest(dict(checkpoint=str(path))) == file_sha256(str(path))
    assert weights_digest(dict(checkpoint='/gone/iter_6000.pth', sha256='ab' * 32)) == 'ab' * 32
    assert weights_digest(dict(checkpoint='/gone/iter_6000.pth')) is None
    assert weights_digest(None) is None
