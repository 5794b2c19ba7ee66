# Copyright (c) lth_mm authors. All rights reserved.
from .mask_enforcer import MaskEnforcer, iter_torch_optimizers

__all__ = ['MaskEnforcer', 'iter_torch_optimizers']
