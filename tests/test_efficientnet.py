"""Sparse EfficientNet-Lite: timm's structure and names, the real ImageNet weights
inflated with nothing dropped, training, finetune scopes, strided depthwise semantics,
the U-Net segmentation model on the generic decoder."""
from __future__ import annotations

import functools

import pytest
import torch
import torch.nn.functional as TF

from helpers_models import NUM_CLASSES, changed, make_batch, snapshot, tv_state_dict  # noqa: F401
from i2p import weights as W
from i2p.models import load_weights
from i2p.finetune import apply_scope, trainable_parameters
from i2p.inflate import inflate_conv_weight
from i2p.models import SparseEfficientNetCls, SparseEfficientNetSeg, create_model, load_pretrained_2d
from i2p.models.blocks import BasicBlock
from i2p.models.efficientnet import decoder_taps, lite_stage_depths
from i2p.models.layers import UNetDecoder
from i2p.models.pretrained import BN_KEYS, transfer_targets
from i2p.sparse import SparseTensor
from i2p.sparse import functional as spF
from i2p.sparse import nn as spnn

timm = pytest.importorskip("timm")

LITE = ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"]
LITE0_NOT_TRANSFERRED = sorted(
    ["conv_stem.weight", "conv_head.weight", "classifier.weight", "classifier.bias"]
    + [f"{bn}.{k}" for bn in ("bn1", "bn2") for k in BN_KEYS]
)


def need_package(arch: str = "efficientnet_lite0") -> None:
    src = W.SOURCES[f"{arch}.imagenet1k"]
    if not W._importable(src.module):
        pytest.skip(f"pip install {src.package}")


@functools.lru_cache(maxsize=None)
def _timm_blocks(arch: str) -> dict[str, torch.nn.Module]:
    """timm's conv / BN modules under ``blocks.``, by name."""
    net = timm.create_model(arch, pretrained=False)
    return {n: m for n, m in net.named_modules()
            if n.startswith("blocks.") and isinstance(m, (torch.nn.Conv2d, torch.nn.BatchNorm2d))}


@functools.lru_cache(maxsize=None)
def _lite0_weights() -> dict[str, torch.Tensor]:
    return load_weights("efficientnet_lite0.imagenet1k")


def lite0_weights() -> dict[str, torch.Tensor]:
    need_package()
    return dict(_lite0_weights())


def pretrained_lite0(task: str = "cls", **kw) -> SparseEfficientNetCls | SparseEfficientNetSeg:
    torch.manual_seed(0)
    return create_model("efficientnet_lite0", NUM_CLASSES, task, pretrained=lite0_weights(), **kw)


# -- structure: timm's blocks, names, channels, kernels, strides ------------------------------


@pytest.mark.parametrize("arch", LITE)
def test_backbone_mirrors_timm_blocks(arch):
    ref = _timm_blocks(arch)
    model = create_model(arch, NUM_CLASSES)
    mine = dict(transfer_targets(model))
    assert mine.keys() == ref.keys()  # same names: load_pretrained_2d matches by name
    for name, m2 in ref.items():
        m3 = mine[name]
        if isinstance(m2, torch.nn.BatchNorm2d):
            assert m3.num_features == m2.num_features, name
            continue
        assert (m3.in_channels, m3.out_channels) == (m2.in_channels, m2.out_channels), name
        assert m3.kernel_size == m2.kernel_size[0] and m3.stride == m2.stride[0], name
        assert m3.depthwise == (m2.groups == m2.in_channels > 1), name
    blocks_2d = timm.create_model(arch).blocks
    for s, stage in enumerate(model.backbone.blocks):
        assert len(stage) == len(blocks_2d[s]) == lite_stage_depths(arch)[s]
        for b3, b2 in zip(stage, blocks_2d[s]):
            assert b3.has_skip == b2.has_skip
    assert {m.kernel_size for m in mine.values() if isinstance(m, spnn.Conv3d) and m.depthwise} == {3, 5}


