# Ablation of SoKD over CWD: both cost levers, DAM's heads 32 wide and a short policy search
_base_ = ['../sokd_cwd_retinanet_r34_r18_shapes.py']
# sokd_cwd_dam32 and sokd_cwd_search_short together: the candidate default that meets the
# 1.3x whole-run budget side by side (1.19x CWD's time, 1.11x its peak memory; the method's
# config: 1.97x, 1.11x), docs/sokd_tuning.md "Cost: the levers"; its AP decides
model = dict(search_interval=10, search_end=1500, distiller=dict(dam=dict(feat_channels=32)))
