"""Model input kinds (voxels / points / range) through the one training loop."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch
from torch import nn

from i2p.inputs import PointInput, RangeInput, VoxelInput, collate_points, model_input, resample_indices
from i2p.range_image import RangeProjection
from i2p.train import TrainConfig, evaluate, fit

from helpers_models import PixelNet, clouds

CFG = TrainConfig(epochs=2, batch_size=3, lr=0.01, progress=False, device="cpu", seed=3, precision="fp32",
                  optimizer="adam", num_classes=3)


class MeanPointNet(nn.Module):
    """A per-point MLP, max-pooled (cls) or per point (seg): the smallest "points" model."""

    input_kind, num_points = "points", 16

    def __init__(self, task: str) -> None:
        super().__init__()
        self.task, self.mlp = task, nn.Sequential(nn.Linear(7, 8), nn.ReLU(), nn.Linear(8, 3))

    def forward(self, xyz: torch.Tensor, feats: torch.Tensor) -> torch.Tensor:
        out = self.mlp(torch.cat([xyz, feats], -1))
        return out.amax(1) if self.task == "cls" else out


def test_resample_is_even_in_eval_and_seeded_in_training():
    assert resample_indices(10, 5, train=False).tolist() == [0, 2, 4, 6, 8]
    assert resample_indices(3, 5, train=False).tolist() == [0, 0, 1, 1, 2]
    torch.manual_seed(0)
    a = resample_indices(10, 6, train=True)
    torch.manual_seed(0)
    assert torch.equal(a, resample_indices(10, 6, train=True)) and len(set(a.tolist())) == 6
    assert sorted(set(resample_indices(4, 9, train=True).tolist())) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="0 points"):
        resample_indices(0, 4, train=True)


def test_point_batches_keep_the_originals_for_segmentation_evaluation():
    samples = clouds("seg", 2)
    b = collate_points(samples, 16, train=False)
    assert b.xyz.shape == (2, 16, 3) and b.feats.shape == (2, 16, 4) and b.labels.shape == (2, 16)
    assert [len(p) for p in b.points] == [20, 21] and torch.equal(b.point_labels[1], samples[1]["label"])
    assert collate_points(samples, 16, train=True).points == []
    with pytest.raises(ValueError, match="sample 0: 3 labels for 20 points"):
        collate_points([{**samples[0], "label": torch.zeros(3)}], 16, train=False)


def test_model_input_dispatches_on_the_declared_kind():
    assert model_input(nn.Linear(1, 1)) == VoxelInput()
    assert model_input(MeanPointNet("cls")) == PointInput(16)
    assert model_input(PixelNet()) == RangeInput(RangeProjection(8, 32))
    bad = nn.Linear(1, 1)
    bad.input_kind = "pixels"
    with pytest.raises(ValueError, match="input_kind 'pixels'; known kinds: voxels, points, range"):
        model_input(bad)


@pytest.mark.parametrize("task", ["cls", "seg"])
def test_points_models_train_and_evaluate_deterministically(task):
    data, cfg = clouds(task), replace(CFG, task=task)
    torch.manual_seed(0)
    hist = fit(MeanPointNet(task), data, cfg, val_set=data)
    torch.manual_seed(0)
    model = MeanPointNet(task)
    again = fit(model, data, cfg)
    assert [e["train_loss"] for e in hist.epochs] == [e["train_loss"] for e in again.epochs]
    assert all(math.isfinite(e["val_loss"]) for e in hist.epochs)
    m = evaluate(model, data, cfg)
    assert torch.equal(m["confusion"], evaluate(model, data, cfg)["confusion"])  # eval resamples deterministically
    counted = int(m["confusion"].sum())  # every sample (cls) / every original point (seg), not the 16 sampled
    assert counted == (len(data) if task == "cls" else sum(len(s["points"]) for s in data))


def test_range_models_are_scored_on_every_point():
    data, cfg = clouds("seg"), replace(CFG, task="seg")
    torch.manual_seed(0)
    model = PixelNet()
    hist = fit(model, data, cfg)
    assert math.isfinite(hist.last["train_loss"]) and 0 <= hist.last["train_acc"] <= 1
    m = evaluate(model, data, cfg)
    assert int(m["confusion"].sum()) == sum(len(s["points"]) for s in data)  # hidden points included
    assert 0 <= m["miou"] <= 1
