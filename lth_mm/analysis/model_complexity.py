# Copyright (c) lth_mm authors. All rights reserved.
"""Dense and effective (sparse) MACs and parameters of a config's model, or of a ticket
(:mod:`lth_mm.complexity` on a model built from a config)."""
import os.path as osp


def default_shape(cfg):
    """Input (H, W): the pose codec's input size, else mmdet get_flops' 800x1344."""
    codec = cfg.get('codec')
    if isinstance(codec, dict) and 'input_size' in codec:
        w, h = codec['input_size']
        return int(h), int(w)
    return 800, 1344


def config_complexity(config, ticket=None, checkpoint=None, shape=None):
    """The complexity of a config's model, dense, with a ticket's masks or with the zeros
    of a pruned checkpoint.

    Args:
        config (str): a config file, or an ``mmdet::`` / ``mmpose::`` path.
        ticket (str, optional): a ticket whose masks give each layer's density.
        checkpoint (str, optional): a pruned checkpoint: densities from its zeros.
        shape (tuple[int, int], optional): input (H, W); default :func:`default_shape`.

    Returns:
        lth_mm.complexity.Complexity: the counts.

    Raises:
        FileNotFoundError: a file does not exist.
        TicketError, ValueError: the ticket is unreadable or does not fit the model.
    """
    from lth_mm.apis import build_model_from_cfg
    from lth_mm.benchmark.common import load_config
    from lth_mm.complexity import analyze
    from lth_mm.engine.checkpoint_io import read_ticket
    from lth_mm.pruning import check_fits
    for path, what in ((ticket, 'ticket'), (checkpoint, 'checkpoint')):
        if path and not osp.isfile(path):
            raise FileNotFoundError(f'{what} {path!r} does not exist.')
    if '::' not in config and not osp.isfile(config):
        raise FileNotFoundError(f'config {config!r} does not exist.')
    cfg = load_config(config)
    loaded = read_ticket(ticket, '--ticket') if ticket else None  # before the build
    model = build_model_from_cfg(cfg, checkpoint)
    masks = {}  # dense
    if loaded is not None:
        check_fits(loaded.masks, dict(model.named_parameters()))
        masks = loaded.masks.as_bool()
    elif checkpoint:
        masks = None  # the zeros of the loaded weights
    return analyze(model, masks, tuple(shape) if shape else default_shape(cfg))
