"""Inflated model builders (paper App. 6.4, Listings 1, 3-6): shapes, strides, names."""
from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from helpers_models import NUM_CLASSES, make_batch  # noqa: F401
from i2p.models import LinearNet, SparseResNetCls, SparseResNetSeg, create_model, list_models
from i2p.models.blocks import BasicBlock, Bottleneck
from i2p.models.resnet import RESNET_SPECS
from i2p.sparse import SparseTensor
from i2p.sparse import nn as spnn

ARCHS = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]
BASIC_WIDTHS = [64, 128, 256, 512]
BOTTLENECK_WIDTHS = [256, 512, 1024, 2048]


def meta_model(arch: str, task: str = "cls", head: str = "default") -> nn.Module:
    """Build without allocating weights (resnet152 inflated is ~0.6 GB of float32)."""
    with torch.device("meta"):
        return create_model(arch, NUM_CLASSES, task, head=head)


def meta_torchvision(arch: str) -> nn.Module:
    with torch.device("meta"):
        return getattr(torchvision.models, arch)(weights=None)


# -- forward shapes ------------------------------------------------------------------------


@pytest.mark.parametrize("head", ["default", "linear"])
def test_cls_output_shape(head):
    torch.manual_seed(0)
    batch = make_batch(n=4)
    model = create_model("resnet18", NUM_CLASSES, "cls", head=head).eval()
    out = model(batch.x)
    assert isinstance(out, torch.Tensor)
    assert out.shape == (4, NUM_CLASSES)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("head", ["default", "linear"])
def test_seg_output_at_input_voxels(head):
    torch.manual_seed(0)
    batch = make_batch(n=4, seg=True)
    model = create_model("resnet18", 5, "seg", head=head).eval()
    out = model(batch.x)
    assert isinstance(out, SparseTensor)
    assert out.stride == 1
    assert torch.equal(out.coords, batch.x.coords)
    assert out.feats.shape == (batch.x.num_voxels, 5)
    per_point = out.feats[batch.point_to_voxel]
    assert per_point.shape == (sum(batch.points_per_cloud), 5)
    assert per_point.shape[0] == batch.labels.shape[0]
    assert torch.isfinite(per_point).all()


def test_linear_net_shape_and_structure():
    torch.manual_seed(0)
    batch = make_batch(n=4)
    model = create_model("linear_net", NUM_CLASSES).eval()
    assert isinstance(model, LinearNet)
    assert len(list(model.backbone.parameters())) == 0
    conv, bn = model.input_layer
    assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride) == (3, 512, 3, 1)
    assert bn.num_features == 512
    lin, bn1d = model.output_layer.mlp  # Listing 1: GAP -> FC -> BN
    assert (lin.in_features, lin.out_features) == (512, NUM_CLASSES)
    assert isinstance(bn1d, nn.BatchNorm1d)
    assert model(batch.x).shape == (4, NUM_CLASSES)


@pytest.mark.parametrize("name", ["resnet18", "linear_net"])
@pytest.mark.parametrize("channels", [3, 4, 6])
def test_in_channels(name, channels):
    torch.manual_seed(0)
    batch = make_batch(n=2, channels=channels)
    assert batch.x.num_channels == channels
    model = create_model(name, NUM_CLASSES, in_channels=channels).eval()
    assert model(batch.x).shape == (2, NUM_CLASSES)


def test_in_channels_seg_xyzrgb():
    torch.manual_seed(0)
    batch = make_batch(n=2, channels=6)
    out = create_model("resnet18", 3, "seg", in_channels=6).eval()(batch.x)
    assert out.feats.shape == (batch.x.num_voxels, 3)


@pytest.mark.parametrize("name,task", [("resnet18", "cls"), ("resnet18", "seg"), ("linear_net", "cls")])
@pytest.mark.parametrize("model_ch,data_ch", [(3, 6), (6, 3), (4, 3)])
def test_wrong_channel_count_raises(name, task, model_ch, data_ch):
    batch = make_batch(n=2, channels=data_ch)
    model = create_model(name, NUM_CLASSES, task, in_channels=model_ch)
    with pytest.raises(ValueError, match=rf"expects {model_ch} input channels.*got {data_ch}"):
        model(batch.x)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(name="resnet19", num_classes=3), "unknown model"),
        (dict(name="resnet18", num_classes=0), "num_classes"),
        (dict(name="resnet18", num_classes=3, task="det"), "task"),
        (dict(name="resnet18", num_classes=3, head="mlp"), "head"),
        (dict(name="resnet18", num_classes=3, in_channels=0), "in_channels"),
        (dict(name="linear_net", num_classes=3, task="seg"), "linear_net"),
        (dict(name="resnet18", num_classes=3, transform="T1"), "pretrained"),
    ],
)
def test_create_model_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        create_model(**kwargs)


