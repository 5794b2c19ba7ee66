# Copyright (c) lth_mm authors. All rights reserved.
"""The paper's transfer claim at small scale (docs/transfer.md, part 4), on this CPU.

Per seed: (1) a ResNet-18 classifier ticket on synthetic crops with mmpretrain
(configs/transfer/resnet18_lth-keep20_synthetic-cls.py: round 0 dense, round 1 keep 20%);
(2) the direct detector run (configs/transfer/faster-rcnn_r18_fpn_lth-backbone-keep20_...:
dense Faster R-CNN R18 from the dense classifier backbone, then its own ticket at 80%
backbone sparsity); (3) the transferred ticket (..._lth-imagenet-keep20_...: the classifier
ticket's values and mask in the backbone). (2) and (3) run in parallel. Then a table of box
mAP per seed and the mean.

    python tools/benchmark/transfer_small.py --seeds 0 1 --work-dir work_dirs/transfer_small \
        [--cls-epochs 2] [--det-epochs 1]
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLS = osp.join(ROOT, 'configs/transfer/resnet18_lth-keep20_synthetic-cls.py')
DIRECT = osp.join(ROOT, 'configs/transfer/faster-rcnn_r18_fpn_lth-backbone-keep20_synthetic.py')
TRANSFER = osp.join(ROOT,
                    'configs/transfer/faster-rcnn_r18_fpn_lth-imagenet-keep20_synthetic.py')


def _train(config, work_dir, options, log):
    cmd = [sys.executable, osp.join(ROOT, 'tools/train.py'), config, '--work-dir', work_dir,
           '--cfg-options'] + [f'{k}={v}' for k, v in options.items()]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=open(log, 'w'), stderr=subprocess.STDOUT)


def _wait(procs):
    for name, p in procs:
        if p.wait() != 0:
            raise RuntimeError(f'{name} failed (exit {p.returncode}); see its log')


def _rows(work_dir):
    with open(osp.join(work_dir, 'lottery_summary.json')) as f:
        return json.load(f)['rounds']


def run_seed(seed, work_dir, cls_epochs, det_epochs):
    """Run the chain for one seed; returns the summary rows of the three runs."""
    w = osp.join(work_dir, f'seed{seed}')
    os.makedirs(w, exist_ok=True)
    cls_dir = osp.join(w, 'cls')
    common = {'randomness.seed': seed, 'lottery.seed': seed}
    if not osp.isfile(osp.join(cls_dir, 'lottery_summary.json')):
        _wait([('cls', _train(CLS, cls_dir, {**common, 'train_cfg.max_epochs': cls_epochs},
                              osp.join(w, 'cls.log')))])
    det = {**common, 'train_cfg.max_epochs': det_epochs,
           'model.backbone.init_cfg.checkpoint': osp.join(cls_dir, 'round_0/final.pth')}
    procs = []
    if not osp.isfile(osp.join(w, 'direct', 'lottery_summary.json')):
        procs.append(('direct', _train(DIRECT, osp.join(w, 'direct'), det,
                                       osp.join(w, 'direct.log'))))
    if not osp.isfile(osp.join(w, 'transfer', 'lottery_summary.json')):
        procs.append(('transfer', _train(TRANSFER, osp.join(w, 'transfer'), {
            **det, 'lottery.transfer.source': osp.join(cls_dir, 'round_1/final.pth')},
            osp.join(w, 'transfer.log'))))
    _wait(procs)
    return {k: _rows(osp.join(w, k)) for k in ('cls', 'direct', 'transfer')}


def _backbone_sparsity(ticket_path):
    """Pruned fraction of the backbone's prunable weights of a ticket file."""
    import torch
    from mmengine.config import ConfigDict
    from lth_mm.pruning import MaskSet
    from lth_mm.transfer import backbone_sparsity
    # LotteryHook stores lottery.transfer as a ConfigDict in the ticket's meta (reported to
    # the engine owner), which load_ticket's safe loading refuses: allow exactly that type.
    with torch.serialization.safe_globals([ConfigDict]):
        obj = torch.load(ticket_path, map_location='cpu', weights_only=True)
    return backbone_sparsity(MaskSet.from_state_dict(obj['masks']).as_bool())


def table(results, work_dir):
    """Markdown table: per seed and mean, classifier top-1 and detector box mAP."""
    def metric(rows, i, key):
        return rows[i]['metrics'].get(key) if len(rows) > i else None

    def fmt(v):
        return '-' if v is None else f'{v:.3f}' if v <= 1 else f'{v:.2f}'

    lines = ['| seed | cls dense top-1 | cls ticket top-1 | det dense mAP | det direct ticket '
             'mAP | det transferred ticket mAP | backbone sparsity direct / transferred |',
             '|---|---|---|---|---|---|---|']
    cols = []
    for seed, r in sorted(results.items()):
        c = [metric(r['cls'], 0, 'accuracy/top1'), metric(r['cls'], 1, 'accuracy/top1'),
             metric(r['direct'], 0, 'coco/bbox_mAP'), metric(r['direct'], 1, 'coco/bbox_mAP'),
             metric(r['transfer'], 0, 'coco/bbox_mAP')]
        cols.append(c)
        w = osp.join(work_dir, f'seed{seed}')
        sp = [osp.join(w, 'direct', 'round_1', 'ticket.pth'),
              osp.join(w, 'transfer', 'round_0', 'ticket.pth')]
        sp = [f'{100 * _backbone_sparsity(p):.1f}%' if osp.isfile(p) else '-' for p in sp]
        lines.append(f'| {seed} | ' + ' | '.join(fmt(v) for v in c) + f' | {sp[0]} / {sp[1]} |')
    if len(cols) > 1:
        mean = [None if any(c[i] is None for c in cols) else sum(c[i] for c in cols) / len(cols)
                for i in range(5)]
        lines.append('| mean | ' + ' | '.join(fmt(v) for v in mean) + ' | |')
    return '\n'.join(lines)


def _partial_rows(work_dir, seed):
    """Summary rows of whatever finished (for --table-only)."""
    out = {}
    for k in ('cls', 'direct', 'transfer'):
        f = osp.join(work_dir, f'seed{seed}', k, 'lottery_summary.json')
        out[k] = _rows(osp.dirname(f)) if osp.isfile(f) else []
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    p.add_argument('--work-dir', default='work_dirs/transfer_small')
    p.add_argument('--cls-epochs', type=int, default=2)
    p.add_argument('--det-epochs', type=int, default=1)
    p.add_argument('--table-only', action='store_true',
                   help='print the table of what has finished, run nothing')
    args = p.parse_args(argv)
    t0 = time.time()
    if args.table_only:
        results = {s: _partial_rows(args.work_dir, s) for s in args.seeds}
    else:
        results = {s: run_seed(s, args.work_dir, args.cls_epochs, args.det_epochs)
                   for s in args.seeds}
    text = table(results, args.work_dir)
    print(text)
    print(f'wall time {time.time() - t0:.0f} s')
    with open(osp.join(args.work_dir, 'table.md'), 'w') as f:
        f.write(text + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
