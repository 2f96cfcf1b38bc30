"""Trainer (fit / evaluate / checkpoints) and metrics."""
from __future__ import annotations

import math
import os
from dataclasses import replace

import pytest
import torch
from torch import nn

from helpers_models import (  # noqa: F401
    NUM_CLASSES, make_batch, seg_dataset, tiny_dataset, tv_state_dict,
)
from i2p import train as train_mod
from i2p.data import PrimitiveShapes
from i2p.finetune import apply_scope
from i2p.metrics import confusion_matrix, summarize_confusion
from i2p.models import create_model
from i2p.data.collate import collate_clouds
from i2p.inputs import voxel_loss
from i2p.train import TrainConfig, evaluate, fit, save_atomic

CFG = TrainConfig(epochs=2, batch_size=4, voxel_size=0.1, lr=0.01, progress=False, device="cpu", seed=5)


def new_model(task: str = "cls", scope: str = "whole", num_classes: int = NUM_CLASSES, seed: int = 11) -> nn.Module:
    torch.manual_seed(seed)
    kw = {"learnable": "nonshared"} if scope == "learn_t" else {}
    model = create_model("resnet18", num_classes, task, pretrained=tv_state_dict(), **kw)
    return apply_scope(model, scope)


def same_state(a: nn.Module, b: nn.Module) -> list[str]:
    """Names of state-dict entries that differ (empty = identical)."""
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    return [k for k in sa if not torch.equal(sa[k], sb[k])]


@pytest.fixture(scope="module")
def train_set() -> PrimitiveShapes:
    return tiny_dataset(num_per_class=2, num_points=256)  # 12 shapes -> 3 steps of 4


# -- fit ------------------------------------------------------------------------------------


def test_fit_two_epochs_returns_finite_history(train_set):
    model = new_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    hist = fit(model, train_set, CFG, val_set=train_set)
    assert [r["epoch"] for r in hist.epochs] == [1, 2]
    for r in hist.epochs:
        assert math.isfinite(r["train_loss"]) and r["train_loss"] > 0
        assert 0 <= r["train_acc"] <= 1
        assert math.isfinite(r["val_loss"]) and 0 <= r["val_top1"] <= 1 and 0 <= r["val_miou"] <= 1
    assert hist.last is hist.epochs[-1]
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert model.training, "fit leaves the model in train mode (evaluate restores it)"


def test_fit_is_deterministic(train_set):
    runs = []
    for _ in range(2):
        model = new_model()
        runs.append((model, fit(model, train_set, CFG)))
    (m1, h1), (m2, h2) = runs
    assert h1.epochs == h2.epochs
    assert same_state(m1, m2) == []
    # and the seed matters: a different data order gives different numbers
    m3 = new_model()
    h3 = fit(m3, train_set, replace(CFG, seed=6))
    assert h3.epochs != h1.epochs and same_state(m1, m3) != []


