# Table 3 (module ablation), row "Top + RPN + Box, Cls head":
# keep 20% of the weights of these modules
# only, everything else dense (groups as the official VOC code selects them: "RPN" = conv
# + its 1x1 predictors, "Box, Cls head" = all four final predictors; see configs/README.md).
_base_ = './faster-rcnn_r18-c4_lth-keep20-rw600it_12e_voc07.py'
lottery = dict(groups=['backbone_top', 'rpn', 'predictors'])