def test_unknown_variant_is_rejected():
    for task in ("cls", "seg"):
        with pytest.raises(ValueError, match="efficientnet_lite0"):
            create_model("efficientnet_lite7", NUM_CLASSES, task)


# -- the real ImageNet weights ----------------------------------------------------------------


def test_real_lite0_weights_land_with_nothing_dropped():
    sd = lite0_weights()
    ref = _timm_blocks("efficientnet_lite0")
    model = pretrained_lite0()
    r = model.load_report
    assert r.convs == sum(isinstance(m, torch.nn.Conv2d) for m in ref.values()) == 47
    assert r.bn_tensors == 4 * sum(isinstance(m, torch.nn.BatchNorm2d) for m in ref.values()) == 188
    assert r.not_transferred == LITE0_NOT_TRANSFERRED  # timm's stem and head only
    for name, mod in transfer_targets(model):
        if isinstance(mod, spnn.BatchNorm):
            for k in BN_KEYS:
                assert torch.equal(getattr(mod, k), sd[f"{name}.{k}"]), name
        else:
            want = inflate_conv_weight(sd[f"{name}.weight"], "default", mod.kernel_size, depthwise=mod.depthwise)
            assert torch.equal(mod.weight, want), name


def test_strided_5x5_depthwise_is_inflated_per_channel():
    sd = lite0_weights()
    model = pretrained_lite0()
    conv = model.backbone.blocks[2][0].conv_dw  # timm: 144 ch, 5x5, stride 2, groups 144
    assert conv.depthwise and conv.kernel_size == 5 and conv.stride == 2
    w2 = sd["blocks.2.0.conv_dw.weight"]
    assert w2.shape == (144, 1, 5, 5) and conv.weight.shape == (125, 144)
    for x, y, z in [(0, 0, 0), (4, 1, 3), (2, 2, 2), (1, 4, 0)]:  # default: copies along z
        assert torch.equal(conv.weight[(x * 5 + y) * 5 + z], w2[:, 0, x, y])
    pw = model.backbone.blocks[2][0].conv_pwl  # 1x1 -> 1x1x1
    assert torch.equal(pw.weight[0], sd["blocks.2.0.conv_pwl.weight"][:, :, 0, 0].t())


def test_deeper_variant_checkpoint_is_rejected():
    """lite1's blocks include every lite0 block with the same shapes: without a check
    a lite1 checkpoint would load into lite0 and silently drop 75 tensors."""
    need_package("efficientnet_lite1")
    model = create_model("efficientnet_lite0", NUM_CLASSES)
    with pytest.raises(ValueError, match=r"backbone tensors have no module.*blocks\.1\.2\."):
        load_pretrained_2d(model, load_weights("efficientnet_lite1.imagenet1k"))
    with pytest.raises(ValueError, match=r"no module.*layer1\.2\."):  # same rule for ResNets
        load_pretrained_2d(create_model("resnet18", NUM_CLASSES), tv_state_dict("resnet34"))


def test_learnable_transforms_one_per_geometry():
    model = pretrained_lite0(learnable="shared")
    assert model.load_report.learnable_transforms == 3  # 3x3 dw, 5x5 dw, 1x1


# -- training ---------------------------------------------------------------------------------


def test_forward_backward_on_a_voxelized_batch():
    model = pretrained_lite0()
    batch = make_batch(n=4, num_points=256)
    feats = model.encode(batch.x)
    assert [f.stride for f in feats] == [1, 2, 2, 4, 8, 16, 16, 32, 32]
    assert [f.num_channels for f in feats[2:]] == model.widths == [16, 24, 40, 80, 112, 192, 320]
    logits = model(batch.x)
    assert logits.shape == (4, NUM_CLASSES) and torch.isfinite(logits).all()
    TF.cross_entropy(logits, batch.labels).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing
    assert model.backbone.blocks[2][0].conv_dw.weight.grad.abs().sum() > 0


