"""HRNetV2 on range images (paper §4.2, Table 2): the model, its finetune scopes, and the
HRNet-Semantic-Segmentation checkpoint layout, tested without the real file.

The official key names and shapes are generated here from the official architecture
description (the ``seg_hrnet_*`` experiment configs and the construction rules of
``lib/models/seg_hrnet.py``), independently of timm's modules that the model uses.
"""
from __future__ import annotations

import pytest
import torch

from helpers_models import assert_range_model_learns
from i2p import weights as W
from i2p.experiments import preset, run
from i2p.finetune import apply_scope
from i2p.models import create_model, load_weights
from i2p.models.range_hrnet import seg_hrnet_to_timm
from i2p.models.range_net import RangeHRNet, load_range
from i2p.models.resnet import IABN_EPS

SMALL = "range_hrnetv2_w18_small"
BN_KEYS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")

# the official experiment configs, per stage: (block, modules, blocks per branch, branch widths)
SEG_HRNET_W18_SMALL_V1 = (("BOTTLENECK", 1, (1,), (32,)), ("BASIC", 1, (2, 2), (16, 32)),
                          ("BASIC", 1, (2, 2, 2), (16, 32, 64)), ("BASIC", 1, (2, 2, 2, 2), (16, 32, 64, 128)))
SEG_HRNET_W48 = (("BOTTLENECK", 1, (4,), (64,)), ("BASIC", 1, (4, 4), (48, 96)),
                 ("BASIC", 4, (4, 4, 4), (48, 96, 192)), ("BASIC", 3, (4, 4, 4, 4), (48, 96, 192, 384)))
CONFIGS = {SMALL: SEG_HRNET_W18_SMALL_V1, "range_hrnetv2_w48": SEG_HRNET_W48}
#: the official network's modules a range model does not take (RGB stem conv, Cityscapes head)
NOT_TRANSFERRED = ("conv1", "bn1", "last_layer")


def official_shapes(stages: tuple, num_classes: int = 19) -> dict[str, tuple[int, ...]]:
    """Every tensor of ``FullModel(seg_hrnet, CrossEntropy).state_dict()`` by name and shape."""
    shapes: dict[str, tuple[int, ...]] = {}

    def conv(name: str, c_out: int, c_in: int, k: int, bias: bool = False) -> None:
        shapes[f"{name}.weight"] = (c_out, c_in, k, k)
        if bias:
            shapes[f"{name}.bias"] = (c_out,)

    def bn(name: str, c: int) -> None:
        shapes.update({f"{name}.{k}": () if k == "num_batches_tracked" else (c,) for k in BN_KEYS})

    def block(name: str, kind: str, c_in: int, planes: int) -> int:
        if kind == "BASIC":
            conv(f"{name}.conv1", planes, c_in, 3), bn(f"{name}.bn1", planes)
            conv(f"{name}.conv2", planes, planes, 3), bn(f"{name}.bn2", planes)
            out = planes
        else:
            conv(f"{name}.conv1", planes, c_in, 1), bn(f"{name}.bn1", planes)
            conv(f"{name}.conv2", planes, planes, 3), bn(f"{name}.bn2", planes)
            conv(f"{name}.conv3", 4 * planes, planes, 1), bn(f"{name}.bn3", 4 * planes)
            out = 4 * planes
        if c_in != out:
            conv(f"{name}.downsample.0", out, c_in, 1), bn(f"{name}.downsample.1", out)
        return out

    conv("conv1", 64, 3, 3), bn("bn1", 64), conv("conv2", 64, 64, 3), bn("bn2", 64)
    kind, _, (blocks,), (width,) = stages[0]
    c = 64
    for b in range(blocks):
        c = block(f"layer1.{b}", kind, c, width)
    pre = [c]
    for s, (kind, modules, blocks, widths) in enumerate(stages[1:], start=2):
        cur = [w * (4 if kind == "BOTTLENECK" else 1) for w in widths]
        t = f"transition{s - 1}"
        for i, w in enumerate(cur):
            if i < len(pre) and w != pre[i]:
                conv(f"{t}.{i}.0", w, pre[i], 3), bn(f"{t}.{i}.1", w)
            for j in range(i + 1 - len(pre)):  # a new branch: stride-2 convs from the lowest one
                out = w if j == i - len(pre) else pre[-1]
                conv(f"{t}.{i}.{j}.0", out, pre[-1], 3), bn(f"{t}.{i}.{j}.1", out)
        for m in range(modules):
            for i, w in enumerate(widths):
                c = cur[i]
                for b in range(blocks[i]):
                    c = block(f"stage{s}.{m}.branches.{i}.{b}", kind, c, w)
            for i in range(len(cur)):
                for j in range(len(cur)):
                    f = f"stage{s}.{m}.fuse_layers.{i}.{j}"
                    if j > i:
                        conv(f"{f}.0", cur[i], cur[j], 1), bn(f"{f}.1", cur[i])
                    for k in range(i - j):
                        out = cur[i] if k == i - j - 1 else cur[j]
                        conv(f"{f}.{k}.0", out, cur[j], 3), bn(f"{f}.{k}.1", out)
        pre = cur
    conv("last_layer.0", sum(pre), sum(pre), 1, bias=True), bn("last_layer.1", sum(pre))
    conv("last_layer.3", num_classes, sum(pre), 1, bias=True)
    return {**{f"model.{k}": v for k, v in shapes.items()}, "loss.criterion.weight": (num_classes,)}


