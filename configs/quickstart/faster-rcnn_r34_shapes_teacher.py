# Teacher of the quickstart Faster R-CNN pair: the RetinaNet teacher's recipe (600 iterations
# from scratch on the built-in data set) with the Faster R-CNN ResNet-34.
#   python tools/train.py configs/quickstart/faster-rcnn_r34_shapes_teacher.py
_base_ = ['./retinanet_r34_shapes_teacher.py', '../_base_/models/faster-rcnn_shapes.py']
model = {{_base_.faster_teacher_model}}
