# Ablation of ATF over CWD: only the teacher's head is fine-tuned (as under ATF + SoKD)
_base_ = ['../atf_retinanet_r34_r18_shapes.py']
model = dict(teacher_trainable_modules=('bbox_head', ))
