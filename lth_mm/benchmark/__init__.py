# Copyright (c) lth_mm authors. All rights reserved.
"""The benchmarks behind tools/benchmark/: each module measures one figure and returns it
as a dict (``measure``), the scripts only parse arguments and print.

* :mod:`.enforcement`: mask enforcement vs the plain mmdet training step;
* :mod:`.mask_speed`: global magnitude masks vs ``torch.nn.utils.prune``;
* :mod:`.lamp_speed`: LAMP vs global magnitude (time, layer collapse);
* :mod:`.compact_size`: compact ticket size and exact round trip;
* :mod:`.resume_cost`: lth_mm's mask restore vs mmengine's checkpoint load;
* :mod:`.suite`: all of them and the MACs, side by side as ratios;
* :mod:`.miniature` / :mod:`.miniature_report`: the paper's experiments on synthetic data.

Shared pieces (configs, pruned models at initialisation, timing statistics) are in
:mod:`.common`.
"""
