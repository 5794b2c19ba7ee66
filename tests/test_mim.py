"""The zoo through OpenMMLab's `mim` command line, as a user runs it.

`mim search lth_mm` lists every config of the zoo (from model-index.yml and the
metafiles); `mim train lth_mm <detection quickstart> --cfg-options <tiny data>` runs a
dense round and a ticket round and writes the summary; `mim test lth_mm <config>
--checkpoint <round_1/final.pth>` evaluates the ticket and prints the metrics; the synthetic
transfer chain (classifier ticket -> detector) runs through `mim train` as a user runs it.
"""
import json
import os.path as osp
import subprocess
import sys
from pathlib import Path

import pytest

from lth_mm.zoo import zoo_configs

REPO = Path(__file__).resolve().parent.parent
MIM = Path(sys.executable).with_name('mim')
QUICKSTART = 'configs/quickstart/faster-rcnn_r18_fpn_lth-keep20_synthetic.py'
TINY = dict(num_train=2, num_val=2, img_size=64, seed=0)


def _zoo_names():
    return [osp.splitext(osp.basename(p))[0] for p in zoo_configs()]


@pytest.fixture(scope='module')
def mim():
    if not MIM.exists():
        pytest.skip(f'{MIM} not found: openmim is not installed in this environment')
    index = REPO / 'lth_mm' / '.mim' / 'model-index.yml'
    if not index.exists():
        pytest.skip(f'{index} missing: the mim extension is not installed (make setup)')
    return str(MIM)


def _run(cmd, cwd, timeout=600):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f'{" ".join(cmd)}\nexited {proc.returncode}:\n{out[-6000:]}'
    return out


def tiny_options(data_root, loaders, evaluators):
    """--cfg-options that put a quickstart on tiny synthetic data (64 px images, which the
    quickstart pipelines keep at their size).

    Args:
        data_root (str): where the tiny data are generated.
        loaders (list[str]): dataloader keys to redirect (all of those a run builds:
            train and val for training, test for testing); they must all get the same
            `synthetic` values since they share the folder.
        evaluators (list[str]): evaluator keys whose ann_file to redirect.
    """
    opts = []
    for loader in loaders:
        opts.append(f'{loader}.dataset.data_root={data_root}')
        opts += [f'{loader}.dataset.synthetic.{k}={v}' for k, v in TINY.items()]
    opts += [f'{ev}.ann_file={data_root}annotations/instances_val.json' for ev in evaluators]
    return opts


def test_mim_search_lists_the_zoo(mim, tmp_path):
    out = _run([mim, 'search', 'lth_mm', '--valid-config'], cwd=tmp_path, timeout=180)
    missing = [n for n in _zoo_names() if f"'{n}'" not in out]
    assert not missing, f'`mim search lth_mm` does not list {missing}:\n{out[-3000:]}'


def test_mim_train_then_test_the_detection_quickstart(mim, tmp_path):
    data_root = str(tmp_path / 'data') + '/'
    work = tmp_path / 'work'
    # 2 images at batch 2: one iteration per epoch; 2 epochs per round, val at the end;
    # the late reset (1 epoch) is iteration 1 of round 0.
    train_opts = tiny_options(
        data_root, ['train_dataloader', 'val_dataloader'], ['val_evaluator']) + [
            'train_cfg.max_epochs=2', 'train_cfg.val_interval=2',
            'default_hooks.logger.interval=1']
    # cwd is not the checkout: mim finds the config in the installed package by name.
    out = _run([mim, 'train', 'lth_mm', QUICKSTART, '--gpus', '0', '--work-dir', str(work),
                '--cfg-options', *train_opts], cwd=tmp_path)
    assert 'Training command is' in out
    summary = json.loads((work / 'lottery_summary.json').read_text())
    rows = summary['rounds']
    assert [r['kind'] for r in rows] == ['dense', 'ticket']
    assert rows[1]['prunable_sparsity'] == pytest.approx(0.8, abs=1e-4)
    assert 'coco/bbox_mAP' in rows[1]['metrics']
    assert (work / 'lottery_summary.txt').is_file()
    final = work / 'round_1' / 'final.pth'
    assert final.is_file()

    test_opts = tiny_options(data_root, ['test_dataloader'], ['test_evaluator'])
    out = _run([mim, 'test', 'lth_mm', QUICKSTART, '--gpus', '0', '--checkpoint',
                str(final), '--work-dir', str(tmp_path / 'test'), '--cfg-options',
                *test_opts], cwd=tmp_path)
    assert 'Testing command is' in out
    assert 'coco/bbox_mAP' in out, out[-3000:]


def test_mim_train_runs_the_synthetic_transfer_chain(mim, tmp_path):
    """The transfer chain as configs/transfer/README.md gives it: `mim train` the mmpretrain
    classifier ticket, then `mim train` the detector config that carries it; the detector's
    backbone is masked exactly where the classifier ticket is zero, FPN and heads dense."""
    pytest.importorskip('mmpretrain')
    import torch
    from lth_mm import paths
    from lth_mm.pruning import load_ticket
    cls_dir, det_dir = tmp_path / 'cls', tmp_path / 'det'
    cls_root = str(tmp_path / 'cls_data') + '/'
    cls_opts = [f'{k}.dataset.data_root={cls_root}' for k in
                ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    cls_opts += [f'{k}.dataset.synthetic.{a}={v}' for k in
                 ('train_dataloader', 'val_dataloader', 'test_dataloader')
                 for a, v in dict(num_train=4, num_val=2, img_size=64, crop_size=16).items()]
    _run([mim, 'train', 'lth_mm', 'configs/transfer/resnet18-w32_lth-keep20_synthetic-cls.py',
          '--gpus', '0', '--work-dir', str(cls_dir), '--cfg-options', 'train_cfg.max_epochs=1',
          'train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1', *cls_opts],
         cwd=tmp_path)
    source = paths.final_checkpoint(str(cls_dir), 1)
    data_root = str(tmp_path / 'data') + '/'
    det_opts = tiny_options(data_root, ['train_dataloader', 'val_dataloader'],
                            ['val_evaluator']) + [
        'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
        'default_hooks.checkpoint.interval=1',
        f'model.backbone.init_cfg.checkpoint={paths.final_checkpoint(str(cls_dir), 0)}',
        f'lottery.transfer.source={source}']
    _run([mim, 'train', 'lth_mm',
          'configs/transfer/mask-rcnn_r18-w32_fpn_lth-imagenet-keep20_synthetic-easy.py',
          '--gpus', '0', '--work-dir', str(det_dir), '--cfg-options', *det_opts], cwd=tmp_path)
    rows = json.loads((det_dir / 'lottery_summary.json').read_text())['rounds']
    assert len(rows) == 1 and 'coco/bbox_mAP' in rows[0]['metrics']
    cls_state = torch.load(source, map_location='cpu', weights_only=False)['state_dict']
    masks = load_ticket(paths.ticket(str(det_dir), 0)).masks
    conv = 'backbone.layer2.0.conv1.weight'
    assert torch.equal(masks[conv].bool(), cls_state[conv] != 0)
    assert (cls_state[conv] == 0).float().mean() > 0.5  # the classifier ticket is sparse
    assert not any(n.startswith(('neck.', 'roi_head.', 'rpn_head.')) and not masks[n].all()
                   for n in masks.names())
    final = torch.load(paths.final_checkpoint(str(det_dir), 0), map_location='cpu',
                       weights_only=False)['state_dict']
    assert torch.all(final[conv][cls_state[conv] == 0] == 0)  # held through fine-tuning