def test_io_scope_step_changes_only_input_and_output_layers():
    model = apply_scope(pretrained_lite0(), "io").train()
    batch = make_batch(n=4, num_points=256)
    before = snapshot(model)
    opt = torch.optim.SGD(trainable_parameters(model), lr=0.1, momentum=0.9)
    TF.cross_entropy(model(batch.x), batch.labels).backward()
    opt.step()
    diff = changed(before, snapshot(model))
    assert diff and {k.split(".")[0] for k in diff} == {"input_layer", "output_layer"}
    assert all(not p.requires_grad for p in model.backbone.parameters())
    assert all(not m.training for m in model.backbone.modules() if isinstance(m, spnn.BatchNorm))


# -- semantics: strided 5^3 depthwise conv == dense conv3d(groups=C) --------------------------


def test_strided_k5_depthwise_matches_dense_conv3d():
    """The engine tests cover k5 s1 and k3 s2 depthwise; EfficientNet also needs k5 s2."""
    g = torch.Generator().manual_seed(0)
    c, k, s, size = 6, 5, 2, 9
    coords = torch.unique(torch.randint(0, size, (120, 3), generator=g), dim=0)
    coords = torch.cat([torch.zeros(len(coords), 1, dtype=torch.long), coords], 1)
    x = SparseTensor(torch.randn(len(coords), c, generator=g, dtype=torch.float64), coords, 1)
    w = torch.randn(k**3, c, generator=g, dtype=torch.float64)
    y = spF.conv3d(x, w, k, s, depthwise=True)
    dense = torch.zeros(1, c, size, size, size, dtype=torch.float64)
    dense[0, :, coords[:, 1], coords[:, 2], coords[:, 3]] = x.feats.t()
    p = (k - 1) // 2
    ref = TF.conv3d(TF.pad(dense, (p, k) * 3), w.t().reshape(c, 1, k, k, k), stride=s, groups=c)
    g_out = y.coords[:, 1:] // s
    assert y.stride == s and torch.equal(y.coords[:, 1:] % s, torch.zeros_like(y.coords[:, 1:]))
    torch.testing.assert_close(y.feats, ref[0, :, g_out[:, 0], g_out[:, 1], g_out[:, 2]].t(), rtol=1e-10, atol=1e-10)


# -- segmentation: the generic U-Net decoder on Lite's seven stages ---------------------------

SEG_CLASSES = 2  # make_batch(seg=True): 1 where z > 0


def _decoder_strides(model: SparseEfficientNetSeg, x: SparseTensor) -> list[int]:
    """Stride of every decoder stage's output (one forward pass)."""
    seen: list[int] = []
    hooks = [d.register_forward_hook(lambda _m, _i, out: seen.append(out.stride)) for d in model.output_layer.decoders]
    try:
        model(x)
    finally:
        for h in hooks:
            h.remove()
    return seen


@pytest.mark.parametrize("arch", LITE)
@pytest.mark.parametrize("head", ["default", "linear"])
def test_seg_decoder_one_up_stage_per_stride_change(arch, head):
    with torch.device("meta"):
        model = create_model(arch, SEG_CLASSES, "seg", head=head)
    assert isinstance(model, SparseEfficientNetSeg)
    w = model.widths  # lite0: [16, 24, 40, 80, 112, 192, 320] at strides 2, 4, 8, 16, 16, 32, 32
    assert decoder_taps(arch) == model.taps == [4, 2, 1, 0]  # last stage at strides 16, 8, 4, 2
    dec = model.output_layer
    ups = list(dec.ups)
    assert all(u.transposed and (u.kernel_size, u.stride) == (2, 2) for u in ups[:4])
    assert [u.in_channels for u in ups[:4]] == [w[6], w[4], w[2], w[1]]
    if head == "default":  # stride 2 -> 1, onto the input layer's stride-1 features
        assert ups[4].transposed and ups[4].in_channels == w[0]
        assert all(isinstance(d[0], BasicBlock) and isinstance(d[1], BasicBlock) for d in dec.decoders)
    else:  # linear input layer: stage 0 already at stride 1
        assert isinstance(ups[4], spnn.Identity)
        assert [[type(m) for m in d] for d in dec.decoders] == [[spnn.Conv3d, spnn.BatchNorm]] * 5
    first = [next(m for m in d.modules() if isinstance(m, spnn.Conv3d)) for d in dec.decoders]
    assert [c.in_channels for c in first] == [w[6] + w[4], w[4] + w[2], w[2] + w[1], w[1] + w[0], w[0] + 32]
    assert dec.classifier.in_features == w[0] and dec.classifier.out_features == SEG_CLASSES


