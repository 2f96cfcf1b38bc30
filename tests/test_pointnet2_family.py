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


# -- images-as-points pretraining -----------------------------------------------------------------


def test_images_as_points_pretraining_saves_a_checkpoint_the_family_loads(tmp_path):
    from i2p.pretrain2d import RECIPES_2D, pretrain_and_save

    path, acc = pretrain_and_save("shapes2d", "pointnet2_ssg", tmp_path / "p.pth", progress=False, size=8,
                                  num_images=24, epochs=1, batch_size=8)
    assert 0 <= acc <= 1 and not list(tmp_path.glob("*.resume.pt"))
    saved = torch.load(path, weights_only=True)
    assert saved["arch"] == "pointnet2_ssg" and saved["num_classes"] == 6
    model = create_model("pointnet2_ssg", 3, pretrained=path)
    assert torch.equal(model.backbone.global_sa.mlp[0].weight, saved["state_dict"]["backbone.global_sa.mlp.0.weight"])
    paper = RECIPES_2D["paper-points"]  # the appendix: SGD 0.1, x0.1 every 30 epochs, 90 epochs, batch 64
    assert (paper.lr, paper.step_every, paper.step_gamma, paper.epochs, paper.batch_size) == (0.1, 30, 0.1, 90, 64)


def test_images_as_points_pretrain_with_adam_by_default(tmp_path):
    """SGD 0.02 at batch 64 learned too slowly for the study's minutes (README, "PointNet++
    (Table 2)"): pointnet2_ssg pretrains with the teaching-points recipe unless told otherwise."""
    from i2p.pretrain2d import RECIPES_2D, Recipe2D, default_recipe, pretrain_2d, render_shapes2d

    rec = RECIPES_2D[default_recipe("pointnet2_ssg")]
    assert (rec.name, rec.optimizer, rec.lr, rec.batch_size) == ("teaching-points", "adam", 1e-3, 32)
    assert default_recipe("resnet18") == "teaching" and RECIPES_2D["teaching"].optimizer == "sgd"
    x, y = render_shapes2d(16, size=8, seed=0)
    ckpt = tmp_path / "c.pt"
    pretrain_2d(x, y, 6, "pointnet2_ssg", epochs=1, batch_size=8, checkpoint=ckpt, progress=False)
    state = torch.load(ckpt, weights_only=False)
    assert state["run"]["recipe"] == "teaching-points"
    assert all("exp_avg" in s for s in state["optimizer"]["state"].values())  # Adam's moments, not SGD's momentum
    with pytest.raises(ValueError, match="optimizer must be 'sgd' or 'adam'"):
        Recipe2D("x", lr=1.0, batch_size=1, epochs=1, optimizer="lamb")


def test_on_demand_source_trains_once_then_comes_from_the_cache(tmp_path, monkeypatch, capsys):
    from i2p import pretrain2d
    from i2p.weights import find_weights

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setitem(pretrain2d.ON_DEMAND, "pointnet2_ssg.fractaldb_points",
                        {"dataset": "shapes2d", "arch": "pointnet2_ssg", "name": "fractaldb_points", "size": 8,
                         "num_images": 24})
    path = pretrain2d.pretrain_source("pointnet2_ssg.fractaldb_points", minutes=0.05, progress=False, epochs=1)
    assert path == find_weights("pointnet2_ssg.fractaldb_points") and "it is not on this machine" in capsys.readouterr().out
    stamp = path.stat().st_mtime_ns
    assert pretrain2d.pretrain_source("pointnet2_ssg.fractaldb_points", minutes=0.05, progress=False) == path
    assert path.stat().st_mtime_ns == stamp  # trained with this budget already: not again
    assert torch.load(path, weights_only=True)["recipe"] == "teaching-points"
    monkeypatch.setitem(pretrain2d.DEFAULT_RECIPES, "pointnet2_ssg", "teaching")  # the arch's recipe changed
    assert pretrain2d.pretrain_source("pointnet2_ssg.fractaldb_points", minutes=0.05, progress=False, epochs=1) == path
    assert "trained with the teaching-points recipe" in capsys.readouterr().out
    assert torch.load(path, weights_only=True)["recipe"] == "teaching"
    with pytest.raises(ValueError, match="not one of i2p's on-demand sources"):
        pretrain2d.pretrain_source("resnet50.tinyimagenet", minutes=1)


def test_tiny_imagenet_at_paper_scale_says_what_is_missing(tmp_path):
    from i2p.pretrain2d import image_dataset
    from i2p.weights import WeightsUnavailable, find_weights

    with pytest.raises(FileNotFoundError, match="train/ folder of Tiny-ImageNet.*no such folder"):
        image_dataset("imagefolder", root=str(tmp_path / "tiny-imagenet-200" / "train"))
    try:
        find_weights("pointnet2_ssg.tinyimagenet")
    except WeightsUnavailable as e:
        assert "--arch pointnet2_ssg --size 64 --recipe paper-points" in str(e)
