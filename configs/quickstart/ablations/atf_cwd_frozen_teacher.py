# Ablation of ATF over CWD: the ATF losses with no teacher updates (teacher_end=0)
_base_ = ['../atf_retinanet_r34_r18_shapes.py']
model = dict(teacher_end=0)
