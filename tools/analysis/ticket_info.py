# Copyright (c) lth_mm authors. All rights reserved.
"""Describe a ticket: network and prunable sparsity, per module group and per layer.

    python tools/analysis/ticket_info.py work_dirs/exp/round_1/ticket.pth [--json]

(:func:`lth_mm.analysis.ticket_info.ticket_info`).
"""
import argparse
import sys


def main(argv=None):
    p = argparse.ArgumentParser(description='Sparsity of a ticket, per group and per layer.')
    p.add_argument('ticket')
    p.add_argument('--json', action='store_true', help='print JSON instead of tables')
    args = p.parse_args(argv)
    import json

    from lth_mm.analysis.ticket_info import format_ticket_info, ticket_info
    from lth_mm.pruning import TicketError
    try:
        info = ticket_info(args.ticket)
        text = (json.dumps(info, indent=2, default=str) if args.json else
                format_ticket_info(info, args.ticket))
    except TicketError as e:
        sys.exit(f'error: {e}')
    print(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