def test_list_models():
    assert sorted(list_models()) == sorted(ARCHS + ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"]
                                           + ["linear_net", "pointnet2_ssg", "range_lite0", "range_hrnetv2_w48",
                                              "range_hrnetv2_w18_small"])


# -- resolutions (Listings 3 vs 5) ---------------------------------------------------------


@pytest.mark.parametrize("head,strides", [("default", [1, 2, 2, 4, 8, 16]), ("linear", [1, 1, 1, 2, 4, 8])])
def test_encoder_strides(head, strides):
    torch.manual_seed(0)
    batch = make_batch(n=2)
    model = create_model("resnet18", NUM_CLASSES, head=head).eval()
    feats = model.encode(batch.x)
    assert [f.stride for f in feats] == strides
    assert [f.num_channels for f in feats] == [64, 64, 64, 128, 256, 512]


def test_input_layers_follow_listings():
    default = create_model("resnet18", NUM_CLASSES).input_layer
    convs = [m for m in default.modules() if isinstance(m, spnn.Conv3d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride) for c in convs] == [
        (3, 64, 3, 1), (64, 64, 3, 1), (64, 64, 3, 2)]  # Listing 3
    assert sum(isinstance(m, spnn.ReLU) for m in default.modules()) == 3
    linear = create_model("resnet18", NUM_CLASSES, head="linear").input_layer
    convs = [m for m in linear.modules() if isinstance(m, spnn.Conv3d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride) for c in convs] == [(3, 64, 3, 1)]  # Listing 5
    assert not any(isinstance(m, (spnn.ReLU, nn.ReLU)) for m in linear.modules())


@pytest.mark.parametrize("head,layers", [
    ("default", [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear]),  # Listing 3
    ("linear", [nn.Linear, nn.BatchNorm1d]),  # Listing 5
])
def test_cls_heads_follow_listings(head, layers):
    mlp = create_model("resnet18", NUM_CLASSES, head=head).output_layer.mlp
    assert [type(m) for m in mlp] == layers
    linears = [m for m in mlp if isinstance(m, nn.Linear)]
    assert linears[0].in_features == 512 and linears[-1].out_features == NUM_CLASSES


@pytest.mark.parametrize("arch", ["resnet18", "resnet50"])
@pytest.mark.parametrize("head", ["default", "linear"])
def test_seg_decoder_widths(arch, head):
    model = meta_model(arch, "seg", head)
    w1, w2, w3, w4 = model.widths
    ups = [u for u in model.output_layer.ups if isinstance(u, spnn.Conv3d)]
    assert all(u.transposed and u.kernel_size == 2 and u.stride == 2 for u in ups)
    assert [u.in_channels for u in ups] == ([w4, w3, w2, w1] if head == "default" else [w4, w3, w2])
    assert model.output_layer.classifier.in_features == w1


# -- architecture / names ------------------------------------------------------------------


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("task", ["cls", "seg"])
def test_all_depths_build_with_torchvision_stage_widths(arch, task):
    model = meta_model(arch, task)
    block, depths = RESNET_SPECS[arch]
    bottleneck = arch in ("resnet50", "resnet101", "resnet152")
    assert block is (Bottleneck if bottleneck else BasicBlock)
    widths = BOTTLENECK_WIDTHS if bottleneck else BASIC_WIDTHS
    assert model.widths == widths
    assert isinstance(model, SparseResNetCls if task == "cls" else SparseResNetSeg)
    assert list(model.backbone.keys()) == ["layer1", "layer2", "layer3", "layer4"]
    c_in = 64
    for i, (stage, n, w) in enumerate(zip(model.backbone.values(), depths, widths)):
        assert len(stage) == n
        last_bn = stage[-1].bn3 if bottleneck else stage[-1].bn2
        assert last_bn.num_features == w
        first = stage[0]
        strided = first.conv2 if bottleneck else first.conv1  # v1.5: stride on the 3x3
        assert strided.stride == (1 if i == 0 else 2)
        assert first.conv1.in_channels == c_in
        if i > 0:  # stride-2 projection shortcut: kernel-2 stride-2 sparse conv
            assert (first.downsample[0].kernel_size, first.downsample[0].stride) == (2, 2)
        c_in = w
    if task == "cls":
        assert model.output_layer.mlp[0].in_features == widths[-1]


def _conv_bn_modules(root: nn.Module, conv_t, bn_t, prefix: str = "") -> dict[str, nn.Module]:
    return {n: m for n, m in root.named_modules() if isinstance(m, (conv_t, bn_t)) and n.startswith(prefix)}


