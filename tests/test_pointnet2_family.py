"""PointNet++ SSG as a model family: built, loaded as-is from images-as-points weights, scoped."""
from __future__ import annotations

import pytest
import torch

from i2p.finetune import prepare_model
from i2p.models import create_model, family_of
from i2p.models.pointnet2 import CLOUD_RADII, PIXEL_RADII, ImagePointNet2
from i2p.pointnet2 import PointNet2SSG


@pytest.fixture(scope="module")
def image_weights() -> dict[str, torch.Tensor]:
    """A (random) images-as-points checkpoint, BN statistics moved off their init."""
    torch.manual_seed(0)
    net = ImagePointNet2(7)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                m.running_mean.uniform_(-1, 1)
    return net.state_dict()


def test_the_family_builds_a_points_model_in_unit_sphere_units():
    model = create_model("pointnet2_ssg", 5, "cls", in_channels=3)
    assert isinstance(model, PointNet2SSG) and family_of("pointnet2_ssg").name == "pointnet2"
    assert (model.input_kind, model.num_points, model.radii) == ("points", 1024, CLOUD_RADII)
    assert ImagePointNet2(7).radii == PIXEL_RADII
    xyz = torch.rand(2, 64, 3)
    assert model.eval()(xyz, xyz).shape == (2, 5)
    assert create_model("pointnet2_ssg", 5, "seg").eval()(xyz, xyz).shape == (2, 64, 5)
    with pytest.raises(ValueError, match="no head or stem_width option"):
        create_model("pointnet2_ssg", 5, head="linear")


@pytest.mark.parametrize("scope", ["io_stats", "whole"])
def test_pretrained_backbone_loads_as_is_and_the_scope_applies(image_weights, scope):
    model = prepare_model("modelnet40", "pointnet2_ssg", image_weights, scope, num_classes=10)
    own = model.state_dict()
    for k, v in image_weights.items():
        if k.startswith("backbone."):
            assert torch.equal(own[k], v), k
    assert not torch.equal(own["input_layer.0.weight"], image_weights["input_layer.0.weight"])
    report = str(model.load_report)
    assert "as they are (no filter inflation)" in report and "input_layer, output_layer" in report
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    backbone = {n for n, _ in model.named_parameters() if n.startswith("backbone.")}
    assert (trainable & backbone == set()) == (scope == "io_stats")
    assert any(n.startswith("backbone.global_sa.") for n in backbone)  # the global SA transfers too
    scratch = prepare_model("modelnet40", "pointnet2_ssg", None, "scratch", num_classes=10)
    assert scratch.load_report is None and all(p.requires_grad for p in scratch.parameters())


def test_segmentation_takes_the_levels_and_reports_the_global_level(image_weights):
    model = create_model("pointnet2_ssg", 4, "seg", pretrained=image_weights)
    assert "backbone.global_sa.mlp.0.weight" in model.load_report.not_transferred
    assert torch.equal(model.backbone.levels[1].mlp[0].weight, image_weights["backbone.levels.1.mlp.0.weight"])


def test_what_cannot_load_is_refused_clearly(image_weights):
    with pytest.raises(ValueError, match="as they are: there are no 2D filters to inflate.*transform='T1'"):
        prepare_model("modelnet40", "pointnet2_ssg", image_weights, "whole", transform="T1")
    with pytest.raises(ValueError, match="scope learn_t does not apply"):
        prepare_model("modelnet40", "pointnet2_ssg", image_weights, "learn_t")
    narrow = {k: v[:, :2] if k == "backbone.levels.0.mlp.0.weight" else v for k, v in image_weights.items()}
    with pytest.raises(ValueError, match=r"does not fit PointNet2SSG's backbone: 1 problems, e.g. levels.0.mlp.0.weight "
                                         r"is \[64, 2, 1, 1\], model needs \[64, 67, 1, 1\]"):
        create_model("pointnet2_ssg", 4, pretrained=narrow)
    with pytest.raises(ValueError, match="holds no backbone.* tensors: it is not a PointNet.. checkpoint"):
        create_model("pointnet2_ssg", 4, pretrained={"conv1.weight": torch.zeros(1)})
