"""Issue #12, training / weights / CLI: bad input is refused before any compute with one
line that says what is wrong and what to do; nothing silently mixes runs or trains on
broken weights; the CLI prints user errors as one line (exit 2), never a traceback."""
from __future__ import annotations

import os
from dataclasses import replace

import pytest
import torch
from helpers_models import tiny_dataset, tv_state_dict

from i2p import weights
from i2p.cli import main
from i2p.finetune import apply_scope, prepare_model
from i2p.models import create_model, load_weights
from i2p.sparse import SparseTensor, voxelize
from i2p.train import TrainConfig, fit, read_checkpoint

CFG = TrainConfig(epochs=1, batch_size=4, voxel_size=0.1, lr=0.01, progress=False, device="cpu", seed=5)
R18_FILE = weights.SOURCES["resnet18.imagenet1k"].filename


@pytest.fixture(scope="module")
def train_set():
    return tiny_dataset(num_per_class=2, num_points=128)


def model(scope: str = "whole", num_classes: int = 6, arch: str = "resnet18"):
    torch.manual_seed(0)
    return apply_scope(create_model(arch, num_classes, "cls", pretrained=tv_state_dict(arch)), scope)


@pytest.fixture
def weights_dir(tmp_path, monkeypatch):
    """An empty first weights folder ($I2P_WEIGHTS_DIR) searched before the real caches."""
    d = tmp_path / "weights"
    d.mkdir()
    monkeypatch.setenv("I2P_WEIGHTS_DIR", str(d))
    return d


# -- 1. resume never mixes two runs -----------------------------------------------------------


def test_resume_refuses_another_scope_with_the_same_trainable_tensors(train_set, tmp_path):
    """io and io_stats train the same tensors; only the BN mode differs -- still another run."""
    cfg = replace(CFG, checkpoint_dir=str(tmp_path))
    fit(model("io"), train_set, cfg)
    with pytest.raises(ValueError, match=r"last.pt was made with another configuration \(frozen_bn_stats: 19 -> 0\); "
                                         r"resuming would mix two runs: .*resume=False \(i2p train --restart\)"):
        fit(model("io_stats"), train_set, replace(cfg, epochs=2))


def test_resume_refuses_another_architecture_naming_checkpoint_and_mismatch(train_set, tmp_path):
    cfg = replace(CFG, checkpoint_dir=str(tmp_path))
    fit(model(), train_set, cfg)
    with pytest.raises(ValueError, match=rf"{tmp_path / 'last.pt'} was made with another configuration "
                                         r"\(trainable parameters: 72 tensors -> 120\)"):
        fit(model(arch="resnet34"), train_set, replace(cfg, epochs=2))
    # same tensors by name, another head: one line naming the first tensor that differs
    with pytest.raises(ValueError, match=r"last.pt holds another model \(output_layer.mlp.3.weight is \(6, 1024\) there, "
                                         r"\(5, 1024\) here \(\+1 more\)\); use another"):
        fit(model(num_classes=5), train_set, replace(cfg, epochs=2))


def test_resume_refuses_another_resolved_precision(train_set, tmp_path, monkeypatch):
    """precision=auto resolves per machine: the same config may mean bf16 here, fp32 there."""
    from i2p import train as train_mod
    from i2p.precision import Precision

    cfg = replace(CFG, checkpoint_dir=str(tmp_path), precision="auto")
    monkeypatch.setattr(train_mod, "resolve_precision", lambda *a: Precision("fp32", "cpu", "test"))
    fit(model(), train_set, cfg)
    monkeypatch.setattr(train_mod, "resolve_precision", lambda *a: Precision("bf16", "cpu", "test"))
    with pytest.raises(ValueError, match=r"another configuration \(resolved_precision: 'fp32' -> 'bf16'\)"):
        fit(model(), train_set, replace(cfg, epochs=2))


def test_resume_false_starts_a_new_run_in_the_same_folder(train_set, tmp_path):
    cfg = replace(CFG, checkpoint_dir=str(tmp_path))
    fit(model(), train_set, cfg)
    hist = fit(model(), train_set, replace(cfg, lr=0.5, resume=False))
    assert [r["epoch"] for r in hist.epochs] == [1]
    assert torch.load(tmp_path / "last.pt", weights_only=False)["config"]["lr"] == 0.5


# -- 5. damaged checkpoints: one line naming the file, nothing deleted ----------------------------


