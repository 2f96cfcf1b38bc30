"""The §5 hypothesis made measurable: exact identities of inflation, where project-then-2D
matches the 3D response (thin, facing, slope <= 45 degrees) and where it does not."""
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from i2p.projection import (AXES, agreement, axis_agreement, axis_agreement_figure, box_shell, hypothesis_reading,
                            imagenet_filters, local_projection_response, orientation_figure, orientation_sweep,
                            projection_response, real_shapes, response_3d, shape_figure, thickness_figure,
                            thickness_sweep, tilted_plate, voxelize_occupancy)
from i2p.weights import WeightsUnavailable


@pytest.fixture(scope="module")
def filters() -> torch.Tensor:
    try:
        return imagenet_filters(4)
    except (WeightsUnavailable, KeyError) as e:
        pytest.skip(f"pretrained 2D weights not installed: {e}")


@pytest.fixture(scope="module")
def shapes() -> list[dict]:
    return real_shapes("modelnet40", per_class=1)[:2]


def _random_case(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(9, 10, 11, generator=g) < 0.3).float(), torch.randn(3, 3, 3, generator=g)


@pytest.mark.parametrize("axis", AXES)
def test_sum_over_copy_axis_is_k_times_2d_response_of_projection(axis):
    occupancy, filters = _random_case(AXES.index(axis))
    summed = response_3d(occupancy, filters, axis).sum(AXES.index(axis) + 1)
    _, y2d = projection_response(occupancy, filters, axis)
    torch.testing.assert_close(summed, 3 * y2d, rtol=0, atol=1e-5)
    # the identity pins the orientation: the transposed 2D filter does not satisfy it
    _, transposed = projection_response(occupancy, filters.transpose(1, 2), axis)
    assert (summed - 3 * transposed).abs().max() > 0.1


@pytest.mark.parametrize("axis", AXES)
def test_3d_response_is_2d_response_of_local_slab_projection(axis):
    occupancy, filters = _random_case(10 + AXES.index(axis))
    torch.testing.assert_close(local_projection_response(occupancy, filters, axis), response_3d(occupancy, filters, axis),
                               rtol=0, atol=1e-10)


@pytest.mark.parametrize("axis", AXES)
def test_exact_fraction_counts_the_voxels_where_both_responses_are_equal(axis):
    g = torch.Generator().manual_seed(20 + AXES.index(axis))
    occupancy, filters = (torch.rand(10, 10, 10, generator=g) < 0.03).float(), torch.randn(3, 3, 3, generator=g)
    a, padded = AXES.index(axis), torch.nn.functional.pad(occupancy, (1,) * 6)
    _, y2d = projection_response(occupancy, filters, axis)
    equal = (response_3d(occupancy, filters, axis) - y2d.unsqueeze(a + 1)).abs().amax(0) < 1e-9
    expected = equal[padded > 0].double().mean().item()
    assert 0.05 < expected < 0.95
    assert agreement(occupancy, filters, axis).exact_fraction == pytest.approx(expected)


def test_thin_plate_facing_the_axis_agrees_exactly_and_edge_on_does_not(filters):
    plate = box_shell(24, 1, "z")
    facing = agreement(plate, filters, "z")
    assert facing.error < 1e-5 and facing.raw_error < 1e-5 and facing.exact_fraction == 1.0
    assert facing.cosine == pytest.approx(1.0, abs=1e-9)
    for other in ("x", "y"):
        edge_on = agreement(plate, filters, other)
        assert edge_on.error > 0.05 and edge_on.exact_fraction < 0.5


def test_voxelized_points_of_a_plate_form_one_layer():
    g = torch.Generator().manual_seed(0)
    corners = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 1.0]])
    points = torch.cat([corners, torch.rand(4000, 3, generator=g)]) * torch.tensor([2.0, 0.0, 1.0])  # y = 0 plate
    occupancy = voxelize_occupancy(points, 16)
    assert occupancy.shape == (16, 16, 16) and set(occupancy.unique().tolist()) == {0.0, 1.0}
    assert (occupancy.sum((0, 2)) > 0).sum() == 1  # one y-layer
    assert (occupancy.sum((0, 1)) > 0).sum() == 8  # aspect ratio kept: z spans half of x
    assert agreement(occupancy, torch.randn(2, 3, 3, generator=g), "y").error < 1e-5


