"""The quickstart end to end (tiny budget): real ImageNet weights in, summary out."""
import json

from i2p.quickstart import run_quickstart


def test_quickstart_runs_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("I2P_DATA", str(tmp_path / "data"))
    s = run_quickstart(minutes=0.01, out_dir=tmp_path / "run", progress=False)
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["test_top1"] == s["test_top1"] and 0 <= s["test_top1"] <= 1
    assert s["weights"] in ("resnet18.imagenet1k", "efficientnet_lite0.imagenet1k")  # real ImageNet weights
    assert s["epochs_run"] == 1 and s["chance"] == 0.1
    assert s["train_loss_first"] > 0 and (tmp_path / "run" / "ckpt" / "last.pt").is_file()
    # what decided the model is recorded: the data set's up axis, resolved and spelled out
    assert saved["setup"]["copy_axis"] == "up" and saved["setup"]["axis"] == "y"
    assert saved["setup"]["scope"] == "io_bn" and "top-down" in saved["setup"]["axis_meaning"]
    assert saved["data"] == {"dataset": "modelnet40", "profile": "teaching", "classes": saved["data"]["classes"]}
    assert len(saved["data"]["classes"]) == 10


def test_quickstart_from_scratch_takes_no_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("I2P_DATA", str(tmp_path / "data"))
    s = run_quickstart(minutes=0.01, scope="scratch", out_dir=tmp_path / "run", progress=False)
    assert s["setup"]["source"] == "none (from scratch)" and s["setup"]["scope"] == "scratch"