@pytest.mark.parametrize("content, phrase", [
    (None, "the checkpoint is damaged (RuntimeError); delete it, or use another checkpoint_dir"),
    ({"weights": 1}, "it is not a training checkpoint (no model, optimizer and epoch)"),
], ids=["truncated", "foreign"])
def test_read_checkpoint_names_the_file(tmp_path, content, phrase):
    path = tmp_path / "last.pt"
    if content is None:
        torch.save({"model": {"w": torch.zeros(1000)}, "optimizer": {}, "epoch": 1}, path)
        path.write_bytes(path.read_bytes()[:300])
    else:
        torch.save(content, path)
    with pytest.raises(ValueError) as e:
        read_checkpoint(path)
    assert str(e.value).startswith(f"cannot resume from {path}: ") and phrase in str(e.value)
    assert "\n" not in str(e.value) and path.is_file()  # the user's file stays


# -- 6. an unwritable checkpoint folder is found before any compute ------------------------------


def test_unwritable_checkpoint_folder_is_refused_before_training(train_set, tmp_path):
    (tmp_path / "file").write_text("")  # a folder below a file can never be made (even as root)
    epochs = []
    with pytest.raises(ValueError, match=r"checkpoint folder .*file/ckpt cannot be written \(.*\); choose another"):
        fit(model(), train_set, replace(CFG, checkpoint_dir=str(tmp_path / "file" / "ckpt")), on_epoch=epochs.append)
    assert epochs == []


# -- 2. values that would train something else ------------------------------------------------


@pytest.mark.parametrize("bad, message", [
    ({"lr": 0.0}, "lr must be a finite number > 0, got 0.0"),
    ({"lr": float("inf")}, "lr must be a finite number > 0, got inf"),
    ({"momentum": 1.0}, "momentum must be < 1, got 1.0"),
    ({"weight_decay": float("nan")}, "weight_decay must be a finite number >= 0, got nan"),
    ({"max_minutes": float("nan")}, "max_minutes must be a finite number >= 0, got nan"),
    ({"seed": "1"}, "seed must be an int in [0, 2147483647], got '1'"),
    ({"seed": -1}, "seed must be an int in [0, 2147483647], got -1"),
    ({"num_workers": -1}, "num_workers must be an int >= 0, got -1"),
    ({"num_classes": 1}, "num_classes must be an int >= 2 or None, got 1"),
    ({"resume": "no"}, "resume must be True or False, got 'no'"),
    ({"device": "gpu"}, "unknown device 'gpu'; choose auto, cpu, cuda, cuda:N or mps"),
    ({"device": "cuda:x"}, "unknown device 'cuda:x'"),
    ({"schedule": "linear"}, "unknown schedule 'linear'; choose one of cosine, poly, warmup_cosine, constant"),
])
def test_train_config_refuses(bad, message):
    with pytest.raises(ValueError) as e:
        replace(CFG, **bad)
    assert str(e.value) == message or str(e.value).startswith(message)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_device_without_cuda_is_refused_at_construction():
    with pytest.raises(ValueError, match="device cuda:1 asks for CUDA, which is not available here; use device=cpu"):
        replace(CFG, device="cuda:1")


def test_learnable_is_checked_before_any_weights_load():
    with pytest.raises(ValueError, match="learnable must be None, 'shared' or 'nonshared', got 'both'"):
        prepare_model("modelnet40", "resnet18", "/no/such/file.pth", "learn_t", learnable="both")


# -- 3./4. broken 2D weights --------------------------------------------------------------------


def test_nan_weights_are_refused_naming_the_file(tmp_path):
    sd = tv_state_dict()
    sd["layer2.0.conv1.weight"][0, 0, 0, 0] = float("nan")
    path = tmp_path / "nan.pth"
    torch.save({"state_dict": sd}, path)
    with pytest.raises(ValueError, match=rf"{path} holds NaN/inf weights in 1 tensor\(s\), e.g. layer2.0.conv1.weight"):
        weights.read_state_dict(path)
    with pytest.raises(ValueError, match="holds NaN/inf weights"):  # the model path reads through it
        create_model("resnet18", 6, "cls", pretrained=str(path))


