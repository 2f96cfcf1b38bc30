"""Inflation figures: the 3D slices shown are really the inflated 2D filters."""
import numpy as np
import pytest

from i2p.cli import main
from i2p.figures import filters_figure, first_transferred_filters, transforms_figure


@pytest.mark.parametrize("transform, same_as_2d", [("default", True), ("T1", False)])
def test_filter_slices_match_inflation(transform, same_as_2d):
    fig = filters_figure(["efficientnet_lite0.imagenet1k"], count=2, transform=transform)
    axes = np.array(fig.axes).reshape(1, -1)
    two_d = axes[0, 0].images[0].get_array()
    slices = [axes[0, 1 + z].images[0].get_array() for z in range(3)]
    assert np.allclose(two_d, first_transferred_filters("efficientnet_lite0.imagenet1k", 2)[0].numpy())
    # default copies along z: every z-slice is the 2D filter; T1 copies along x: it is not
    assert all(np.allclose(s, two_d) for s in slices) is same_as_2d


def test_transforms_figure_shows_each_T():
    fig = transforms_figure()
    assert [a.get_title() for a in fig.axes] == ["default", "T1", "T2", "T3"]
    assert all(a.images[0].get_array().shape == (9, 27) for a in fig.axes)


def test_figures_command(tmp_path):
    assert main(["figures", "--out-dir", str(tmp_path), "--dpi", "30"]) == 0
    for name in ("inflated_filters", "first_layer_filters", "filter_transforms"):
        assert (tmp_path / f"{name}.png").is_file()


def test_first_layer_views_show_the_inflation():
    from i2p.figures import first_layer_figure

    fig = first_layer_figure(["efficientnet_lite0.imagenet1k"], count=2)
    two_d, top, side = (ax.images[0].get_array() for ax in fig.axes[:3])
    assert two_d.shape == (3, 3, 3)  # K x K x RGB
    assert np.allclose(top, two_d)  # default T copies along z: the top view is the filter
    assert np.allclose(side, side[:, :1])  # ... and the side view is constant along z
    assert not np.allclose(side, side[:1])
