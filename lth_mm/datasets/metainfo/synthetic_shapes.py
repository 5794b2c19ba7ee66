# Copyright (c) lth_mm authors. All rights reserved.
# mmpose ``dataset_info`` of the lth_mm synthetic shapes dataset (see
# lth_mm/datasets/synthetic/params.py: KEYPOINT_NAMES, SKELETON, FLIP_PAIRS, SIGMAS, which
# tests/test_synthetic_dataset.py checks against this file). Kept as plain literals:
# mmengine's Config.fromfile reads it on its own, without importing lth_mm.
dataset_info = dict(
    dataset_name='lth_synthetic_shapes',
    paper_info=dict(
        author='lth_mm authors',
        title='lth_mm synthetic shapes (square, circle, triangle, cross)',
        container='lth_mm',
        year='2024',
        homepage='',
    ),
    # ``type`` only feeds mmpose's half-body augmentation: the upper half of a shape
    # holds top/left/right/center (left/right are mid-height except on triangles).
    keypoint_info={
        0: dict(name='top', id=0, color=[255, 0, 0], type='upper', swap=''),
        1: dict(name='right', id=1, color=[0, 255, 0], type='upper', swap='left'),
        2: dict(name='bottom', id=2, color=[0, 0, 255], type='lower', swap=''),
        3: dict(name='left', id=3, color=[255, 255, 0], type='upper', swap='right'),
        4: dict(name='center', id=4, color=[255, 0, 255], type='upper', swap=''),
    },
    skeleton_info={
        0: dict(link=('top', 'right'), id=0, color=[255, 128, 0]),
        1: dict(link=('right', 'bottom'), id=1, color=[255, 128, 0]),
        2: dict(link=('bottom', 'left'), id=2, color=[255, 128, 0]),
        3: dict(link=('left', 'top'), id=3, color=[255, 128, 0]),
        4: dict(link=('center', 'top'), id=4, color=[51, 153, 255]),
        5: dict(link=('center', 'right'), id=5, color=[51, 153, 255]),
        6: dict(link=('center', 'bottom'), id=6, color=[51, 153, 255]),
        7: dict(link=('center', 'left'), id=7, color=[51, 153, 255]),
    },
    joint_weights=[1.0, 1.0, 1.0, 1.0, 1.0],
    sigmas=[0.07, 0.07, 0.07, 0.07, 0.07],
)