@pytest.mark.parametrize("scope", ["whole", "io", "learn_t"])
def test_resume_equals_uninterrupted(train_set, tmp_path, scope):
    """Stop after epoch 1 (time budget spent), call fit again: same numbers as one 2-epoch run."""
    ref_model = new_model(scope=scope)
    ref = fit(ref_model, train_set, CFG)

    cfg = replace(CFG, checkpoint_dir=str(tmp_path), max_minutes=0)
    part = fit(new_model(scope=scope), train_set, cfg)
    assert [r["epoch"] for r in part.epochs] == [1]
    state = torch.load(tmp_path / "last.pt", weights_only=False)
    assert state["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]

    # a fresh process would rebuild the model from a different init: resume overwrites it
    resumed_model = new_model(scope=scope, seed=999)
    resumed = fit(resumed_model, train_set, cfg)
    assert [r["epoch"] for r in resumed.epochs] == [1, 2]
    assert resumed.epochs == ref.epochs
    assert same_state(resumed_model, ref_model) == []
    assert torch.load(tmp_path / "last.pt", weights_only=False)["epoch"] == 2
    assert resumed.seconds > part.seconds > 0  # training time adds up over the sessions

    # a finished run resumes to "nothing left to do"
    again_model = new_model(scope=scope, seed=998)
    again = fit(again_model, train_set, cfg)
    assert again.epochs == ref.epochs and same_state(again_model, ref_model) == []
    assert again.seconds == resumed.seconds


def test_resume_refuses_other_task(train_set, tmp_path):
    fit(new_model(), train_set, replace(CFG, epochs=1, checkpoint_dir=str(tmp_path)))
    seg = new_model("seg", num_classes=2)
    with pytest.raises(ValueError, match="another configuration \\(model: 'SparseResNetCls' -> 'SparseResNetSeg'; task: 'cls' -> 'seg'"):
        fit(seg, seg_dataset(), replace(CFG, task="seg", checkpoint_dir=str(tmp_path)))


@pytest.mark.parametrize("change", [{"lr": 0.5}, {"batch_size": 2}, {"seed": 6}, {"voxel_size": 0.2}])
def test_resume_refuses_another_configuration_naming_the_keys(train_set, tmp_path, change):
    fit(new_model(), train_set, replace(CFG, epochs=1, checkpoint_dir=str(tmp_path)))
    key, value = next(iter(change.items()))
    with pytest.raises(ValueError, match=f"another configuration \\({key}: {getattr(CFG, key)!r} -> {value!r}\\).*"
                                         "resume=False"):
        fit(new_model(), train_set, replace(CFG, epochs=2, checkpoint_dir=str(tmp_path), **change))
    fit(new_model(), train_set, replace(CFG, epochs=2, checkpoint_dir=str(tmp_path), progress=True))  # how, not what


def test_resume_says_which_checkpoint_is_damaged_and_cleans_dead_temps(train_set, tmp_path):
    cfg = replace(CFG, epochs=1, checkpoint_dir=str(tmp_path))
    fit(new_model(), train_set, cfg)
    dead = tmp_path / ".last.pt.tmp999999999"  # a save killed mid-write
    dead.write_bytes(b"half")
    alive = tmp_path / f".last.pt.tmp{os.getpid()}"
    alive.write_bytes(b"in progress")
    (tmp_path / "last.pt").write_bytes((tmp_path / "last.pt").read_bytes()[:100])
    with pytest.raises(ValueError, match=f"cannot resume from {tmp_path / 'last.pt'}: the checkpoint is damaged"):
        fit(new_model(), train_set, cfg)
    assert not dead.exists() and alive.exists()


def test_resume_false_starts_over(train_set, tmp_path):
    cfg = replace(CFG, epochs=1, checkpoint_dir=str(tmp_path))
    fit(new_model(), train_set, cfg)
    hist = fit(new_model(), train_set, replace(cfg, resume=False))
    assert [r["epoch"] for r in hist.epochs] == [1]


def test_fit_without_trainable_parameters_raises(train_set):
    model = new_model()
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        fit(model, train_set, CFG)


# -- save_atomic ----------------------------------------------------------------------------


def test_save_atomic_roundtrip_leaves_no_temp_files(tmp_path):
    path = tmp_path / "sub" / "last.pt"
    save_atomic({"a": torch.arange(3)}, path)
    save_atomic({"a": torch.arange(4)}, path)
    assert torch.equal(torch.load(path)["a"], torch.arange(4))
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]


