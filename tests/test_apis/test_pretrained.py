import os.path as osp

from mmengine.config import Config

from sokd_mmdet.apis.pretrained import REPO_ROOT, is_pretrained_init, pretrain_config_of


def test_is_pretrained_init_reads_the_type_with_or_without_a_scope():
    assert is_pretrained_init(dict(type='Pretrained', checkpoint='a.pth'))
    assert is_pretrained_init(dict(type='mmengine.Pretrained', checkpoint='a.pth'))
    assert not is_pretrained_init(dict(type='Kaiming', layer='Conv2d'))
    assert not is_pretrained_init(None)
    assert not is_pretrained_init([dict(type='Pretrained')])  # a list is MMEngine's other form


def test_the_built_in_detectors_name_weights_that_a_pretraining_config_writes():
    for cfg in ('configs/quickstart/retinanet_r18_shapes_student.py',
                'configs/quickstart/retinanet_r34_shapes_teacher.py'):
        init = Config.fromfile(osp.join(REPO_ROOT, cfg)).model.backbone.init_cfg
        assert is_pretrained_init(init)
        pretrain = pretrain_config_of(init.checkpoint)
        assert pretrain is not None, cfg
        # that config writes to work_dirs/<its name>/ (tools/train.py's default work dir)
        name = osp.splitext(osp.basename(pretrain))[0]
        assert osp.basename(osp.dirname(init.checkpoint)) == name
        assert init.checkpoint.startswith('work_dirs/')
        # ... and its last checkpoint: the file named is the one the command leaves
        iters = Config.fromfile(osp.join(REPO_ROOT, pretrain)).train_cfg.max_iters
        assert osp.basename(init.checkpoint) == f'iter_{iters}.pth'


def test_pretrain_config_of_is_none_for_weights_no_config_writes(tmp_path):
    assert pretrain_config_of('work_dirs/no-such-config/iter_2000.pth') is None
    assert pretrain_config_of('iter_2000.pth') is None
    (tmp_path / 'configs' / 'pretrain').mkdir(parents=True)
    (tmp_path / 'configs' / 'pretrain' / 'mine.py').write_text('')
    assert pretrain_config_of(
        'w/mine/iter_1.pth', root=str(tmp_path)) == osp.join('configs', 'pretrain', 'mine.py')