def test_corrupt_registered_file_is_flagged_by_info_and_validate(weights_dir, capsys):
    from i2p.experiments import ConfigError, ExperimentConfig

    (weights_dir / R18_FILE).write_bytes(b"PK\x03\x04 not really a zip")
    row = next(r for r in weights.list_sources() if r.name == "resnet18.imagenet1k")
    assert not row.available and row.problem.startswith("unreadable (")
    assert row.where.startswith(f"{weights_dir / R18_FILE} is unreadable") and "curl -L -o" in row.where
    assert main(["info"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "resnet18.imagenet1k" in x)
    assert " bad " in line and "is unreadable" in line
    cfg = ExperimentConfig.from_dict({"model": {"model": "resnet18", "source": "resnet18.imagenet1k"}})
    with pytest.raises(ConfigError, match=rf"model.source resnet18.imagenet1k: {weights_dir / R18_FILE} is unreadable"):
        cfg.validate(check_data=False)


def test_quickstart_falls_back_past_an_unreadable_file(weights_dir, capsys):
    from i2p.quickstart import _source_weights

    (weights_dir / R18_FILE).write_bytes(b"\x00" * 64)
    arch, source, _ = _source_weights(0.01, progress=False)
    assert (arch, source) == ("efficientnet_lite0", "efficientnet_lite0.imagenet1k")
    out = capsys.readouterr().out
    assert f"cannot read 2D checkpoint {weights_dir / R18_FILE}: it is damaged or not a PyTorch file" in out
    assert "delete it and get it again: curl -L -o resnet18-f37072fd.pth" in out


def test_unknown_weights_name_is_a_value_error_without_quotes():
    with pytest.raises(ValueError) as e:
        load_weights("resnet18.imagenet")
    assert isinstance(e.value, KeyError) and str(e.value).startswith("unknown weights 'resnet18.imagenet'; known: ")


# -- 6. sparse tensors and voxel sizes ----------------------------------------------------------


@pytest.mark.parametrize("feats, coords, stride, message", [
    (torch.zeros(2, 1), [[0, 0, 0, 0], [0, 1, 0, 0]], 0, "stride must be an int >= 1 (1 at input resolution), got 0"),
    (torch.zeros(2, 1), [[0, 0, 0, 0], [0, 2, 0, 0]], -2, "stride must be an int >= 1"),
    (torch.zeros(2, 1), [[0, 0, 0, 0], [0, 2, 0, 0]], 1.5, "stride must be an int >= 1 (1 at input resolution), got 1.5"),
    (torch.zeros(2, 1), [[0, 0, 0, 0], [-1, 1, 0, 0]], 1, "coords[:, 0] is the batch index and must be >= 0; row 1 has -1"),
    (torch.zeros(2, 1), [[0, 0, 0, 0], [0, 2, 3, 0]], 2, ("a stride-2 tensor has coordinates that are multiples of 2 "
                                                         "(finest-grid units); row 1 is [0, 2, 3, 0]")),
    (torch.tensor([[0.0], [float("nan")]]), [[0, 0, 0, 0], [0, 1, 0, 0]], 1, "feats contain NaN/inf values (first at row 1)"),
], ids=["stride0", "stride-neg", "stride-float", "neg-batch", "off-grid", "nan-feats"])
def test_sparse_tensor_refuses_values(feats, coords, stride, message):
    with pytest.raises(ValueError) as e:
        SparseTensor(feats, torch.tensor(coords), stride)
    assert str(e.value) == message or str(e.value).startswith(message)


def test_voxel_size_as_a_string_says_so():
    with pytest.raises(TypeError, match=r"voxel_size must be a number, got '0.05' \(str\)"):
        voxelize(torch.rand(5, 3), "0.05")
    with pytest.raises(ValueError, match="voxel_size must be a finite number > 0, got '0.05'"):
        replace(CFG, voxel_size="0.05")


# -- 2./6. 2D pretraining ------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "2D pretraining needs epochs >= 1, got 0"),
    (["--size", "0"], "2D data: size must be an int >= 1, got 0"),
    (["--categories", "1"], "2D data: categories must be an int >= 2, got 1"),
    (["--minutes", "0"], "minutes must be a finite number > 0, got 0.0"),
    (["--lr", "nan"], "2D pretraining needs a finite lr > 0, got nan"),
    (["--device", "tpu"], "unknown device 'tpu'"),
], ids=["epochs0", "size0", "categories1", "minutes0", "lr-nan", "device"])
def test_pretrain2d_cli_refuses_before_any_data(tmp_path, capsys, args, message):
    out = tmp_path / "w.pth"
    assert main(["pretrain2d", "--dataset", "fractaldb", "--out", str(out), "--no-progress", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"[i2p] error: {message}") and err.count("\n") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_pretrain2d_unknown_arch_lists_the_choices(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["pretrain2d", "--dataset", "shapes2d", "--arch", "bogus", "--out", str(tmp_path / "w.pth")])
    assert e.value.code == 2
    assert "invalid choice: 'bogus' (choose from 'resnet18', 'resnet34', 'resnet50'" in capsys.readouterr().err
    from i2p.pretrain2d import pretrain_2d

    with pytest.raises(ValueError, match="unknown 2D arch 'vgg11'; choose one of resnet18, resnet34"):
        pretrain_2d(torch.rand(12, 3, 8, 8), torch.arange(12) % 2, 2, arch="vgg11")


def test_pretrain2d_unwritable_output_is_refused_before_the_data(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert main(["pretrain2d", "--dataset", "fractaldb", "--out", str(tmp_path / "file" / "w.pth"), "--no-progress"]) == 2
    assert "[i2p] error: 2D checkpoint folder " in capsys.readouterr().err


def test_pretrain2d_resume_refuses_other_settings_and_damage(tmp_path):
    from i2p.pretrain2d import pretrain_2d

    x, y, ckpt = torch.rand(24, 3, 8, 8), torch.arange(24) % 2, tmp_path / "r.resume.pt"
    pretrain_2d(x, y, 2, epochs=1, batch_size=8, checkpoint=ckpt, progress=False)
    with pytest.raises(ValueError, match=rf"{ckpt} is an unfinished 2D pretraining with other settings \(lr: 0.02 -> 0.5; "
                                         r"batch_size: 8 -> 4\); resuming would mix two runs: delete it, or pretrain again"):
        pretrain_2d(x, y, 2, epochs=2, lr=0.5, batch_size=4, checkpoint=ckpt, progress=False)
    ckpt.write_bytes(ckpt.read_bytes()[:200])
    with pytest.raises(ValueError, match=rf"cannot resume from {ckpt}: the checkpoint is damaged"):
        pretrain_2d(x, y, 2, epochs=2, batch_size=8, checkpoint=ckpt, progress=False)


# -- 6. figures ----------------------------------------------------------------------------------


def test_figures_refuses_unknown_transform_and_unwritable_folder(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["figures", "--transform", "T7", "--out-dir", str(tmp_path)])
    assert e.value.code == 2 and "invalid choice: 'T7' (choose from 'default', 'T1', 'T2', 'T3')" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main(["figures", "--out-dir", str(tmp_path / "file" / "fig")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"[i2p] error: figure folder {tmp_path / 'file' / 'fig'} cannot be written")


# -- 7. the command line: one line for user errors, --debug for the traceback -----------------


def test_cli_user_error_is_one_line_and_debug_shows_the_traceback(capsys):
    args = ["train", "teaching/t1.io.modelnet40", "recipe.lr=0", "--dry-run"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err == "[i2p] error: recipe: lr must be a finite number > 0, got 0\n"
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        main(["--debug", *args])


def test_cli_interrupt_and_bugs(monkeypatch, capsys):
    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(weights, "list_sources", interrupted)
    assert main(["info"]) == 130 and capsys.readouterr().err == "[i2p] interrupted\n"

    def bug():
        raise RuntimeError("an internal error")

    monkeypatch.setattr(weights, "list_sources", bug)
    with pytest.raises(RuntimeError, match="an internal error"):  # a bug keeps its traceback
        main(["info"])


def test_train_restart_starts_a_run_over_past_a_damaged_checkpoint(tmp_path, capsys):
    from test_experiments import tiny

    from i2p.experiments import run

    cfg = tiny(**{"recipe.epochs": 1})
    folder = tmp_path / f"tiny-{cfg.run_key(0)}"
    (folder / "ckpt").mkdir(parents=True)
    (folder / "ckpt" / "last.pt").write_bytes(b"\x80\x02junk")
    with pytest.raises(ValueError, match=r"cannot resume from .*last.pt: the checkpoint is damaged .*i2p train --restart"):
        run(cfg, store=tmp_path, progress=False)
    (rec,) = run(cfg, store=tmp_path, progress=False, restart=True)
    assert rec.timings["epochs"] == 1 and rec.timings["resumed_from_epoch"] == 0
    assert os.path.samefile(rec.folder, folder)


def test_damaged_shapes2d_cache_is_said_then_rebuilt(tmp_path, monkeypatch, capsys):
    from i2p import pretrain2d

    monkeypatch.setenv("HOME", str(tmp_path))
    cache = weights.weights_dirs()[-2] / "resnet18_shapes2d.pth"
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"half a file")

    def retrain(dataset, arch, **kw):  # stands in for minutes of 2D training
        torch.save({"state_dict": tv_state_dict()}, cache)
        return cache, 0.5

    monkeypatch.setattr(pretrain2d, "pretrain_and_save", retrain)
    sd = pretrain2d.shapes2d_resnet("resnet18", progress=False)
    assert torch.equal(sd["conv1.weight"], tv_state_dict()["conv1.weight"])
    out = capsys.readouterr().out
    assert f"[i2p] cannot read 2D checkpoint {cache}: it is damaged" in out and "training the Shapes2D resnet18 again" in out
