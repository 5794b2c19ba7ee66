# The embedded synthetic shapes for box detection (COCO format, bbox evaluation):
# synthetic_instance.py without masks, as mmdet's coco_detection.py is to coco_instance.py,
# on the CPU-sized data of the quickstarts and the demo (128 px images, 200 train / 30
# val), generated into `data_root` on first use.
_base_ = './synthetic_instance.py'
data_root = 'data/lth_synthetic_128/'
synthetic = dict(num_train=200, num_val=30, img_size=128, seed=0)


def boxes_only(pipeline):
    """A pipeline of synthetic_instance.py (read as `_base_.<name>`) that loads boxes only.

    Args:
        pipeline (list[dict]): the instance pipeline (LoadAnnotations with masks).

    Returns:
        list[dict]: the same steps, LoadAnnotations with ``with_bbox=True`` alone. (A
        config's functions are no keys of it: mmengine drops them.)
    """
    return [dict(type='LoadAnnotations', with_bbox=True) if step.type == 'LoadAnnotations'
            else step for step in pipeline]


train_pipeline = boxes_only(_base_.train_pipeline)
test_pipeline = boxes_only(_base_.test_pipeline)
train_dataloader = dict(
    dataset=dict(data_root=data_root, synthetic=synthetic, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_root=data_root, synthetic=synthetic, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json', metric='bbox')
test_evaluator = val_evaluator
