"""FractalDB generation and i2p's own 2D pretraining (paper §4.5)."""
import numpy as np
import pytest
import torch

from i2p.fractaldb import IFS, fill_rate, load_fractaldb, make_fractaldb
from i2p.models import create_model
from i2p import pretrain2d
from i2p.pretrain2d import RECIPES_2D, image_dataset, pretrain_2d, pretrain_and_save




@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory):
    root = tmp_path_factory.mktemp("fdb")
    return make_fractaldb(categories=6, instances=30, size=32, seed=3, root=root, progress=False)


def test_deterministic_and_seeded(tiny_db, tmp_path):
    again = make_fractaldb(6, 30, 32, seed=3, root=tmp_path, progress=False)
    assert np.array_equal(np.load(again / "images.npy"), np.load(tiny_db / "images.npy"))
    other = make_fractaldb(6, 30, 32, seed=4, root=tmp_path, progress=False)
    assert not np.array_equal(np.load(other / "images.npy"), np.load(tiny_db / "images.npy"))


def test_categories_pass_the_fill_rate_rule(tiny_db):
    cats = np.load(tiny_db / "categories.npz")
    rng = np.random.default_rng(0)
    for i in range(6):
        assert fill_rate(IFS(cats[f"A{i}"], cats[f"b{i}"]), rng) >= 0.2


def test_rejects_degenerate_systems():
    collapsing = IFS(np.full((2, 2, 2), 0.01), np.zeros((2, 2)))  # everything shrinks to a point
    assert fill_rate(collapsing, np.random.default_rng(0)) < 0.2


def test_images_and_labels(tiny_db):
    x, y = load_fractaldb(tiny_db)
    assert x.shape == (180, 3, 32, 32) and y.shape == (180,)
    assert 0 <= float(x.min()) and float(x.max()) <= 1 and float(x.mean()) > 0.01
    assert torch.equal(torch.bincount(y), torch.full((6,), 30))
    # instances of one category look alike more than instances of different categories
    flat = x[:, 0].flatten(1)
    within = torch.stack([flat[y == c].std(0).mean() for c in range(6)]).mean()
    assert within < flat.std(0).mean()


def test_corrupt_folder_raises(tmp_path):
    (tmp_path / "images.npy").write_bytes(b"junk")
    with pytest.raises(ValueError, match="corrupt"):
        load_fractaldb(tmp_path)


def test_pretraining_beats_chance_and_resumes(tiny_db, tmp_path):
    x, y = load_fractaldb(tiny_db)
    ckpt = tmp_path / "resume.pt"
    sd, acc = pretrain_2d(x, y, 6, epochs=8, lr=0.02, batch_size=16, checkpoint=ckpt, progress=False)
    assert acc > 0.5, f"held-out top-1 {acc} (chance 1/6)"
    assert torch.load(ckpt, weights_only=False)["epoch"] == 8
    # all epochs done: resuming trains nothing more and gives the same weights
    sd2, acc2 = pretrain_2d(x, y, 6, epochs=8, lr=0.02, batch_size=16, checkpoint=ckpt, progress=False)
    assert acc2 == acc and all(torch.equal(sd[k], sd2[k]) for k in sd)


def test_saved_checkpoint_inflates(tmp_path):
    path, acc = pretrain_and_save("shapes2d", "resnet18", tmp_path / "r18.pth", progress=False,
                                  num_images=120, epochs=1)
    assert path.is_file() and 0 <= acc <= 1
    model = create_model("resnet18", 5, pretrained=path)
    assert model.load_report.convs == 19
    assert not (tmp_path / "r18.resume.pt").exists()


def test_imagefolder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="--root"):
        image_dataset("imagefolder", root=str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="unknown 2D dataset"):
        image_dataset("cifar")


def test_paper_recipe_is_the_imagenet_example():
    """App. 6.1: the Tiny-ImageNet ResNet-50 was trained with PyTorch's ImageNet example."""
    r = RECIPES_2D["paper"]
    assert (r.lr, r.momentum, r.weight_decay, r.batch_size, r.epochs, r.augment) == (0.1, 0.9, 1e-4, 256, 90, True)
    lrs = [r.lr_at(r.lr, r.epochs, e, 5, 10) for e in (0, 29, 30, 59, 60, 89)]
    assert lrs == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    t = RECIPES_2D["teaching"]
    assert not t.augment and t.lr_at(t.lr, 10, 0, 0, 5) == t.lr and t.lr_at(t.lr, 10, 5, 0, 5) == pytest.approx(t.lr / 2)


def test_paper_recipe_trains_with_crop_and_flip(monkeypatch):
    x, y = pretrain2d.render_shapes2d(48, size=16, seed=0)
    calls = []
    real = pretrain2d._augment
    monkeypatch.setattr(pretrain2d, "_augment", lambda xb: calls.append(xb.shape) or real(xb))
    sd, acc = pretrain_2d(x, y, 6, epochs=1, batch_size=16, recipe="paper", progress=False)
    assert calls and all(c[1:] == (3, 16, 16) for c in calls) and 0 <= acc <= 1
    torch.manual_seed(0)
    out = real(x[:4])
    assert out.shape == x[:4].shape and not torch.equal(out, x[:4])


@pytest.mark.parametrize("kw, match", [({"recipe": "fast"}, "unknown 2D recipe 'fast'; choose one of teaching, paper"),
                                       ({"epochs": 0}, "epochs >= 1"), ({"lr": float("nan")}, "finite lr")])
def test_bad_2d_settings(kw, match):
    x, y = pretrain2d.render_shapes2d(12, size=8, seed=0)
    with pytest.raises(ValueError, match=match):
        pretrain_2d(x, y, 6, progress=False, **kw)
