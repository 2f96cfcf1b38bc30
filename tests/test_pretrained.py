"""Loading 2D (torchvision-layout) checkpoints into inflated sparse ResNets."""
from __future__ import annotations

import pytest
import torch

from helpers_models import NUM_CLASSES, make_batch, tv_state_dict  # noqa: F401
from i2p.inflate import FilterTransform, inflate_conv_weight, transform_of
from i2p.models import create_model, load_pretrained_2d, read_state_dict
from i2p.models.pretrained import BN_KEYS, transfer_targets
from i2p.models.resnet import guess_resnet_arch
from i2p.sparse import nn as spnn

R18_CONVS = 19  # 16 block convs + 3 stride-2 shortcuts
R18_NOT_TRANSFERRED = ["bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.weight", "conv1.weight",
                       "fc.bias", "fc.weight"]


def build(sd=None, task="cls", arch="resnet18", **kw):
    torch.manual_seed(1)
    return create_model(arch, NUM_CLASSES, task, pretrained=sd if sd is not None else tv_state_dict(arch), **kw)


def convs_and_bns(model):
    targets = list(transfer_targets(model))
    return ([(n, m) for n, m in targets if isinstance(m, spnn.Conv3d)],
            [(n, m) for n, m in targets if isinstance(m, spnn.BatchNorm)])


# -- exact transfer --------------------------------------------------------------------------


@pytest.mark.parametrize("task", ["cls", "seg"])
def test_every_backbone_tensor_is_the_inflated_2d_tensor(task):
    sd = tv_state_dict()
    model = build(sd, task)
    convs, bns = convs_and_bns(model)
    assert len(convs) == R18_CONVS and len(bns) == R18_CONVS
    shortcuts = 0
    for name, conv in convs:
        w2d = sd[f"{name}.weight"]
        expect = inflate_conv_weight(w2d, "default", conv.kernel_size)
        assert torch.equal(conv.weight, expect), name
        if w2d.shape[-1] == 1 and conv.stride == 2:  # 1x1 stride-2 shortcut -> kernel-2 conv
            shortcuts += 1
            assert conv.kernel_size == 2 and conv.weight.shape[0] == 8
            for k in range(8):  # 8 copies of the 1x1 weight, [C_in, C_out] layout
                assert torch.equal(conv.weight[k], w2d[:, :, 0, 0].t()), name
        if w2d.shape[-1] == 3:  # default T: copy k along z -> W3d[x, y, z] = W2d[x, y]
            dense = conv.weight.permute(2, 1, 0).reshape(*w2d.shape[:2], 3, 3, 3)
            for z in range(3):
                assert torch.equal(dense[..., z], w2d), name
    assert shortcuts == 3
    for name, bn in bns:
        for k in BN_KEYS:
            assert torch.equal(getattr(bn, k), sd[f"{name}.{k}"]), f"{name}.{k}"


def test_input_and_output_layers_are_untouched():
    torch.manual_seed(1)
    scratch = create_model("resnet18", NUM_CLASSES)
    pretrained = build()
    for part in ("input_layer", "output_layer"):
        a, b = getattr(scratch, part).state_dict(), getattr(pretrained, part).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), part


def test_load_report_counts():
    report = build().load_report
    assert report.convs == R18_CONVS
    assert report.bn_tensors == R18_CONVS * 4
    assert report.learnable_transforms == 0
    assert report.not_transferred == R18_NOT_TRANSFERRED
    s = str(report)
    assert "19 inflated conv weights" in s and "76 BN tensors" in s and "bn1, conv1, fc" in s


def test_resnet50_report_counts():
    torch.manual_seed(1)
    model = create_model("resnet50", NUM_CLASSES)
    report = load_pretrained_2d(model, tv_state_dict("resnet50"))
    assert report.convs == 3 * 16 + 4  # 16 bottlenecks x 3 convs + 4 shortcuts
    assert report.bn_tensors == 4 * report.convs
    assert report.not_transferred == R18_NOT_TRANSFERRED


# -- checkpoint containers ------------------------------------------------------------------


@pytest.mark.parametrize("wrap", ["plain", "module", "state_dict", "model", "state_dict+module", "path", "path_str"])
def test_checkpoint_containers(wrap, tmp_path):
    sd = tv_state_dict()
    src = sd
    if "module" in wrap:
        src = {f"module.{k}": v for k, v in sd.items()}
    if wrap.startswith("state_dict"):
        src = {"state_dict": src, "epoch": 90, "arch": "resnet18"}
    if wrap == "model":
        src = {"model": src, "optimizer": {}}
    if wrap.startswith("path"):
        path = tmp_path / "r18.pth"
        torch.save(src, path)
        src = str(path) if wrap == "path_str" else path
    assert read_state_dict(src).keys() == sd.keys()
    model = build(src)
    ref = build(sd)
    a, b = model.state_dict(), ref.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert model.load_report.convs == R18_CONVS


# -- failures are loud ----------------------------------------------------------------------


