# Ablation of SoKD over CWD: a policy step every 10th iteration over the first quarter only
_base_ = ['../sokd_cwd_retinanet_r34_r18_shapes.py']
# 1500 of the 6000 iterations (the benchmark stretches it with the run, as the schedule);
# 2.5 % of the iterations take a policy step instead of 20 %. After the search the policy
# is frozen and still sampled (docs/sokd_tuning.md, "The search schedule")
model = dict(search_interval=10, search_end=1500)