@pytest.mark.parametrize("arch", ARCHS)
def test_backbone_names_and_shapes_match_torchvision(arch):
    ours = _conv_bn_modules(meta_model(arch).backbone, spnn.Conv3d, spnn.BatchNorm)
    theirs = _conv_bn_modules(meta_torchvision(arch), nn.Conv2d, nn.BatchNorm2d, prefix="layer")
    assert set(ours) == set(theirs)
    for name, m2 in theirs.items():
        m3 = ours[name]
        if isinstance(m2, nn.BatchNorm2d):
            assert isinstance(m3, spnn.BatchNorm) and m3.num_features == m2.num_features, name
            continue
        assert isinstance(m3, spnn.Conv3d), name
        assert (m3.in_channels, m3.out_channels, m3.stride) == (m2.in_channels, m2.out_channels, m2.stride[0]), name
        k2 = m2.kernel_size[0]
        assert m3.kernel_size == (2 if (k2, m2.stride[0]) == (1, 2) else k2), name


def test_resnet50_forward_cls():
    torch.manual_seed(0)
    batch = make_batch(n=2)
    out = create_model("resnet50", NUM_CLASSES).eval()(batch.x)
    assert out.shape == (2, NUM_CLASSES)
    assert torch.isfinite(out).all()


# -- stem_width: deep-stem (segmentation) encoders feed layer1 128 channels ------------------


def meta_deep_stem_torchvision(arch: str) -> nn.Module:
    """torchvision's ResNet with ``layer1`` rebuilt by its own ``_make_layer`` for a
    128-wide input, as in the CSAIL / structured-KD segmentation encoders."""
    block, depths = RESNET_SPECS[arch]
    tv_block = torchvision.models.resnet.Bottleneck if block is Bottleneck else torchvision.models.resnet.BasicBlock
    net = meta_torchvision(arch)
    with torch.device("meta"):
        net.inplanes = 128
        net.layer1 = net._make_layer(tv_block, 64, depths[0])
    return net


@pytest.mark.parametrize("arch", ["resnet18", "resnet50"])
def test_stem_width_backbone_matches_deep_stem_torchvision(arch):
    with torch.device("meta"):
        model = create_model(arch, NUM_CLASSES, stem_width=128)
    ours = _conv_bn_modules(model.backbone, spnn.Conv3d, spnn.BatchNorm)
    theirs = _conv_bn_modules(meta_deep_stem_torchvision(arch), nn.Conv2d, nn.BatchNorm2d, prefix="layer")
    assert set(ours) == set(theirs) and "layer1.0.downsample.0" in ours
    for name, m2 in theirs.items():
        m3 = ours[name]
        if isinstance(m2, nn.Conv2d):
            assert (m3.in_channels, m3.out_channels, m3.stride) == (m2.in_channels, m2.out_channels, m2.stride[0]), name
    sc = ours["layer1.0.downsample.0"]
    assert (sc.in_channels, sc.kernel_size, sc.stride) == (128, 1, 1)


@pytest.mark.parametrize("head", ["default", "linear"])
def test_stem_width_sets_input_layer_and_last_skip(head):
    torch.manual_seed(0)
    batch = make_batch(n=2, seg=True)
    seg = create_model("resnet18", 3, "seg", head=head, stem_width=128).eval()
    assert seg.stem_width == 128
    convs = [m for m in seg.input_layer.modules() if isinstance(m, spnn.Conv3d)]
    assert all(c.out_channels == 128 for c in convs) and convs[0].in_channels == 3
    last = seg.output_layer.decoders[3]
    first_conv = next(m for m in last.modules() if isinstance(m, spnn.Conv3d))
    assert first_conv.in_channels == 64 + 128  # up(x1) + the input layer's stride-1 features
    feats = seg.encode(batch.x)
    assert [f.num_channels for f in feats] == [128, 128, 64, 128, 256, 512]
    out = seg(batch.x)
    assert out.feats.shape == (batch.x.num_voxels, 3) and torch.isfinite(out.feats).all()
    cls = create_model("resnet18", NUM_CLASSES, head=head, stem_width=128).eval()
    assert cls(batch.x).shape == (2, NUM_CLASSES)


def test_default_stem_width_is_torchvisions():
    model = meta_model("resnet18", "seg")
    assert model.stem_width == 64 and model.backbone.layer1[0].downsample is None


@pytest.mark.parametrize("kwargs,match", [
    (dict(name="resnet18", num_classes=3, stem_width=0), "stem_width"),
    (dict(name="efficientnet_lite0", num_classes=3, stem_width=128), "stem width is fixed at 32"),
    (dict(name="linear_net", num_classes=3, stem_width=128), "stem_width"),
])
def test_stem_width_rejected_where_meaningless(kwargs, match):
    with pytest.raises(ValueError, match=match):
        create_model(**kwargs)
