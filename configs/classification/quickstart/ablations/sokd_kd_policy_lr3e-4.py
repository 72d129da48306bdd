# Ablation of SoKD over KD: the research code's policy optimiser (lr 3e-4) in a short run
_base_ = ['../sokd_kd_resnet34_resnet18_cifar_shapes.py']
optim_wrapper = dict(policy={{_base_.sokd_policy_optim}})
