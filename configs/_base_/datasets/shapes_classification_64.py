# The built-in classification data at 64 px, for pretraining detection backbones (one shape
# per image on clutter, 6 classes; MMPretrain's CustomDataset folder layout):
#   python tools/make_shapes_dataset.py --classification --img-size 64 --num-train 12000 \
#       --num-val 600 --out data/shapes_cls64
_base_ = ['./shapes_classification.py']
data_root = 'data/shapes_cls64/'
crop_size = 64
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=crop_size, padding=crop_size // 8),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=64, dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(batch_size=128, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