@pytest.mark.parametrize("head,strides", [("default", [16, 8, 4, 2, 1]), ("linear", [8, 4, 2, 1, 1])])
def test_seg_output_at_input_voxels(head, strides):
    torch.manual_seed(0)
    batch = make_batch(n=4, num_points=256, seg=True)
    model = create_model("efficientnet_lite0", 5, "seg", head=head).eval()
    assert _decoder_strides(model, batch.x) == strides
    out = model(batch.x)
    assert isinstance(out, SparseTensor)
    assert out.stride == 1 and torch.equal(out.coords, batch.x.coords)
    assert out.feats.shape == (batch.x.num_voxels, 5)
    per_point = out.feats[batch.point_to_voxel]
    assert per_point.shape == (sum(batch.points_per_cloud), 5) == (batch.labels.shape[0], 5)
    assert torch.isfinite(per_point).all()


def test_seg_backward_reaches_input_and_output_layers():
    torch.manual_seed(0)
    batch = make_batch(n=4, num_points=256, seg=True)
    model = create_model("efficientnet_lite0", SEG_CLASSES, "seg").train()
    logits = model(batch.x).feats[batch.point_to_voxel]
    TF.cross_entropy(logits, batch.labels).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing
    for p in (model.input_layer.stem[0][0].weight, model.backbone.blocks[6][0].conv_pwl.weight,
              model.output_layer.ups[0].weight, model.output_layer.classifier.weight):
        assert p.grad.abs().sum() > 0


def test_seg_loads_pretrained_lite0_like_cls():
    cls, seg = pretrained_lite0(), pretrained_lite0("seg")
    rc, rs = cls.load_report, seg.load_report
    assert (rs.convs, rs.bn_tensors, rs.not_transferred) == (rc.convs, rc.bn_tensors, rc.not_transferred)
    assert (rs.convs, rs.bn_tensors) == (47, 188) and rs.not_transferred == LITE0_NOT_TRANSFERRED
    sc, ss = cls.backbone.state_dict(), seg.backbone.state_dict()
    assert sc.keys() == ss.keys() and all(torch.equal(sc[k], ss[k]) for k in sc)


def test_seg_io_scope_step_changes_only_input_and_output_layers():
    model = apply_scope(pretrained_lite0("seg"), "io").train()
    batch = make_batch(n=4, num_points=256, seg=True)
    before = snapshot(model)
    opt = torch.optim.SGD(trainable_parameters(model), lr=0.1, momentum=0.9)
    TF.cross_entropy(model(batch.x).feats[batch.point_to_voxel], batch.labels).backward()
    opt.step()
    diff = changed(before, snapshot(model))
    assert diff and {k.split(".")[0] for k in diff} == {"input_layer", "output_layer"}
    assert any(k.startswith("output_layer.decoders.") for k in diff)
    assert all(not p.requires_grad for p in model.backbone.parameters())


def test_unet_decoder_rejects_inconsistent_arguments():
    with pytest.raises(ValueError, match="upsample flags"):
        UNetDecoder(64, [32, 16], 3, BasicBlock, linear=False, upsample=[True])
    with pytest.raises(ValueError, match="at least one skip"):
        UNetDecoder(64, [], 3, BasicBlock, linear=False)
