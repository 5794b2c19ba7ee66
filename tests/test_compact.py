"""Compact lossless tickets: round trips, sizes, bad input, the tool and the per-round hook."""
import os
import os.path as osp
import struct

import pytest
import torch

from lth_mm.compact import (CompactError, decode, encode, load_compact, save_compact,
                            zero_signs_normalized)
from lth_mm.pruning import global_magnitude

from _toy import LTHToyNet, build_runner, magnitude_masks, toy_cfg

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _pruned_state(keep=0.2, seed=0):
    """A state dict with big masked tensors (so zstd is used) and its masks."""
    g = torch.Generator().manual_seed(seed)
    sd = {'backbone.conv.weight': torch.randn(64, 32, 3, 3, generator=g),
          'backbone.bn.weight': torch.rand(64, generator=g),
          'backbone.bn.num_batches_tracked': torch.tensor(7),
          'head.fc.weight': 0.1 * torch.randn(128, 256, generator=g),
          'head.fc.bias': torch.randn(128, generator=g).half()}
    w = {k: sd[k] for k in ('backbone.conv.weight', 'head.fc.weight')}
    masks = global_magnitude(w, {k: torch.ones_like(v, dtype=torch.bool)
                                 for k, v in w.items()}, keep)
    for k, m in masks.items():
        sd[k] = sd[k] * m  # as the enforcer does: negative pruned weights become -0.0
    return sd, masks