def test_error_appears_once_the_far_face_leaves_the_slab(filters):
    sweep = thickness_sweep(filters, resolution=20, thicknesses=[1, 2, 3, 8]).set_index("thickness")
    assert sweep.loc[[1, 2], "error"].max() < 1e-5  # K//2 + 1 = 2: every slab spans the whole box
    assert sweep.loc[8, "error"] > 0.1 and sweep.loc[8, "error"] > sweep.loc[1, "error"]
    assert sweep.loc[8, "exact_fraction"] < 0.5 and sweep.loc[1, "exact_fraction"] == 1.0
    assert set(sweep.columns) >= {"axis", "error", "cosine", "raw_error", "exact_fraction"}


def test_tilting_the_plate_past_45_degrees_breaks_agreement(filters):
    sweep = orientation_sweep(filters, resolution=20, angles=[0, 30, 45, 60, 90]).set_index("angle")
    assert sweep.loc[[0, 30, 45], "error"].max() < 1e-5  # slope <= 1 voxel per voxel stays in the slab
    assert sweep.loc[60, "error"] > 0.1 and sweep.loc[90, "error"] > sweep.loc[0, "error"] + 0.1
    assert tilted_plate(20, 0, "x").sum((1, 2)).nonzero().numel() == 1  # at 0 the plate faces the axis


def test_axis_agreement_on_real_shapes(filters, shapes):
    table = axis_agreement(shapes, filters, resolution=16)
    assert list(table.columns) == ["dataset", "sample", "class", "axis", "projection", "error", "cosine", "raw_error",
                                   "exact_fraction", "occupied"]
    assert len(table) == 2 * len(AXES) and table["dataset"].eq("modelnet40").all()
    numbers = table[["error", "cosine", "raw_error", "exact_fraction"]].to_numpy()
    assert np.isfinite(numbers).all() and (table["exact_fraction"].between(0, 1)).all()
    assert (table["error"] > 0).all()  # closed surfaces are never thin along any axis
    reading = hypothesis_reading(table)
    best = table.groupby("axis")["error"].median().idxmin()
    assert reading.startswith("On SynthModelNet (2 samples)") and f"copying along {best}" in reading


def test_reading_follows_the_numbers():
    def table(errors: dict[str, list[float]]) -> pd.DataFrame:
        return pd.DataFrame([{"dataset": "modelnet40", "sample": f"s{i}", "axis": a, "error": e, "exact_fraction": 0.5}
                             for a, es in errors.items() for i, e in enumerate(es)])
    clear = hypothesis_reading(table({"x": [0.4, 0.5], "y": [0.1, 0.2], "z": [0.5, 0.4]}))
    assert "copying along y (up)" in clear and "0.15 vs" in clear and "favours copying along y" in clear
    close = hypothesis_reading(table({"x": [0.40, 0.42], "y": [0.41, 0.43], "z": [0.5, 0.6]}))
    assert "copying along x" in close and "no copy axis is clearly favoured" in close


@pytest.mark.parametrize("call, message", [
    (lambda: voxelize_occupancy(np.zeros((0, 3))), "empty"),
    (lambda: voxelize_occupancy(np.array([[0.0, math.nan, 1.0]])), "NaN"),
    (lambda: voxelize_occupancy(np.zeros((5, 2))), r"\[P, 3\]"),
    (lambda: agreement(box_shell(8, 1), torch.randn(1, 3, 3), "w"), "unknown copy axis 'w'"),
    (lambda: agreement(box_shell(8, 1), torch.randn(1, 3, 3), "z", "mean"), "unknown projection"),
    (lambda: agreement(box_shell(8, 1), torch.randn(1, 2, 2), "z"), "odd size"),
    (lambda: agreement(box_shell(8, 1), torch.randn(3, 3), "z"), r"\[N, K, K\]"),
    (lambda: agreement(torch.zeros(8, 8, 8), torch.randn(1, 3, 3), "z"), "occupancy is empty"),
    (lambda: axis_agreement([], torch.randn(1, 3, 3)), "no samples"),
])
def test_bad_input_is_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_figures_build(filters, shapes):
    table = axis_agreement(shapes, filters, resolution=12)
    figures = [shape_figure(voxelize_occupancy(shapes[0]["points"], 16), filters, "y"),
               thickness_figure(thickness_sweep(filters, 12, [1, 4])),
               orientation_figure(orientation_sweep(filters, 12, [0, 90])),
               axis_agreement_figure(table), axis_agreement_figure(table, by="class")]
    try:
        assert all(isinstance(f, plt.Figure) and f.axes for f in figures)
        assert figures[0].axes[0].get_title() == "sum-projection along y"
    finally:
        for f in figures:
            plt.close(f)
