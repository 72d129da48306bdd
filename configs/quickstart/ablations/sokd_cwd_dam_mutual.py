# Ablation of SoKD over CWD: DAM supervised by the mutual agreement only (no ground truth)
_base_ = ['../sokd_cwd_retinanet_r34_r18_shapes.py']
model = dict(distiller=dict(dam=dict(supervision='mutual')))
