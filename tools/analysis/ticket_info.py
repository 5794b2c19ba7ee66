# Copyright (c) lth_mm authors. All rights reserved.
"""Describe a ticket: network and prunable sparsity, per module group and per layer.

    python tools/analysis/ticket_info.py work_dirs/exp/round_1/ticket.pth [--json]
"""
import argparse
import json
import sys
from collections import OrderedDict


def ticket_info(path: str) -> dict:
    """Statistics of a ticket file.

    Args:
        path: ticket file.

    Returns:
        dict: ``meta``, ``prunable_params``, ``kept``, ``prunable_sparsity``,
        ``network_params``, ``network_sparsity`` (None if the ticket does not record the
        network size), ``groups`` and ``layers`` (each with numel/kept/sparsity).
    """
    from lth_mm.pruning import group_of, load_ticket
    ticket = load_ticket(path)
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


def main(argv=None):
    p = argparse.ArgumentParser(description='Sparsity of a ticket, per group and per layer.')
    p.add_argument('ticket')
    p.add_argument('--json', action='store_true', help='print JSON instead of tables')
    args = p.parse_args(argv)
    from lth_mm.pruning import TicketError
    try:
        info = ticket_info(args.ticket)
    except TicketError as e:
        sys.exit(f'error: {e}')
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    from terminaltables import AsciiTable
    m = info['meta']
    print(f"ticket {args.ticket}: round {m.get('round')}, kind {m.get('kind')}, keep ratio "
          f"{m.get('keep_ratio')}, scope {m.get('scope')}, criterion {m.get('criterion')}")
    print(f"prunable: {info['kept']:,} of {info['prunable_params']:,} kept, sparsity "
          f"{100 * info['prunable_sparsity']:.2f}%")
    if info['network_sparsity'] is not None:
        print(f"network: {info['network_params']:,} parameters, sparsity "
              f"{100 * info['network_sparsity']:.2f}%")
    rows = [['group', 'params', 'kept', 'sparsity']] + [
        [g, f"{v['numel']:,}", f"{v['kept']:,}", f"{100 * v['sparsity']:.2f}%"]
        for g, v in info['groups'].items()]
    print(AsciiTable(rows, 'per module group').table)
    rows = [['layer', 'params', 'sparsity']] + [
        [n, f"{v['numel']:,}", f"{100 * v['sparsity']:.2f}%"] for n, v in info['layers'].items()]
    print(AsciiTable(rows, 'per layer').table)
    return 0


if __name__ == '__main__':
    sys.exit(main())
