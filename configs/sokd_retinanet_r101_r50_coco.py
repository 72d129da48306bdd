# SoKD over CWD for RetinaNet R101 -> R50 on COCO (the product's headline config):
#   python tools/train.py configs/sokd_retinanet_r101_r50_coco.py
# The CWD baseline plus the SoKD algorithm, DAFA, DAM and the policy optimiser.
_base_ = ['./baselines/cwd_fpn_retinanet_r101_r50_coco.py', './_base_/sokd/policy_optim.py']
model = dict(
    type='SoKD',
    search_interval=1,
    search_end=20000,  # the policy is searched over the first ~2.7 epochs at batch 16
    distiller=dict(
        type='SoKDDistiller',
        dafa=dict(type='DAFA', num_ops=2, draw='batch', estimator='relax'),
        dam=dict(type='DAM', in_channels=256, feat_channels=128, topk=8,
                 supervision='gt'),
        distill_losses={
            f'loss_cwd_fpn{i}': dict(
                _delete_=True,
                type='SoKDLoss',
                base_loss=dict(type='ChannelWiseDivergence', tau=1, loss_weight=10),
                area_normalize=False)
            for i in range(5)
        }))
optim_wrapper = dict(
    _delete_=True,
    constructor='mmrazor.SoKDOptimWrapperConstructor',
    # as the CWD base (MMDetection's RetinaNet 1x): no gradient clipping. With DAM reading
    # its features scale-free, the first iterations stay finite under the 500-iteration
    # warm-up (tests/test_configs/test_coco_configs_train.py)
    student=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001)),
    policy={{_base_.sokd_policy_optim}})
# mmdet's 1x schedule for the student; the policy keeps its learning rate
param_scheduler = dict(
    _delete_=True,
    student=[
        dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
        dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11],
             gamma=0.1)
    ],
    policy=[])
custom_hooks = [dict(type='mmrazor.DAFAPolicyLoggerHook', interval=200)]
# SoKD has its own train_step: under DDP the wrapper must delegate to it
model_wrapper_cfg = dict(type='mmrazor.SoKDDistributedDataParallel')
