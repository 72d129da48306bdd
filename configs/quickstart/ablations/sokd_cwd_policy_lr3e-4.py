# Ablation of SoKD over CWD: the research code's policy optimiser (lr 3e-4) in a short run
_base_ = ['../sokd_cwd_retinanet_r34_r18_shapes.py']
optim_wrapper = dict(policy={{_base_.sokd_policy_optim}})