def _fresh():
    torch.manual_seed(1)
    return create_model("resnet18", NUM_CLASSES)


def test_missing_tensor_raises():
    sd = tv_state_dict()
    del sd["layer3.1.bn2.running_var"]
    with pytest.raises(ValueError, match=r"missing layer3\.1\.bn2\.running_var"):
        load_pretrained_2d(_fresh(), sd)


@pytest.mark.parametrize("key,shape,match", [
    ("layer2.0.conv1.weight", (128, 64, 5, 5), r"5x5 kernel"),
    ("layer2.0.conv1.weight", (128, 32, 3, 3), r"layer2\.0\.conv1\.weight is \[128, 32, 3, 3\]"),
    ("layer4.1.bn1.weight", (256,), r"layer4\.1\.bn1\.weight is \[256\]"),
    ("layer1.0.conv2.weight", (64, 64, 3), r"layer1\.0\.conv2\.weight is \[64, 64, 3\]"),
])
def test_misshaped_tensor_raises(key, shape, match):
    sd = tv_state_dict()
    sd[key] = torch.zeros(shape)
    with pytest.raises(ValueError, match=match):
        load_pretrained_2d(_fresh(), sd)


def test_failed_load_leaves_model_unchanged():
    model = _fresh()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    sd = tv_state_dict()
    sd["layer4.1.conv2.weight"] = torch.zeros(1)
    with pytest.raises(ValueError):
        load_pretrained_2d(model, sd)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_wrong_architecture_names_the_checkpoint():
    with pytest.raises(ValueError, match=r"resnet18.*looks like a resnet50"):
        load_pretrained_2d(_fresh(), tv_state_dict("resnet50"))


@pytest.mark.parametrize("arch", ["resnet18", "resnet34", "resnet50"])
def test_guess_resnet_arch(arch):
    assert guess_resnet_arch(tv_state_dict(arch)) == arch


def test_guess_resnet_arch_unknown():
    assert guess_resnet_arch({"features.0.weight": torch.zeros(1)}) is None


def test_corrupt_file_raises(tmp_path):
    bad = tmp_path / "garbage.pth"
    bad.write_bytes(b"this is not a checkpoint" * 10)
    with pytest.raises(ValueError, match="cannot read 2D checkpoint"):
        load_pretrained_2d(_fresh(), bad)


