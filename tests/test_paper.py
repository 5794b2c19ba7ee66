"""The paper's numbers live in lth_mm/data/paper.json alone: the zoo README, the analysis
report and the miniature benchmark quote them through lth_mm.paper."""
import json
import os.path as osp

from lth_mm import paper, zoo
from lth_mm.analysis import doc
from lth_mm.benchmark import miniature_report

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def test_readme_paper_column_is_the_data_file():
    with open(osp.join(REPO, 'configs', 'README.md'), encoding='utf-8') as f:
        rows, _ = zoo.parse_readme_rows(f.read())
    assert len(rows) >= len(zoo.zoo_configs())
    for name, row in rows.items():
        assert row['paper'] == zoo.paper_anchor(name), name
    # the numbers of Table 4 reach the README through the loader
    assert rows['mask-rcnn_r18_fpn_lth-keep20-rw1ep_1x_coco']['paper'].startswith('30.04 box')
    assert paper.zoo_anchor('no-such-config') is None


def test_shared_anchor_and_figure_texts_resolve():
    data = paper.load_paper()
    shared = [v for v in data['zoo'].values() if v.startswith('@')]
    assert shared and all(paper.zoo_anchor(k) in data['zoo_shared'].values()
                          for k, v in data['zoo'].items() if v.startswith('@'))
    assert zoo.figure_anchor('faster-rcnn_r18-c4_lth-iter4-keep20-rw600it_12e_voc07') == \
        data['zoo_figures']['iterative']
    assert zoo.figure_anchor('faster-rcnn_r50_fpn_lth-dense_12e_voc07') == paper.no_anchor()


def test_report_and_miniature_read_the_data_file():
    data = paper.load_paper()
    assert doc.PAPER == data['report']
    assert '78.4%' in doc.PAPER['sparsity'] and '30.04' in doc.PAPER['sparsity']
    claims = paper.miniature_claims()
    assert [c[0] for c in claims] == [c['claim'] for c in data['miniature_claims']]
    labels = {label for label, *_ in miniature_report.ROWS}
    assert all(a in labels and b in labels for _, a, b, _ in claims)


def test_loader_reads_the_given_file(tmp_path):
    data = paper.load_paper()
    changed = dict(data, zoo=dict(data['zoo'], x='12.34 AP'))
    path = tmp_path / 'paper.json'
    path.write_text(json.dumps(changed))
    assert paper.load_paper(str(path))['zoo']['x'] == '12.34 AP'
    assert 'x' not in paper.load_paper()['zoo']
