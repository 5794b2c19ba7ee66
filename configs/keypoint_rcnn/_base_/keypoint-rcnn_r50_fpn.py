# Keypoint R-CNN ResNet-50 FPN (the paper's keypoint model; Detectron2's
# Base-Keypoint-RCNN-FPN): mmdet's Faster R-CNN R50-FPN with one class (person) and a
# keypoint branch (lth_mm.models.KeypointRoIHead): RoIAlign 14x14 over P2-P5, 8 x conv 3x3
# 512 + ReLU, deconv to 28x28, bilinear x2 to 56x56, spatial-softmax cross-entropy.
# Two settings of the reference's keypoint config differ from mmdet's Faster R-CNN and are
# kept: 1500 RPN proposals per image in training, and smooth-L1 (beta 0.5) box regression
# in the RoI head (Detectron2 notes that plain L1 lowers keypoint AP).
_base_ = 'mmdet::_base_/models/faster-rcnn_r50_fpn.py'
num_keypoints = 17
model = dict(
    roi_head=dict(
        type='KeypointRoIHead',
        bbox_head=dict(num_classes=1,
                       loss_bbox=dict(_delete_=True, type='SmoothL1Loss', beta=0.5,
                                      loss_weight=1.0)),
        keypoint_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0, aligned=True),
            out_channels=256,
            featmap_strides=[4, 8, 16, 32]),
        keypoint_head=dict(type='KeypointRCNNHead', num_keypoints=num_keypoints,
                           in_channels=256, num_convs=8, conv_out_channels=512,
                           up_scale=2, loss_weight=1.0)),
    train_cfg=dict(rpn_proposal=dict(max_per_img=1500)))