def test_truncated_file_raises(tmp_path):
    path = tmp_path / "r18.pth"
    torch.save(tv_state_dict(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cannot read 2D checkpoint"):
        load_pretrained_2d(_fresh(), path)


def test_missing_file_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_pretrained_2d(_fresh(), tmp_path / "nope.pth")


@pytest.mark.parametrize("src", [{"a": 1}, [1, 2], {"state_dict": {"w": "x"}}])
def test_not_a_state_dict_raises(src):
    with pytest.raises(ValueError, match="not a state dict"):
        read_state_dict(src)


# -- transform options -------------------------------------------------------------------------


@pytest.mark.parametrize("transform", ["T1", "T2", "T3"])
def test_named_transform_differs_from_default(transform):
    sd = tv_state_dict()
    default, other = build(sd), build(sd, transform=transform)
    (name, c_def), = [(n, m) for n, m in convs_and_bns(default)[0] if n == "layer1.0.conv1"]
    c_oth = other.backbone.get_submodule(name)
    assert not torch.equal(c_def.weight, c_oth.weight)
    assert torch.equal(c_oth.weight, inflate_conv_weight(sd[f"{name}.weight"], transform))
    # the same multiset of 2D taps is used, only placed differently
    assert torch.equal(c_def.weight.sort(0).values, c_oth.weight.sort(0).values)


def test_rescale_divides_by_copies():
    sd = tv_state_dict()
    plain, rescaled = build(sd), build(sd, rescale=True)
    for name, conv in convs_and_bns(plain)[0]:
        other = rescaled.backbone.get_submodule(name)
        copies = {3: 3, 2: 8, 1: 1}[conv.kernel_size]
        torch.testing.assert_close(other.weight, conv.weight / copies)  # (W@T)/k vs W@(T/k): rounding only


@pytest.mark.parametrize("learnable,expected", [("shared", 2), ("nonshared", R18_CONVS)])
def test_learnable_transform_counts(learnable, expected):
    sd = tv_state_dict()
    model = build(sd, learnable=learnable)
    transforms = {id(transform_of(m)) for _, m in convs_and_bns(model)[0]}
    assert None not in {transform_of(m) for _, m in convs_and_bns(model)[0]}
    assert len(transforms) == expected
    assert model.load_report.learnable_transforms == expected
    instances = [m for m in model.modules() if isinstance(m, FilterTransform)]
    assert len({id(m) for m in instances}) == expected
    if learnable == "shared":  # one T per kernel geometry: 3x3 -> 3^3 and 1x1 -> 2^3
        assert sorted((t.k2d, t.k3d) for t in {id(t): t for t in instances}.values()) == [(1, 2), (3, 3)]
    # T parameters appear once each in model.parameters()
    t_params = [p for m in {id(t): t for t in instances}.values() for p in m.parameters()]
    assert len(t_params) == expected
    assert sum(any(p is q for q in t_params) for p in model.parameters()) == expected


def test_resnet50_shared_transforms_one_per_geometry():
    """Bottlenecks have three geometries: 1x1 -> 1^3, 3x3 -> 3^3 and the 1x1 stride-2 -> 2^3."""
    torch.manual_seed(1)
    model = create_model("resnet50", NUM_CLASSES)
    report = load_pretrained_2d(model, tv_state_dict("resnet50"), learnable="shared")
    instances = {id(m): m for m in model.modules() if isinstance(m, FilterTransform)}.values()
    assert sorted((t.k2d, t.k3d) for t in instances) == [(1, 1), (1, 2), (3, 3)]
    assert report.learnable_transforms == 3


@pytest.mark.parametrize("learnable", ["shared", "nonshared"])
def test_learnable_default_init_equals_handcrafted_inflation(learnable):
    sd = tv_state_dict()
    fixed, learned = build(sd), build(sd, learnable=learnable)
    for name, conv in convs_and_bns(fixed)[0]:
        lconv = learned.backbone.get_submodule(name)
        torch.testing.assert_close(lconv.weight, conv.weight, rtol=0, atol=0)
        orig = lconv.parametrizations.weight.original
        assert torch.equal(orig, sd[f"{name}.weight"]) and not orig.requires_grad


def test_learnable_random_init_differs():
    sd = tv_state_dict()
    fixed, learned = build(sd), build(sd, learnable="nonshared", transform_init="random")
    c1 = fixed.backbone.get_submodule("layer1.0.conv1")
    c2 = learned.backbone.get_submodule("layer1.0.conv1")
    assert c1.weight.shape == c2.weight.shape and not torch.allclose(c1.weight, c2.weight)


def test_learnable_forward_matches_fixed():
    sd = tv_state_dict()
    batch = make_batch(n=2)
    fixed, learned = build(sd).eval(), build(sd, learnable="shared").eval()
    torch.testing.assert_close(learned(batch.x), fixed(batch.x))


# -- deep-stem (segmentation) encoders: layer1 takes 128 channels ------------------------------


def deep_stem_sd(arch: str = "resnet18") -> dict[str, torch.Tensor]:
    """``tv_state_dict(arch)`` as a deep-stem encoder sees it: layer1.0 takes 128 channels
    and has a 1x1 stride-1 projection shortcut (the stem itself is irrelevant here)."""
    sd = tv_state_dict(arch)
    g = torch.Generator().manual_seed(5)
    w = sd["layer1.0.conv1.weight"]
    sd["layer1.0.conv1.weight"] = torch.randn(w.shape[0], 128, *w.shape[2:], generator=g)
    c_out = sd["layer1.0.bn3.weight" if arch == "resnet50" else "layer1.0.bn2.weight"].numel()
    sd["layer1.0.downsample.0.weight"] = torch.randn(c_out, 128, 1, 1, generator=g)
    for k in BN_KEYS:
        sd[f"layer1.0.downsample.1.{k}"] = 0.5 + torch.rand(c_out, generator=g)
    return sd


@pytest.mark.parametrize("task", ["cls", "seg"])
def test_deep_stem_checkpoint_in_default_model_suggests_stem_width(task):
    with pytest.raises(ValueError, match=r"layer1 takes 128 input channels.*stem_width=128") as e:
        create_model("resnet18", NUM_CLASSES, task, pretrained=deep_stem_sd())
    assert "layer1.0.conv1.weight is [64, 128, 3, 3]" in str(e.value)


def test_plain_checkpoint_in_wide_stem_model_suggests_stem_width_64():
    with pytest.raises(ValueError, match=r"missing layer1\.0\.downsample.*stem_width=64"):
        create_model("resnet18", NUM_CLASSES, pretrained=tv_state_dict(), stem_width=128)


@pytest.mark.parametrize("arch", ["resnet18", "resnet50"])
def test_deep_stem_checkpoint_loads_exactly_with_stem_width_128(arch):
    sd = deep_stem_sd(arch)
    torch.manual_seed(1)
    model = create_model(arch, NUM_CLASSES, "seg", pretrained=sd, stem_width=128)  # load_pretrained_2d unchanged
    shortcut = model.backbone.get_submodule("layer1.0.downsample.0")
    assert (shortcut.in_channels, shortcut.kernel_size, shortcut.stride) == (128, 1, 1)
    assert torch.equal(shortcut.weight, inflate_conv_weight(sd["layer1.0.downsample.0.weight"], "default", 1))
    convs, bns = convs_and_bns(model)
    for name, conv in convs:
        assert torch.equal(conv.weight, inflate_conv_weight(sd[f"{name}.weight"], "default", conv.kernel_size)), name
    for name, bn in bns:
        assert all(torch.equal(getattr(bn, k), sd[f"{name}.{k}"]) for k in BN_KEYS), name
    assert model.load_report.not_transferred == R18_NOT_TRANSFERRED
