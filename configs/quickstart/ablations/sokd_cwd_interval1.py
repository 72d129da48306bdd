# Ablation of SoKD over CWD: a policy step every iteration instead of every 5th
_base_ = ['../sokd_cwd_retinanet_r34_r18_shapes.py']
model = dict(search_interval=1)
