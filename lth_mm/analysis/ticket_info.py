# Copyright (c) lth_mm authors. All rights reserved.
"""A ticket described: network and prunable sparsity, per module group and per layer."""
from collections import OrderedDict


def ticket_info(path: str) -> dict:
    """Statistics of a ticket file.

    Args:
        path: ticket file.

    Returns:
        dict: ``meta``, ``prunable_params``, ``kept``, ``prunable_sparsity``,
        ``network_params``, ``network_sparsity`` (None if the ticket does not record the
        network size), ``groups`` and ``layers`` (each with numel/kept/sparsity).

    Raises:
        TicketError: the file is not a readable ticket (the message says what it is: a
            checkpoint, a compact file, an export, and which tool reads it).
    """
    from lth_mm.engine.checkpoint_io import read_ticket
    from lth_mm.pruning import group_of
    ticket = read_ticket(path)  # another kind of file: says what it is and what reads it
    layers = ticket.masks.per_tensor()
    groups = OrderedDict()
    for name, st in layers.items():
        g = groups.setdefault(group_of(name), dict(numel=0, kept=0))
        g['numel'] += st['numel']
        g['kept'] += st['kept']
    for g in groups.values():
        g['sparsity'] = 1.0 - g['kept'] / max(g['numel'], 1)
    numel, kept = ticket.masks.numel(), sum(st['kept'] for st in layers.values())
    net = ticket.meta.get('network_params')
    return dict(meta=ticket.meta, prunable_params=numel, kept=kept,
                prunable_sparsity=1.0 - kept / max(numel, 1), network_params=net,
                network_sparsity=None if not net else (numel - kept) / net,
                groups=groups, layers=layers)


def format_ticket_info(info: dict, path: str) -> str:
    """:func:`ticket_info` as text: a header, the per-group and the per-layer tables.

    Args:
        info: :func:`ticket_info`'s statistics.
        path: the ticket file (named in the header).

    Returns:
        str: the text.
    """
    from terminaltables import AsciiTable
    m = info['meta']
    lines = [f"ticket {path}: round {m.get('round')}, kind {m.get('kind')}, keep ratio "
             f"{m.get('keep_ratio')}, scope {m.get('scope')}, criterion {m.get('criterion')}",
             f"prunable: {info['kept']:,} of {info['prunable_params']:,} kept, sparsity "
             f"{100 * info['prunable_sparsity']:.2f}%"]
    if info['network_sparsity'] is not None:
        lines.append(f"network: {info['network_params']:,} parameters, sparsity "
                     f"{100 * info['network_sparsity']:.2f}%")
    rows = [['group', 'params', 'kept', 'sparsity']] + [
        [g, f"{v['numel']:,}", f"{v['kept']:,}", f"{100 * v['sparsity']:.2f}%"]
        for g, v in info['groups'].items()]
    lines.append(AsciiTable(rows, 'per module group').table)
    rows = [['layer', 'params', 'sparsity']] + [
        [n, f"{v['numel']:,}", f"{100 * v['sparsity']:.2f}%"] for n, v in info['layers'].items()]
    lines.append(AsciiTable(rows, 'per layer').table)
    return '\n'.join(lines)
