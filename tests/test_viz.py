"""The notebooks' figure helpers: learned T, BN shift, curves (3D scenes: test_viz_scenes.py)."""
from __future__ import annotations

import copy

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from i2p.experiments.paper import paper_cell
from i2p.inflate import FilterTransform, attach_filter_transform, filter_transform
from i2p.sparse.nn import Conv3d
from i2p.study.session import Row
from i2p.viz import bn, curves, transforms


def _convs(n: int = 3) -> nn.Sequential:
    return nn.Sequential(*[Conv3d(4, 4, kernel_size=3) for _ in range(n)])


def _w2d() -> torch.Tensor:
    return torch.randn(4, 4, 3, 3)


def test_learned_transforms_names_shared_and_nonshared():
    shared, model = FilterTransform(3), _convs()
    for conv in model:
        attach_filter_transform(conv, _w2d(), shared)
    assert list(transforms.learned_transforms(model)) == ["shared 3x3 (3 convs)"]
    own = _convs(2)
    for conv in own:
        attach_filter_transform(conv, _w2d(), FilterTransform(3))
    assert list(transforms.learned_transforms(own)) == ["0", "1"]
    with pytest.raises(ValueError, match="no learnable filter transformation"):
        transforms.learned_transforms(_convs(1))
    with pytest.raises(ValueError, match="5x5"):
        transforms.learned_transforms(own, k=5)


def test_transform_distances_find_the_handcrafted_start():
    start, moved = FilterTransform(3, init="T3"), FilterTransform(3)
    with torch.no_grad():
        moved.T.add_(0.3 * torch.randn_like(moved.T))
    d = transforms.transform_distances({"a": start, "b": moved}).set_index("layer")
    assert d.loc["a", "T3"] == 0 and d.loc["a", "closest"] == "T3" and d.loc["a", "default"] > 0
    assert d.loc["b", "default"] > 0 and d.loc["b", "closest"] == "default"
    fig = transforms.transform_heatmaps({"a": start, "b": moved})
    assert len([ax for ax in fig.axes if ax.images]) == 4 + 2  # 4 handcrafted + 2 learned
    plt.close(fig)


def test_kernel_figure_slices_are_the_inflated_filter():
    w = torch.arange(9.0).reshape(3, 3)
    fig = transforms.kernel_figure(w, {"default": filter_transform("default", 3, axis="z")})
    assert [ax.name for ax in fig.axes].count("3d") == 1  # the cube view
    slices = [ax.images[0].get_array() for ax in fig.axes[1:4]]
    for x, img in enumerate(slices):  # copy along z: slice x holds row x of the 2D filter in every column
        assert torch.allclose(torch.as_tensor(img.data), w[x].unsqueeze(1).expand(3, 3))
    plt.close(fig)
    with pytest.raises(ValueError, match="one \\[K, K\\] filter"):
        transforms.kernel_figure(torch.zeros(2, 3, 3), {})


def test_bn_shift_measures_what_moved():
    before = nn.Sequential(nn.BatchNorm1d(4), nn.BatchNorm1d(4))
    after = copy.deepcopy(before)
    after[0].running_mean += 2.0  # two old stds (running_var is 1)
    after[1].running_var *= 4.0
    with torch.no_grad():
        after[1].weight.mul_(2.0)
    df = bn.bn_shift(before, after)
    assert df["mean_shift_std"][0] == pytest.approx(2.0, rel=1e-4) and df["mean_shift_std"][1] == 0
    assert df["log2_var_ratio"][1] == pytest.approx(2.0, rel=1e-4) and df["log2_var_ratio"][0] == pytest.approx(0, abs=1e-6)
    assert df["affine_change"][0] == 0 and df["affine_change"][1] > 0
    fig = bn.bn_shift_figure({"run": df})
    plt.close(fig)
    with pytest.raises(ValueError, match="share no BatchNorm"):
        bn.bn_shift(before, nn.Sequential(nn.Linear(2, 2)))


class _Rec:
    def __init__(self, metric: float, seed: int) -> None:
        self.metric, self.seed = metric, seed
        self.curves = [{"epoch": e, "train_loss": 1.0 / e, "train_acc": 0.1 * e} for e in (1, 2, 3)]


def _row(label: str, cell: str | None, values: list[float]) -> Row:
    return Row(label, None, paper_cell(cell) if cell else None, records=[_Rec(v, i) for i, v in enumerate(values)])


def test_curve_figures_from_rows():
    rows = [_row("I,O", "t1.io.modelnet40", [0.5, 0.52]), _row("control", None, [0.1])]
    fig = curves.paper_vs_run_figure(rows)
    ax = fig.axes[0]
    assert [round(p.get_height(), 1) for p in ax.patches] == [51.0, 10.0]
    plt.close(fig)
    assert len(curves.curves_frame(rows)) == 9  # 3 seeds x 3 epochs
    plt.close(curves.training_curves_figure(rows))
    fig = curves.metric_vs_figure({"a": [(1, [10, 12]), (10, [20])]}, "x", paper={"a": [(1, 15), (10, 25)]}, logx=True)
    assert len(fig.axes[0].lines) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="no finished rows"):
        curves.paper_vs_run_figure([_row("x", None, [])])
