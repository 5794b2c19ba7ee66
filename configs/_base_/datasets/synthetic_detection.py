# The embedded synthetic shapes for box detection (COCO format, bbox evaluation):
# synthetic_instance.py without masks, as mmdet's coco_detection.py is to coco_instance.py,
# on the CPU-sized data of the quickstarts and the demo (128 px images, 200 train / 30
# val), generated into `data_root` on first use.
_base_ = './synthetic_instance.py'
data_root = 'data/lth_synthetic_128/'
synthetic = dict(num_train=200, num_val=30, img_size=128, seed=0)
backend_args = None
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    # Images are generated at `synthetic.img_size`: keep their size (Resize only records
    # the scale factor, which PackDetInputs and the rescaling at test time need).
    dict(type='Resize', scale_factor=1.0, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale_factor=1.0, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    dataset=dict(data_root=data_root, synthetic=synthetic, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_root=data_root, synthetic=synthetic, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json', metric='bbox')
test_evaluator = val_evaluator
