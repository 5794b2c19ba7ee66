# Copyright (c) lth_mm authors. All rights reserved.
"""Pure pruning math: scopes, criteria, schedules, masks and tickets (no mmengine)."""
from .registry import CRITERIA, Registry, criterion_name
from .criteria import (compute_masks, global_magnitude, layerwise_magnitude, permute_within,
                       random_with_counts)
from .lamp import lamp  # registers 'lamp'
from .channels import ChannelGroup, ChannelStructure
from .structured import (channel_magnitude, channel_refill, is_structured, model_structure,
                         random_channels)  # registers the channel criteria
from .collapse import COLLAPSE_FLOOR, collapsed_tensors, floor_count, format_collapse
from .masks import MaskSet, count_parameters, pack_bool, unpack_bool, zero_fraction
from .schedule import SCHEDULES, ScheduleError, keep_ratios
from .scope import (MODULE_GROUPS, PRESETS, REASONS, ScopeError, conv_like_weights,
                    explain_scope, group_of, predictor_info, resolve_groups,
                    select_prunable)
from .settings import CONTROLS, REWIND_MODES, LotteryConfigError, LotterySettings
from . import rounds
from .rounds import KINDS, RoundStart, round_start
from .ticket import (Ticket, TicketError, check_fits, load_ticket, save_ticket,
                     ticket_meta)

__all__ = [
    'CRITERIA', 'Registry', 'criterion_name', 'lamp', 'COLLAPSE_FLOOR', 'collapsed_tensors',
    'floor_count', 'format_collapse', 'compute_masks', 'global_magnitude',
    'layerwise_magnitude', 'permute_within', 'random_with_counts', 'MaskSet',
    'count_parameters', 'pack_bool', 'unpack_bool', 'zero_fraction', 'SCHEDULES',
    'ScheduleError', 'keep_ratios', 'MODULE_GROUPS', 'PRESETS', 'ScopeError', 'REASONS',
    'conv_like_weights', 'explain_scope', 'group_of', 'predictor_info', 'resolve_groups',
    'select_prunable', 'CONTROLS', 'REWIND_MODES', 'LotteryConfigError', 'LotterySettings',
    'Ticket', 'TicketError', 'check_fits', 'load_ticket', 'save_ticket', 'ticket_meta',
    'rounds', 'KINDS', 'RoundStart', 'round_start', 'ChannelGroup', 'ChannelStructure',
    'channel_magnitude', 'channel_refill', 'is_structured', 'model_structure',
    'random_channels'
]
