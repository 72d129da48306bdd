# The FPN of MMDetection's ResNet RetinaNets and Faster R-CNNs as the COCO configs distil it:
# 256 channels, every one of its five outputs (RetinaNet P3-P7, Faster R-CNN P2-P6), as
# MMRazor's CWD configs. The fragments that distil it read these (`{{_base_.fpn_channels}}`).
fpn_channels = 256
distill_levels = (0, 1, 2, 3, 4)