def _bit_equal(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and torch.equal(
        a.contiguous().view(-1).view(torch.uint8), b.contiguous().view(-1).view(torch.uint8))


@pytest.mark.parametrize('zstd_level', [None, 3])
def test_round_trip_is_lossless_and_small(zstd_level):
    sd, masks = _pruned_state()
    data, stats = encode(sd, masks, zstd_level=zstd_level)
    back = decode(data, expected=sd)
    assert list(back.state_dict) == list(sd)
    for k, v in sd.items():
        # bit for bit, with pruned zeros as +0.0 (documented: -0.0 == +0.0)
        assert _bit_equal(back.state_dict[k], zero_signs_normalized(v)), k
        assert torch.equal(back.state_dict[k], v)
    assert set(back.masks) == set(masks)
    assert all(torch.equal(back.masks[k], m) for k, m in masks.items())
    # bitmask + raw fp32 at keep 0.2 is 0.2 + 1/32 of the masked bytes; zstd is smaller
    assert stats.ratio < (0.27 if zstd_level is None else 0.25)
    assert stats.entropy_bytes < stats.compact_bytes


def test_zeros_mode_and_fp16():
    sd, masks = _pruned_state()
    data, stats = encode(sd, None)  # masks from the zeros
    assert stats.masked_tensors == 2
    back = decode(data)
    assert all(torch.equal(back.state_dict[k], v) for k, v in sd.items())
    data16, stats16 = encode(sd, masks, fp16=True)
    assert stats16.compact_bytes < 0.7 * stats.compact_bytes
    back16 = decode(data16)
    for k, v in sd.items():
        want = v.half().to(v.dtype) if v.is_floating_point() else v
        assert torch.equal(back16.state_dict[k], want)
        assert back16.state_dict[k].dtype == v.dtype


def test_bad_input_one_clear_error_nothing_written(tmp_path):
    sd, masks = _pruned_state()
    out = tmp_path / 'x.lthc'
    alive = dict(sd)
    alive['head.fc.weight'] = sd['head.fc.weight'].clone()
    alive['head.fc.weight'][~masks['head.fc.weight']] = 1.0  # weights outside the mask
    with pytest.raises(CompactError, match='outside the ticket mask'):
        save_compact(str(out), alive, masks)
    assert not out.exists() and not os.listdir(tmp_path)
    with pytest.raises(CompactError, match='another model'):
        save_compact(str(out), sd, {'neck.conv.weight': torch.ones(3, dtype=torch.bool)})
    save_compact(str(out), sd, masks)
    data = out.read_bytes()
    # truncated
    (tmp_path / 't.lthc').write_bytes(data[:len(data) // 2])
    with pytest.raises(CompactError, match='truncated'):
        load_compact(str(tmp_path / 't.lthc'))
    # one flipped byte in the last tensor's data
    bad = bytearray(data)
    bad[-5] ^= 0xFF
    (tmp_path / 'c.lthc').write_bytes(bytes(bad))
    with pytest.raises(CompactError, match='corrupt'):
        load_compact(str(tmp_path / 'c.lthc'))
    # a torch checkpoint is not a compact file
    torch.save(dict(state_dict=sd), tmp_path / 'ckpt.pth')
    with pytest.raises(CompactError, match='not a compact lth_mm file'):
        load_compact(str(tmp_path / 'ckpt.pth'))
    # a compact file of another model
    other = {k: v for k, v in sd.items() if k != 'head.fc.bias'}
    other['head.fc.weight'] = torch.zeros(64, 256)
    with pytest.raises(CompactError, match='made for another model'):
        load_compact(str(out), expected=other)
    # a newer format version
    hlen = struct.unpack('<Q', data[:8])[0]
    newer = data[8:8 + hlen].replace(b'"version":"1"', b'"version":"9"')
    assert len(newer) == hlen
    (tmp_path / 'v.lthc').write_bytes(data[:8] + newer + data[8 + hlen:])
    with pytest.raises(CompactError, match='upgrade lth_mm'):
        load_compact(str(tmp_path / 'v.lthc'))


def _compress(checkpoint, out, **kwargs):
    """What tools/compress.py runs (paths as strings, as argparse gives them)."""
    from lth_mm.apis import compress_checkpoint
    return compress_checkpoint(str(checkpoint), str(out), **kwargs)


def _decompress(compact_file, out, config=None):
    """What tools/compress.py --decompress runs."""
    from lth_mm.apis import decompress_checkpoint
    return decompress_checkpoint(str(compact_file), str(out), config)


def test_compress_tool_round_trip_loads_strict(tmp_path):
    from lth_mm.pruning import save_ticket
    torch.manual_seed(0)
    model = LTHToyNet()
    masks = magnitude_masks(model, 0.2)
    masks.apply_(dict(model.named_parameters()))
    torch.save(dict(meta=dict(epoch=3), state_dict=model.state_dict()), tmp_path / 'a.pth')
    save_ticket(str(tmp_path / 'ticket.pth'), masks, dict(round=1))
    assert _compress(tmp_path / 'a.pth', tmp_path / 'a.lthc',
                     ticket=str(tmp_path / 'ticket.pth')) == 0
    assert _decompress(tmp_path / 'a.lthc', tmp_path / 'b.pth') == 0
    ckpt = torch.load(tmp_path / 'b.pth', weights_only=True)
    assert ckpt['meta']['epoch'] == 3
    fresh = LTHToyNet()
    fresh.load_state_dict(ckpt['state_dict'], strict=True)
    for k, v in model.state_dict().items():
        assert torch.equal(ckpt['state_dict'][k], v)
    # existing output, and a ticket that does not match the checkpoint: refused, unchanged
    with pytest.raises(SystemExit, match='exists'):
        _compress(tmp_path / 'a.pth', tmp_path / 'a.lthc')
    dense = LTHToyNet()
    torch.save(dict(state_dict=dense.state_dict()), tmp_path / 'dense.pth')
    with pytest.raises(SystemExit, match='outside the ticket mask'):
        _compress(tmp_path / 'dense.pth', tmp_path / 'd.lthc',
                  ticket=str(tmp_path / 'ticket.pth'))
    assert not (tmp_path / 'd.lthc').exists()


def test_mmdet_model_round_trip_through_the_tool_with_config(tmp_path):
    cfg_path = osp.join(REPO, 'configs/quickstart/faster-rcnn_r18_fpn_lth-keep20_synthetic.py')
    from mmengine.config import Config

    from lth_mm.apis import build_model_from_cfg
    torch.manual_seed(0)
    model = build_model_from_cfg(Config.fromfile(cfg_path))
    masks = magnitude_masks(model, 0.2)
    masks.apply_(dict(model.named_parameters()))
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'm.pth')
    assert _compress(tmp_path / 'm.pth', tmp_path / 'm.lthc') == 0  # zeros mode
    dense = sum(v.numel() * v.element_size() for v in model.state_dict().values())
    assert os.path.getsize(tmp_path / 'm.lthc') < 0.30 * dense
    # --config: checked against the model and loaded with strict=True before writing
    assert _decompress(tmp_path / 'm.lthc', tmp_path / 'back.pth', cfg_path) == 0
    back = torch.load(tmp_path / 'back.pth', weights_only=True)['state_dict']
    assert all(torch.equal(back[k], v) for k, v in model.state_dict().items())
    pose = osp.join(REPO, 'configs/quickstart/td-hm_res18_lth-keep20_synthetic-64x64.py')
    with pytest.raises(SystemExit, match='made for another model'):
        _decompress(tmp_path / 'm.lthc', tmp_path / 'p.pth', pose)
    assert not (tmp_path / 'p.pth').exists()


def test_hook_writes_a_compact_ticket_per_masked_round(tmp_path):
    from lth_mm import paths
    from lth_mm.report import load_summary
    cfg = toy_cfg(tmp_path)
    cfg.custom_hooks.append(dict(type='CompactTicketHook', mac_shape=(8, 8)))
    runner = build_runner(cfg)
    runner.train()
    assert not osp.exists(paths.compact_ticket(str(tmp_path), 0))  # dense round
    compact = load_compact(paths.compact_ticket(str(tmp_path), 1))
    final = torch.load(paths.final_checkpoint(str(tmp_path), 1), weights_only=False)
    for k, v in final['state_dict'].items():
        assert torch.equal(compact.state_dict[k], v), k
    rows = load_summary(str(tmp_path))['rounds']
    extras = rows[1]['extras']
    assert extras['compact_bytes'] == os.path.getsize(paths.compact_ticket(str(tmp_path), 1))
    assert extras['compact_bytes'] < extras['dense_bytes']
    assert 0 < extras['sparse_macs'] < extras['dense_macs']
    assert 'compact_bytes' not in rows[0].get('extras', {})
