# Ablation of SoKD over CWD: a policy step every 5th iteration instead of every one
_base_ = ['../sokd_cwd_retinanet_r34_r18_shapes.py']
model = dict(search_interval=5)
