# lth_mm: turn any mmdet / mmpose config into a lottery-ticket experiment.
#
#   _base_ = ['mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py', 'lth_mm::_base_/lottery.py']
#   lottery = dict(keep_ratio=0.2)            # 80% of the prunable weights pruned
#
# Every key can be overridden on the command line: --cfg-options lottery.rounds=3
# All R rounds run in one command; outputs land in work_dir/round_{r}/ (checkpoints,
# best checkpoint, ticket.pth) and work_dir/lottery_summary.json. See docs/lottery.md.
custom_imports = dict(imports=['lth_mm'], allow_failed_imports=False)

# Validates `lottery`, then runs each round as its own ordinary mmengine Runner built from
# this config (work_dir/round_{r}). mmdet/mmpose/lth_mm tools/train.py honour it.
runner_type = 'LotteryRunner'

lottery = dict(
    # ---- schedule --------------------------------------------------------------------
    rounds=2,               # R rounds; round 0 trains dense. 2 = one-shot (paper: outperforms
                            #   iterative pruning, Sec. 4.3)
    keep_ratio=0.2,         # final fraction of prunable weights kept, in (0, 1]
    schedule='geometric',   # 'geometric': keep ** (r / (R-1)) (paper)
                            # 'fixed_rate': prune `prune_rate` of what remains each round
                            # 'list': explicit `sparsities` for rounds 1..R-1
    prune_rate=0.2,         # for 'fixed_rate' (open_lth uses 0.2)
    sparsities=None,        # for 'list', e.g. [0.5, 0.8]
    # ---- which weights -----------------------------------------------------------------
    prune_scope='paper',    # 'paper': every conv-like weight (convs, deformable convs,
                            #   linear layers, attention projections) except 1x1
                            #   shortcut convs, the final predictors (found by structure:
                            #   the layers whose output reaches a model output or loss
                            #   with no conv/linear in between) and the offset generators
                            #   of DCN / deformable attention; norms and biases never
                            #   pruned. 'paper_voc': the VOC code's rule, predictors
                            #   pruned too; 'backbone': 'paper' within the backbone;
                            #   'all': every conv-like weight. See the table with
                            #   tools/analysis/scope_info.py CONFIG
    groups=None,            # restrict to module groups: backbone, backbone_base,
                            #   backbone_top (alias roi_top), neck, rpn, roi_head,
                            #   box_head, mask_head, keypoint_head, predictors (the
                            #   four final predictors of a two-stage detector)
    include=None,           # regexes on parameter names; a name must match one
    exclude=None,           # regexes on parameter names; matches are dropped
    # ---- criterion and controls --------------------------------------------------------
    criterion='global_magnitude',  # one threshold over all prunable weights (paper);
                                   # 'layerwise_magnitude'; 'lamp' (Lee et al. 2021:
                                   # global by layer-adaptive scores, never empties a
                                   # layer); 'random' (random positions, per-layer counts
                                   # of the magnitude ticket); or dict(type=NAME, ...)
    min_density=None,       # per-tensor density floor of every pruning, e.g. 0.01: each
                            #   prunable tensor keeps >= ceil(min_density * numel) of its
                            #   largest weights, out of the same total budget; at most
                            #   keep_ratio. None (the paper): tensors may collapse; the
                            #   log names every tensor left under 1% either way
    controls=[],            # extra rounds after the last one, from the final ticket:
                            # 'random_ticket' (random mask, same per-layer counts),
                            # 'random_reinit' (same mask, weights re-initialised)
    seed=0,                 # seed of random criteria / controls
    # ---- rewinding ---------------------------------------------------------------------
    rewind_iter=None,       # rewind point in iterations of round 0 (0 = initialisation)
    rewind_epochs=None,     # ... or in passes over the training images (independent of
                            #   batch size, GPU count, samplers and RepeatDataset;
                            #   paper: ~1 epoch). Neither set: iteration 0.
    rewind_from=None,       # take the rewind state from this checkpoint file instead
                            #   (its meta.iter is the rewind iteration)
    rewind_weights='raw',   # 'raw' trained weights or 'ema' (EMAHook average) as the
                            #   rewind state (in-run snapshot and rewind_from)
    rewind_mode='restart',  # 'restart': rewind weights, fresh optimizer, full schedule
                            #   (paper); 'continue': rewind weights, continue the
                            #   schedule from the rewind point (open_lth);
                            # 'lr': keep final weights, rewind only the LR schedule
                            #   (Renda et al. 2020)
    # ---- train a given ticket ------------------------------------------------------------
    ticket=None,            # path to a ticket.pth: train its mask once, from
                            #   rewind_from or the initial state (`rounds` does not
                            #   apply; repeats of one ticket are seeds: tools/seeds.py)
    transfer=None,          # or build the ticket by transfer at the start of the run:
                            #   dict(mode='imagenet'|'mask'|'task', source=PATH,
                            #        keep_ratio=None, threshold='model'|'backbone')
)
