# Copyright (c) lth_mm authors. All rights reserved.
"""What the benchmarks share: configs by file or package path, a model magnitude-pruned at
its random initialisation, and the statistics of interleaved timings."""
import os
import platform
import random
import statistics

# R50 Mask R-CNN: the model of the size, speed and resume benchmarks (41.1M prunable).
R50_MASK_RCNN = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'


def load_config(path):
    """A config from a file or an installed package (``mmdet::...``).

    Args:
        path (str): a config file, or ``package::relative/path.py``.

    Returns:
        mmengine.Config: the config.
    """
    from mmengine.config import Config
    if '::' in path:
        from mmengine.hub import get_config
        return get_config(path)
    return Config.fromfile(path)


def prunable_weights(model, scope='paper'):
    """The weights a scope prunes, detached, by parameter name.

    Args:
        model (nn.Module): the model.
        scope (str | dict): a scope preset, or the keyword arguments of
            :func:`~lth_mm.pruning.select_prunable` (a ``LotterySettings.scope_dict``).

    Returns:
        dict[str, Tensor]: name -> weight.
    """
    from lth_mm.pruning import select_prunable
    kwargs = scope if isinstance(scope, dict) else dict(scope=scope)
    params = dict(model.named_parameters())
    return {n: params[n].detach() for n in select_prunable(model, **kwargs)}


def magnitude_masks(weights, keep):
    """Global magnitude masks of dense weights at keep ratio ``keep`` (a ``MaskSet``)."""
    import torch

    from lth_mm.pruning import MaskSet, global_magnitude
    ones = {n: torch.ones_like(w, dtype=torch.bool) for n, w in weights.items()}
    return MaskSet(global_magnitude(weights, ones, keep))


def random_model(config, seed=0):
    """A config's model with random weights (``init_cfg`` removed: nothing is downloaded).

    Args:
        config (str | Config): a config, or its path (see :func:`load_config`).
        seed (int): torch seed of the initialisation.

    Returns:
        nn.Module: the model.
    """
    import torch

    from lth_mm.apis import build_model_from_cfg
    torch.manual_seed(seed)
    return build_model_from_cfg(load_config(config) if isinstance(config, str) else config)


def pruned_model(config, keep=0.2, seed=0, scope='paper'):
    """:func:`random_model`, magnitude-pruned over ``scope`` (pruned weights zeroed).

    Args:
        config (str | Config): a config, or its path (see :func:`load_config`).
        keep (float): keep ratio of the prunable weights.
        seed (int): torch seed of the initialisation.
        scope (str | dict): see :func:`prunable_weights`.

    Returns:
        tuple: ``(model, masks)``, masks a :class:`~lth_mm.pruning.MaskSet`.
    """
    model = random_model(config, seed)
    masks = magnitude_masks(prunable_weights(model, scope), keep)
    masks.apply_(dict(model.named_parameters()))
    return model, masks


def min_median(times):
    """``{'min': ..., 'median': ...}`` of a list of timings."""
    return dict(min=min(times), median=statistics.median(times))


def ratio_ci(plain, other, n_boot=2000, seed=0):
    """Median ratio of paired timings and its bootstrap 95% interval.

    Args:
        plain (list[float]): the reference timings.
        other (list[float]): the timings paired with them (same length).

    Returns:
        tuple[float, float, float]: ratio of the medians, interval low and high.
    """
    rng = random.Random(seed)
    pairs = list(zip(plain, other))
    stats = []
    for _ in range(n_boot):
        s = [pairs[rng.randrange(len(pairs))] for _ in pairs]
        stats.append(statistics.median(o for _, o in s) / statistics.median(p for p, _ in s))
    stats.sort()
    return (statistics.median(other) / statistics.median(plain),
            stats[int(0.025 * n_boot)], stats[int(0.975 * n_boot) - 1])


def machine() -> str:
    """CPU model, cores and torch threads, GPU if any, and the load average."""
    import torch
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f
                       if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
    return (f'{cpu}, {os.cpu_count()} cores, torch {torch.__version__} with '
            f'{torch.get_num_threads()} threads, {gpu}, load average {load:.1f} at start')


def run_and_print(measure, render, threads=None, json_path=None) -> int:
    """What every benchmark script does after parsing: set the threads, measure, print the
    machine and the table, keep the raw figures.

    Args:
        measure (callable): returns the result dict (with ``machine``).
        render (callable): result -> table text.
        threads (int | None): torch intra-op threads.
        json_path (str | None): also write the result here (atomically).

    Returns:
        int: 0, the scripts' exit status.
    """
    import torch

    from lth_mm.fileio import atomic_write_json
    if threads:
        torch.set_num_threads(threads)
    result = measure()
    print(f"machine: {result['machine']}")
    print(render(result))
    if json_path:
        atomic_write_json(result, json_path)
    return 0
