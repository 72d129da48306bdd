# Ablation of SoKD over CWD: DAM's heads 32 channels wide instead of 64 (half their cost)
_base_ = ['../sokd_cwd_retinanet_r34_r18_shapes.py']
# At 64 the three heads' 3x3 convolutions on the 128-channel P3-P5 of both networks are
# about a quarter of a CWD step of this tiny R18-w16 student (docs/sokd_tuning.md, "Cost")
model = dict(distiller=dict(dam=dict(feat_channels=32)))
