"""One image size for a run (sokd_mmdet/apis/image_size.py): every Resize found by its type."""
import copy

import pytest
from mmengine.config import Config, DictAction

from conftest import config_path
from sokd_mmdet.apis.image_size import image_size_options, resize_keys

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _apply(cfg: Config, options: list) -> None:
    """Merge ``--cfg-options`` strings as tools/train.py does."""
    cfg.merge_from_dict({
        key: DictAction._parse_iterable(value)
        for key, value in (opt.split('=', 1) for opt in options)
    })


def test_every_resize_of_a_quickstart_config_gets_the_size():
    cfg = Config.fromfile(config_path('quickstart/sokd_cwd_retinanet_r34_r18_shapes.py'))
    before = copy.deepcopy(cfg.to_dict())
    options = image_size_options(cfg, 96)
    assert options == [
        'train_dataloader.dataset.pipeline.2.scale=(96,96)',
        'val_dataloader.dataset.pipeline.1.scale=(96,96)',
        'test_dataloader.dataset.pipeline.1.scale=(96,96)'
    ]
    _apply(cfg, options)
    after = cfg.to_dict()
    for loader in LOADERS:
        old, new = before[loader]['dataset']['pipeline'], after[loader]['dataset']['pipeline']
        assert [t['type'] for t in new] == [t['type'] for t in old]
        for t_old, t_new in zip(old, new):
            if t_new['type'] == 'Resize':
                assert t_old['scale'] == (256, 256) and t_new['scale'] == (96, 96)
                assert {k: v for k, v in t_new.items() if k != 'scale'} == \
                    {k: v for k, v in t_old.items() if k != 'scale'}
            else:
                assert t_new == t_old
    # the templates the loaders were copied from are read by no run: left as they were
    assert after['train_pipeline'] == before['train_pipeline']
    assert after['test_pipeline'] == before['test_pipeline']
    for loader in LOADERS:
        after[loader]['dataset']['pipeline'] = before[loader]['dataset']['pipeline']
    assert after == before  # nothing else changed


def test_resize_is_found_by_type_not_by_position():
    cfg = Config(
        dict(
            train_dataloader=dict(
                dataset=dict(
                    type='RepeatDataset',
                    times=2,
                    dataset=dict(pipeline=[
                        dict(type='LoadImageFromFile'),
                        dict(type='mmdet.Resize', scale=(10, 10), keep_ratio=True),
                        dict(type='RandomFlip', prob=0.5),
                        dict(type='RandomResize', scale=[(5, 5), (6, 6)]),
                        dict(type='Resize', scale=(20, 20))
                    ]))),
            val_dataloader=dict(
                dataset=dict(
                    type='ConcatDataset',
                    datasets=[
                        dict(pipeline=[dict(type='Resize', scale=(30, 30))]),
                        dict(pipeline=[
                            dict(type='LoadImageFromFile'),
                            dict(type='Resize', scale=(40, 40))
                        ]),
                    ]))))
    before = copy.deepcopy(cfg.to_dict())
    assert resize_keys(cfg) == [
        'train_dataloader.dataset.dataset.pipeline.1.scale',
        'train_dataloader.dataset.dataset.pipeline.4.scale',
        'val_dataloader.dataset.datasets.0.pipeline.0.scale',
        'val_dataloader.dataset.datasets.1.pipeline.1.scale'
    ]
    _apply(cfg, image_size_options(cfg, 64))
    train = cfg.train_dataloader.dataset.dataset.pipeline
    assert [t.get('scale') for t in train] == [None, (64, 64), None, [(5, 5), (6, 6)], (64, 64)]
    assert train[1].keep_ratio is True and train[2].prob == 0.5
    assert [p.pipeline[-1].scale for p in cfg.val_dataloader.dataset.datasets] == [(64, 64)] * 2
    assert cfg.train_dataloader.dataset.times == 2
    assert len(cfg.to_dict()['val_dataloader']['dataset']['datasets'][1]['pipeline']) == \
        len(before['val_dataloader']['dataset']['datasets'][1]['pipeline'])


def test_a_pipeline_without_resize_is_an_error_that_names_it():
    cfg = dict(
        train_dataloader=dict(dataset=dict(pipeline=[dict(type='Resize', scale=(8, 8))])),
        val_dataloader=dict(
            dataset=dict(pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='RandomResize', scale=[(1, 1), (2, 2)])
            ])))
    with pytest.raises(
            ValueError,
            match=r"^val_dataloader\.dataset\.pipeline has no Resize "
            r"transform \(\['LoadImageFromFile', 'RandomResize'\]\).*add one"):
        image_size_options(cfg, 64)
    # a config without a val or test loader has nothing to resize there
    del cfg['val_dataloader']
    assert image_size_options(cfg, 64) == ['train_dataloader.dataset.pipeline.0.scale=(64,64)']