def test_failing_save_keeps_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    save_atomic({"a": torch.arange(3)}, path)

    def broken_save(obj, f, *args, **kwargs):
        with open(f, "wb") as fh:  # half a file, then the crash
            fh.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_atomic({"a": torch.arange(99)}, path)
    monkeypatch.undo()
    assert torch.equal(torch.load(path)["a"], torch.arange(3))
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_failing_checkpoint_during_fit_keeps_previous_epoch(train_set, tmp_path, monkeypatch):
    cfg = replace(CFG, epochs=1, checkpoint_dir=str(tmp_path))
    fit(new_model(), train_set, cfg)
    good = (tmp_path / "last.pt").read_bytes()
    monkeypatch.setattr(torch, "save", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        fit(new_model(), train_set, replace(cfg, epochs=2))
    assert (tmp_path / "last.pt").read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


# -- evaluate -------------------------------------------------------------------------------


def test_evaluate_cls_matches_manual_predictions(train_set):
    model = new_model().train()
    res = evaluate(model, train_set, CFG)
    assert model.training, "evaluate restores the training mode"
    for k in ("top1", "mean_acc", "miou"):
        assert 0.0 <= res[k] <= 1.0, k
    assert math.isfinite(res["loss"])
    # by hand: eval-mode predictions over the whole set in one batch
    model.eval()
    batch = make_batch(n=len(train_set))  # same 12 shapes, other order
    with torch.no_grad():
        pred = model(batch.x).argmax(1)
    assert res["top1"] == pytest.approx(float((pred == batch.labels).float().mean()))
    assert int(res["confusion"].sum()) == len(train_set)


def test_evaluate_seg_miou_in_unit_interval():
    data = seg_dataset()
    model = new_model("seg", num_classes=2)
    res = evaluate(model, data, replace(CFG, task="seg"))
    assert 0.0 <= res["miou"] <= 1.0 and 0.0 <= res["top1"] <= 1.0
    assert int(res["confusion"].sum()) == sum(len(s["label"]) for s in data)


def test_evaluate_seg_loss_is_the_mean_over_labelled_points():
    data = seg_dataset(num_points=200)
    data[0]["label"][:150] = -100  # clouds with very different numbers of labelled points
    model = new_model("seg", num_classes=2).eval()
    cfg = replace(CFG, task="seg", batch_size=2)
    res = evaluate(model, data, cfg)
    losses = []
    with torch.no_grad():
        for s in data:  # cloud by cloud: per-cloud BN statistics do not apply in eval mode
            b = collate_clouds([s], cfg.voxel_size)
            logits = model(b.x).feats[b.point_to_voxel]
            losses.append(torch.nn.functional.cross_entropy(logits, b.labels, ignore_index=-100, reduction="none"))
    expected = torch.cat(losses)[torch.cat([s["label"] for s in data]) != -100].mean()
    assert res["loss"] == pytest.approx(float(expected), rel=1e-4)


# -- segmentation -----------------------------------------------------------------------------


def test_seg_fit_runs_and_updates_decoder():
    data = seg_dataset()
    model = new_model("seg", num_classes=2)
    before = model.output_layer.classifier.weight.detach().clone()
    hist = fit(model, data, replace(CFG, task="seg", epochs=1))
    assert math.isfinite(hist.last["train_loss"])
    assert not torch.equal(before, model.output_layer.classifier.weight)


def test_seg_loss_ignores_ignore_index():
    data = seg_dataset()
    cfg = replace(CFG, task="seg", ignore_index=255)
    batch = make_batch(n=3, seg=True)
    labels = batch.labels.clone()
    labels[::3] = 255
    batch.labels = labels
    model = new_model("seg", num_classes=2).eval()
    with torch.no_grad():
        out = model(batch.x)
    loss, logits = voxel_loss(out, batch, cfg)
    keep = labels != 255
    ref = nn.functional.cross_entropy(logits[keep], labels[keep])
    torch.testing.assert_close(loss, ref)
    # and through fit/evaluate: 255 is out of range for 2 classes unless it is ignored
    ignored = [{"points": s["points"], "label": torch.where(torch.arange(len(s["label"])) % 3 == 0,
                                                            torch.tensor(255), s["label"])} for s in data]
    hist = fit(new_model("seg", num_classes=2), ignored, replace(cfg, epochs=1))
    assert math.isfinite(hist.last["train_loss"])
    res = evaluate(model, ignored, cfg)
    n_valid = sum(int((s["label"] != 255).sum()) for s in ignored)
    assert int(res["confusion"].sum()) == n_valid
    with pytest.raises((IndexError, RuntimeError, ValueError)):
        fit(new_model("seg", num_classes=2), ignored, replace(CFG, task="seg", epochs=1))


def test_train_acc_counts_only_labelled_points():
    """One step over the whole set: train_acc comes from the forward pass before the update,
    and must be over non-ignored points."""
    import copy

    data = [{"points": s["points"], "label": torch.where(torch.arange(len(s["label"])) % 3 == 0,
                                                         torch.tensor(255), s["label"])} for s in seg_dataset()]
    cfg = replace(CFG, task="seg", ignore_index=255, epochs=1, batch_size=len(data),
                  precision="fp32")  # the reference forward below is float32
    model = new_model("seg", num_classes=2)
    ref = copy.deepcopy(model).train()
    (batch,) = list(train_mod._loader(data, cfg, shuffle=True, rank=0, world=1, epoch=0))
    with torch.no_grad():
        pred = ref(batch.x).feats[batch.point_to_voxel].argmax(1)
    valid = batch.labels != 255
    expected = float((pred == batch.labels)[valid].float().mean())
    hist = fit(model, data, cfg)
    assert hist.last["train_acc"] == pytest.approx(expected)


# -- metrics ----------------------------------------------------------------------------------


def test_confusion_matrix_by_hand():
    pred = torch.tensor([0, 0, 1, 1, 2, 2])
    target = torch.tensor([0, 1, 1, 1, 2, 0])
    conf = confusion_matrix(pred, target, 3)
    assert conf.tolist() == [[1, 0, 1], [1, 2, 0], [0, 0, 1]]  # rows = ground truth
    s = summarize_confusion(conf)
    assert s["top1"] == pytest.approx(4 / 6)
    assert s["iou"] == pytest.approx([1 / 3, 2 / 3, 1 / 2])
    assert s["miou"] == pytest.approx(0.5)
    assert s["mean_acc"] == pytest.approx((1 / 2 + 2 / 3 + 1) / 3)
    assert torch.equal(s["confusion"], conf)


def test_confusion_ignore_index_and_absent_classes():
    pred = torch.tensor([0, 0, 1, 1, 2, 2, 3, 0])
    target = torch.tensor([0, 1, 1, 1, 2, 0, -100, -100])
    conf = confusion_matrix(pred, target, 4)
    assert conf.sum() == 6 and conf[3].sum() == 0 and conf[:, 3].sum() == 0
    s = summarize_confusion(conf)
    assert math.isnan(s["iou"][3])  # neither in ground truth nor predicted: not averaged
    assert s["miou"] == pytest.approx(0.5)
    conf255 = confusion_matrix(pred, torch.where(target < 0, 255, target), 4, ignore_index=255)
    assert torch.equal(conf255, conf)


def test_false_positive_class_counts_in_miou_not_in_mean_acc():
    s = summarize_confusion(confusion_matrix(torch.tensor([1, 1, 0]), torch.tensor([0, 0, 0]), 2))
    assert s["iou"] == pytest.approx([1 / 3, 0.0])
    assert s["miou"] == pytest.approx(1 / 6)
    assert s["mean_acc"] == pytest.approx(1 / 3)


@pytest.mark.parametrize("bad", [3, -1, 7])
def test_confusion_label_out_of_range_raises(bad):
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        confusion_matrix(torch.tensor([0, 1]), torch.tensor([0, bad]), 3)


def test_lr_schedules():
    f = train_mod._lr_factor
    cos = replace(CFG, schedule="cosine")
    assert f(cos, 0, 100) == pytest.approx(1.0) and f(cos, 50, 100) == pytest.approx(0.5) and f(cos, 100, 100) == pytest.approx(0.0)
    assert f(replace(CFG, schedule="constant"), 70, 100) == 1.0
    assert f(replace(CFG, schedule="poly"), 100, 100) == pytest.approx(0.0)
    # warm-up counted in optimiser steps (the authors' SemanticKITTI schedule), then cosine
    warm = replace(CFG, schedule="warmup_cosine", warmup_iters=10)
    assert [f(warm, i, 110) for i in (0, 4, 9)] == pytest.approx([0.1, 0.5, 1.0])
    assert f(warm, 10, 110) == pytest.approx(1.0) and f(warm, 60, 110) == pytest.approx(0.5)
    assert f(replace(warm, warmup_iters=0), 0, 110) == pytest.approx(1.0)


@pytest.mark.parametrize("bad, match", [
    ({"schedule": "cosin"}, "unknown schedule 'cosin'; choose one of cosine, poly"),
    ({"lr": float("nan")}, "lr must be a finite number > 0"),
    ({"lr": -0.1}, "lr must be"),
    ({"voxel_size": 0.0}, "voxel_size must be a finite number > 0"),
    ({"epochs": 0}, "epochs must be an int >= 1"),
    ({"seg_loss": "pixel"}, "seg_loss must be one of point, voxel"),
    ({"voxel_size": "0.05"}, "voxel_size must be a finite number"),
    ({"nesterov": True, "momentum": 0.0}, "nesterov needs momentum"),
])
def test_config_rejects_values_that_would_mean_something_else(bad, match):
    with pytest.raises(ValueError, match=match):
        replace(CFG, **bad)


def test_nesterov_reaches_the_optimiser(monkeypatch):
    seen = {}
    real = torch.optim.SGD

    def spy(params, **kw):
        seen.update(kw)
        return real(params, **kw)

    monkeypatch.setattr(torch.optim, "SGD", spy)
    data = PrimitiveShapes(num_per_class=1, num_points=64, seed=0)
    fit(create_model("resnet18", NUM_CLASSES), data, replace(CFG, epochs=1, batch_size=6, nesterov=True, progress=False))
    assert seen["nesterov"] is True and seen["momentum"] == CFG.momentum


def test_voxel_labels_take_each_voxels_first_point():
    # points 0, 2, 3 fall in voxel 1; points 1, 4 in voxel 0; voxel 2 holds point 5
    p2v = torch.tensor([1, 0, 1, 1, 0, 2])
    labels = torch.tensor([7, 3, 5, 5, 4, 9])
    assert train_mod.voxel_labels(labels, p2v, 3).tolist() == [3, 7, 9]


def test_per_voxel_and_per_point_losses_differ_only_by_weighting():
    """Same logits: the per-point loss weighs each voxel by its points, the per-voxel one
    counts each voxel once with its first point's label."""
    from i2p.data.collate import collate_clouds
    from i2p.sparse import SparseTensor

    pts = torch.tensor([[0.01, 0, 0], [0.02, 0, 0], [0.03, 0, 0], [0.5, 0, 0]])
    batch = collate_clouds([{"points": pts, "label": torch.tensor([1, 0, 1, 2])}], voxel_size=0.1)
    logits = torch.randn(batch.x.num_voxels, 3, generator=torch.Generator().manual_seed(0))
    out = SparseTensor(logits, batch.x.coords, batch.x.stride)
    seg = replace(CFG, task="seg")
    lp, _ = voxel_loss(out, batch, seg)
    lv, _ = voxel_loss(out, batch, replace(seg, seg_loss="voxel"))
    ce = torch.nn.functional.cross_entropy
    p2v = batch.point_to_voxel
    assert lp.item() == pytest.approx(ce(logits[p2v], batch.labels).item())
    target = train_mod.voxel_labels(batch.labels, p2v, logits.shape[0])
    assert target.tolist() == [1, 2] or target.tolist() == [2, 1]
    assert lv.item() == pytest.approx(ce(logits, target).item()) and lv.item() != pytest.approx(lp.item())


# -- end to end -------------------------------------------------------------------------------


def test_scratch_resnet18_learns_primitives():
    """From scratch on 6 primitive classes: training accuracy clearly above chance (1/6)."""
    data = PrimitiveShapes(num_per_class=6, num_points=384, seed=1)
    torch.manual_seed(0)
    model = apply_scope(create_model("resnet18", NUM_CLASSES), "scratch")
    cfg = replace(CFG, epochs=6, batch_size=6, lr=0.01, voxel_size=0.1, schedule="cosine")
    hist = fit(model, data, cfg)
    assert hist.epochs[-1]["train_loss"] < hist.epochs[0]["train_loss"]
    res = evaluate(model, data, cfg)
    assert res["top1"] >= 0.5, (res["top1"], hist.epochs)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_build_optimizer_is_fused_on_cpu_and_updates_as_the_loop(optimizer):
    """fit's optimiser runs fused on the CPU (the looped SGD step was the largest cost
    bfloat16 does not shrink) and makes the same updates as torch's per-parameter loop."""
    from i2p.train import build_optimizer

    torch.manual_seed(0)
    params = [torch.randn(7, 5), torch.randn(11), torch.randn(3, 3, 3)]
    cfg = TrainConfig(task="cls", lr=0.05, momentum=0.9, nesterov=optimizer == "sgd", weight_decay=1e-3,
                      optimizer=optimizer)
    fused = [p.clone().requires_grad_() for p in params]
    looped = [p.clone().requires_grad_() for p in params]
    opt = build_optimizer(fused, cfg, torch.device("cpu"))
    assert opt.param_groups[0]["fused"] is True
    ref = (torch.optim.SGD(looped, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3, foreach=False)
           if optimizer == "sgd" else torch.optim.Adam(looped, lr=0.05, weight_decay=1e-3, foreach=False))
    for _ in range(4):
        grads = [torch.randn_like(p) for p in params]
        for group, o in ((fused, opt), (looped, ref)):
            for p, g in zip(group, grads):
                p.grad = g.clone()
            o.step()
    for a, b in zip(fused, looped):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert not torch.equal(fused[0], params[0])  # the parameters moved
