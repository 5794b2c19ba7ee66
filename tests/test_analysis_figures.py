# Copyright (c) lth_mm authors. All rights reserved.
"""The report as a researcher keeps it: metric picking and names, seed groups, PDF beside
PNG, HTML text, and an --out directory that is replaced whole but never emptied of a
user's files. Summaries only (no training): seconds."""
import json
import os.path as osp

import pytest

from lth_mm.analysis.collect import group_name, round_label
from lth_mm.analysis.report import MARKER, build_report
from lth_mm.report import headline_metrics, main_metrics, metric_label, write_summary


def _row(r, kind, keep, metrics):
    return dict(round=r, kind=kind, keep_ratio=keep, prunable_sparsity=1 - keep,
                network_sparsity=0.97 * (1 - keep), zero_fraction_of_prunable=1 - keep,
                metrics=metrics, extras={})


def _run(wd, dense, ticket, key='coco/bbox_mAP'):
    write_summary(str(wd), dict(rounds=[_row(0, 'dense', 1.0, {key: dense}),
                                        _row(1, 'ticket', 0.2, {key: ticket})]))
    return str(wd)


def test_main_metric_per_task_and_names():
    kpt = [{'metrics': {'coco/bbox_mAP': .5, 'coco/keypoints_mAP': .6, 'coco/keypoints_AR': 1}}]
    assert headline_metrics(kpt) == ['coco/keypoints_mAP', 'coco/bbox_mAP']
    assert main_metrics(kpt) == ['coco/keypoints_mAP']
    mmpose = [{'metrics': {'coco/AP': .6, 'coco/AR': .7}}]
    assert main_metrics(mmpose) == ['coco/AP']
    mask = [{'metrics': {'coco/bbox_mAP': .5, 'coco/segm_mAP': .4, 'coco/bbox_mAP_50': .7}}]
    assert main_metrics(mask) == ['coco/bbox_mAP', 'coco/segm_mAP']
    assert [metric_label(k) for k in ('coco/bbox_mAP', 'coco/segm_mAP',
                                      'coco/keypoints_mAP', 'pascal_voc/mAP')] == [
        'box AP', 'mask AP', 'keypoint AP', 'mAP']
    row = _row(1, 'ticket', 0.2, {})
    assert round_label(row) == 'r1 ticket 77.6%'  # network sparsity, as the figures


def test_seed_groups_of_seeds_tool_and_dense_per_group(tmp_path):
    """tools/seeds.py's root/seed_N are one group; an unrelated run keeps its own dense."""
    dirs = [_run(tmp_path / 'r18' / f'seed_{s}', d, t, 'coco/segm_mAP')
            for s, (d, t) in enumerate([(0.40, 0.38), (0.44, 0.36)])]
    dirs.append(_run(tmp_path / 'other', 0.10, 0.05, 'coco/segm_mAP'))
    assert group_name(dirs[0]) == 'r18' and group_name(str(tmp_path / 'x_seed3')) == 'x'
    out = build_report(dirs, str(tmp_path / 'rep'), progress=False)
    md = open(out['markdown']).read()
    assert '| r18 dense | mask AP | 1 | 0.0 | 42.00 | 2.83 | 2 |' in md  # not pooled
    assert '| other dense | mask AP | 1 | 0.0 | 10.00 | 0.00 | 1 |' in md
    assert '| r18 | mask AP | 0.2 | 77.6 | 37.00 | 1.41 | 2 |' in md


def test_pdf_beside_png_and_html_text(tmp_path):
    wd = _run(tmp_path / 'run', 0.5, 0.45)
    out = build_report([wd], str(tmp_path / 'rep'), progress=False)
    for png in out['figures']:
        pdf = png[:-4] + '.pdf'
        assert open(pdf, 'rb').read(5) == b'%PDF-' and osp.getsize(png) > 5000
    html = open(out['html']).read()
    assert '<code>' in html and '`' not in html.split('<body>')[1]  # no literal backticks
    assert 'lth_mm 0.1.0' in html and ' UTC' in html
    assert '<td class="n">50.00</td>' in html  # numbers right-aligned, AP in %
    assert '<td>dense</td>' in html  # text left-aligned


def test_out_dir_replaced_whole_but_user_files_never_deleted(tmp_path):
    wd = _run(tmp_path / 'run', 0.5, 0.45)
    rep = tmp_path / 'rep'
    build_report([wd], str(rep), progress=False)
    # a figure an earlier report wrote (and listed) that this one does not make
    (rep / 'size.png').write_bytes(b'old')
    marker = json.loads((rep / MARKER).read_text())
    (rep / MARKER).write_text(json.dumps({'files': marker['files'] + ['size.png']}))
    build_report([wd], str(rep), progress=False)
    assert not (rep / 'size.png').exists() and (rep / 'report.html').exists()
    # a file the report did not write: refused before any work, the file kept
    (rep / 'notes.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='notes.txt'):
        build_report([wd], str(rep), progress=False)
    assert (rep / 'notes.txt').read_text() == 'mine' and (rep / 'report.md').exists()
    legacy = tmp_path / 'legacy'  # a report written before the marker existed
    legacy.mkdir()
    for f in ('report.md', 'report.html', 'size.png', 'tide_bbox.png'):
        (legacy / f).write_text('old')
    build_report([wd], str(legacy), progress=False)
    assert not (legacy / 'size.png').exists() and (legacy / MARKER).exists()
    other = tmp_path / 'data'
    other.mkdir()
    (other / 'x.json').write_text('{}')
    with pytest.raises(FileExistsError):
        build_report([wd], str(other), progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['data', 'legacy', 'rep', 'run']


def test_report_refuses_an_out_with_user_files(tmp_path):
    wd = _run(tmp_path / 'run', 0.5, 0.45)
    (tmp_path / 'out').mkdir()
    (tmp_path / 'out' / 'paper.tex').write_text('mine')
    with pytest.raises(FileExistsError, match='paper.tex'):
        build_report([wd], str(tmp_path / 'out'), progress=False)
    assert (tmp_path / 'out' / 'paper.tex').read_text() == 'mine'