def official_checkpoint(arch: str = SMALL, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random tensors (a different value per tensor) in the official names and shapes."""
    g = torch.Generator().manual_seed(seed)
    return {k: torch.tensor(7) if k.endswith("num_batches_tracked") else torch.randn(shape, generator=g)
            for k, shape in official_shapes(CONFIGS[arch]).items()}


def _backbone_key(official: str) -> str | None:
    key = official.removeprefix("model.")
    return None if key == official or key.split(".")[0] in NOT_TRANSFERRED else key


# -- the model ------------------------------------------------------------------------------


def test_forward_shapes_padding_and_gradients():
    torch.manual_seed(0)
    model = RangeHRNet(19, arch=SMALL)
    assert model.load_report is None and model.input_kind == "range" and model.multiple == (32, 32)
    x = torch.randn(2, 5, 64, 128, requires_grad=True)
    branches = model.backbone(model.input_layer(x))
    assert [b.shape[-2:] for b in branches] == [(16, 32), (8, 16), (4, 8), (2, 4)]  # 1/4 .. 1/32
    assert [b.shape[1] for b in branches] == model.backbone.widths == [16, 32, 64, 128]
    # the fuse layers upsample as the official segmentation HRNet (timm's classifier: nearest)
    assert {(m.mode, m.align_corners) for m in model.modules() if isinstance(m, torch.nn.Upsample)} == {
        ("bilinear", False)}
    assert_range_model_learns(model, x, (2, 19, 64, 128))
    assert model(torch.randn(2, 5, 20, 70)).shape == (2, 19, 20, 70)  # padded to 32 x 96, cropped back
    with pytest.raises(ValueError, match=r"\[B, C, H, W\]"):
        model(torch.randn(5, 64, 128))
    with pytest.raises(ValueError, match="unknown HRNet range model 'range_hrnetv2_w32'"):
        RangeHRNet(19, arch="range_hrnetv2_w32")
    built = create_model(SMALL, 20, task="seg")
    assert isinstance(built, RangeHRNet) and built.output_layer.classifier.out_channels == 20
    with pytest.raises(ValueError, match="segments range images: task 'seg' only"):
        create_model(SMALL, 20)


def test_scopes_train_input_and_output_layers_and_what_the_scope_adds():
    model = RangeHRNet(19, arch=SMALL)
    backbone_bn = [m for m in model.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for scope in ("io", "io_stats", "io_bn", "whole"):
        apply_scope(model, scope).train()
        for part in (model.input_layer, model.output_layer):
            assert all(p.requires_grad for p in part.parameters()), scope
            assert all(m.training for m in part.modules()), scope
        trains = {n for n, p in model.backbone.named_parameters() if p.requires_grad}
        bn_params = {f"{n}.{k}" for n, m in model.backbone.named_modules() if isinstance(m, torch.nn.BatchNorm2d)
                     for k in ("weight", "bias")}
        everything = {n for n, _ in model.backbone.named_parameters()}
        assert trains == {"io": set(), "io_stats": set(), "io_bn": bn_params, "whole": everything}[scope], scope
        # io keeps the 2D running statistics; io_stats and up re-estimate them on range images
        assert all(m.training == (scope != "io") for m in backbone_bn), scope


# -- the official checkpoint layout ----------------------------------------------------------


@pytest.mark.parametrize("arch", list(CONFIGS))
def test_official_names_and_shapes_are_the_backbones(arch):
    """Every official backbone tensor has a place of its shape in the model, and every
    model backbone tensor has one in the checkpoint; the head is HRNetV2's."""
    official = {k: torch.empty(shape, device="meta") for k, shape in official_shapes(CONFIGS[arch]).items()}
    model = RangeHRNet(19, arch=arch)
    mine = {k: tuple(v.shape) for k, v in model.backbone.state_dict().items()}
    converted = seg_hrnet_to_timm(official)
    assert {_backbone_key(k) for k in official} - {None} == set(mine)
    assert all(tuple(converted[k].shape) == shape for k, shape in mine.items())
    head = model.output_layer
    for ours, theirs in ((head.fuse[0], "last_layer.0"), (head.fuse[1], "last_layer.1"), (head.classifier, "last_layer.3")):
        assert all(tuple(p.shape) == tuple(converted[f"{theirs}.{k}"].shape) for k, p in ours.named_parameters())


def test_official_checkpoint_lands_tensor_for_tensor(tmp_path):
    sd = official_checkpoint()
    torch.save(sd, tmp_path / "seg_hrnet_w18_small_v1.pth")
    fresh = RangeHRNet(19, arch=SMALL)
    model = RangeHRNet(19, arch=SMALL, pretrained=tmp_path / "seg_hrnet_w18_small_v1.pth")
    mine = model.backbone.state_dict()
    for key, t in sd.items():
        if _backbone_key(key):
            assert torch.equal(mine[_backbone_key(key)], t), key
    report = model.load_report
    assert report.tensors == len(mine)
    assert report.not_transferred == sorted(k.removeprefix("model.") for k in sd
                                            if not _backbone_key(k) and "num_batches" not in k)
    assert str(report).endswith("not transferred by design (bn1, conv1, last_layer, loss)")
    # the new input layer and head keep their initialisation (the RGB stem and the Cityscapes head are not read)
    assert model.input_layer.stem[0].weight.shape == (64, 5, 3, 3) and not torch.equal(
        model.output_layer.fuse[0].weight, seg_hrnet_to_timm(sd)["last_layer.0.weight"])
    assert fresh.output_layer.classifier.weight.shape == model.output_layer.classifier.weight.shape
    # create_model / prepare_model's path: the same tensors
    built = create_model(SMALL, 19, task="seg", pretrained=str(tmp_path / "seg_hrnet_w18_small_v1.pth"))
    assert all(torch.equal(built.backbone.state_dict()[k], v) for k, v in mine.items())


def test_inplace_abn_release_loads_as_its_effective_scale():
    """The first release (InPlace-ABN: no step counters) loads as the function it computed."""
    sd = {k: v for k, v in official_checkpoint().items() if not k.endswith("num_batches_tracked")}
    model = RangeHRNet(19, arch=SMALL)
    load_range(model, sd)
    bn = model.backbone.stage4[0].branches[3][1].bn2
    assert torch.allclose(bn.weight, sd["model.stage4.0.branches.3.1.bn2.weight"].abs() + IABN_EPS)
    assert torch.equal(bn.bias, sd["model.stage4.0.branches.3.1.bn2.bias"])
    once = seg_hrnet_to_timm(sd)
    assert seg_hrnet_to_timm(once).keys() == once.keys()
    assert all(torch.equal(seg_hrnet_to_timm(once)[k], v) for k, v in once.items())  # converting twice: no change


@pytest.mark.parametrize("change, match", [
    (lambda sd: sd.pop("model.stage4.0.branches.3.1.bn2.running_var"),
     r"1 problems, e\.g\. missing stage4\.0\.branches\.3\.1\.bn2\.running_var"),
    (lambda sd: sd.update({"model.conv2.weight": torch.zeros(64, 64, 5, 5)}),
     r"conv2\.weight is \[64, 64, 5, 5\], model needs \[64, 64, 3, 3\]"),
    (lambda sd: sd.update({k: torch.zeros(2 * v.shape[0], *v.shape[1:]) for k, v in list(sd.items())
                           if k.startswith("model.transition3.3.0.1.") and v.dim()}),
     r"transition3\.3\.0\.1\.weight is \[256\], model needs \[128\]"),
])
def test_a_checkpoint_that_does_not_fit_names_the_tensor(change, match):
    sd = official_checkpoint()
    change(sd)
    with pytest.raises(ValueError, match=r"the given state dict does not fit RangeHRNet's backbone: .*" + match):
        create_model(SMALL, 19, task="seg", pretrained=sd)


# -- the registered source -------------------------------------------------------------------


def test_registered_source_reads_the_official_file(monkeypatch, tmp_path):
    src = W.SOURCES["hrnetv2_w48.cityscapes"]
    assert (src.arch, src.layout, src.num_classes) == ("range_hrnetv2_w48", "hrnet_seg", 19)
    monkeypatch.setattr(W, "weights_dirs", lambda: [tmp_path / "env", tmp_path / "cache", tmp_path / "hub"])
    with pytest.raises(W.WeightsUnavailable, match=r"(?s)does not download.*copy it to .*cache/ as "
                                                   r"hrnet_w48_cityscapes_cls19_1024x2048_trainset\.pth"):
        create_model("range_hrnetv2_w48", 19, task="seg", pretrained="hrnetv2_w48.cityscapes")
    # a file under the registered name: load_weights gives timm's names (the small network's, to stay small)
    sd = official_checkpoint()
    (tmp_path / "cache").mkdir()
    torch.save(sd, tmp_path / "cache" / src.filename)
    assert load_weights("hrnetv2_w48.cityscapes").keys() == seg_hrnet_to_timm(sd).keys()
    assert not any(k.startswith("model.") for k in load_weights("hrnetv2_w48.cityscapes"))
    with pytest.raises(ValueError, match=r"hrnetv2_w48\.cityscapes does not fit RangeHRNet's backbone: \d+ problems, "
                                         r"e\.g\. missing layer1\.1\.conv1\.weight"):
        RangeHRNet(19, pretrained=True)  # a W18-small file (one layer1 block) under the W48 name
    with pytest.raises(ValueError, match="holds a range_hrnetv2_w48, not a range_hrnetv2_w18_small"):
        create_model(SMALL, 19, task="seg", pretrained="hrnetv2_w48.cityscapes")
    with pytest.raises(ValueError, match="has no registered 2D source: give a checkpoint path"):
        RangeHRNet(19, arch=SMALL, pretrained=True)


def test_a_run_trains_and_scores_every_point(tmp_path):
    """The training loop takes the HRNet like range_lite0: range images in, every point scored."""
    small = {"data.options": {"sequences": [0, 8], "sweeps": 1, "val_sweeps": 1, "azimuths": 128},
             "recipe.epochs": 1, "seeds": [0], "model.model": SMALL}
    (rec,) = run(preset("teaching/t2.scratch.hrnet_semantickitti").config.with_overrides(small), store=tmp_path,
                 progress=False)
    assert rec.setup["model"] == SMALL and 0 <= rec.metrics["miou"] <= 1 and sum(map(sum, rec.metrics["confusion"])) > 0
