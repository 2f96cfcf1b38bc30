"""Finetune scopes (paper §4.1 Table 1, §4.8 Table 7): exactly the intended tensors train.

Each scope test does one real SGD step (lr 0.1, momentum 0.9, weight decay 1e-4, over
``trainable_parameters``) in ``model.train()`` mode and compares every parameter AND
buffer before/after against the set the scope promises to change.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers_models import NUM_CLASSES, changed, make_batch, snapshot, tv_state_dict  # noqa: F401
from i2p.finetune import FinetuneScope, apply_scope, trainable_parameters
from i2p.models import create_model
from i2p.sparse import nn as spnn

IO = {"io"}
STATS = {"bb_bn_stats"}
AFFINE = {"bb_bn_affine"}
CONV = {"bb_conv"}
T = {"bb_T"}

# (scope, learnable) -> categories of state-dict entries that must change (all others must not)
CASES = {
    ("io", None): IO,
    ("io_stats", None): IO | STATS,
    ("io_bn", None): IO | STATS | AFFINE,
    ("whole", None): IO | STATS | AFFINE | CONV,
    ("scratch", None): IO | STATS | AFFINE | CONV,
    ("learn_t", "shared"): IO | STATS | T,
    ("learn_t", "nonshared"): IO | STATS | T,
}


def category(key: str) -> str:
    """Which part of the model a state-dict entry belongs to."""
    part = key.split(".")[0]
    if part in ("input_layer", "output_layer"):
        return "io"
    assert part == "backbone", key
    if ".parametrizations.weight." in key:
        return "bb_T" if key.endswith(".T") else "bb_conv"  # ``original`` is the 2D weight
    leaf = key.rsplit(".", 1)[1]
    if leaf in ("running_mean", "running_var", "num_batches_tracked"):
        return "bb_bn_stats"
    if ".bn" in key or ".downsample.1." in key:
        assert leaf in ("weight", "bias"), key
        return "bb_bn_affine"
    assert leaf == "weight", key
    return "bb_conv"


def build(scope: str, learnable: str | None = None) -> nn.Module:
    torch.manual_seed(3)
    if scope == "scratch":
        model = create_model("resnet18", NUM_CLASSES)
    else:
        kw = {"learnable": learnable} if learnable else {}
        model = create_model("resnet18", NUM_CLASSES, pretrained=tv_state_dict(), **kw)
    return apply_scope(model, scope)


def sgd_step(model: nn.Module, batch) -> float:
    model.train()
    opt = torch.optim.SGD(trainable_parameters(model), lr=0.1, momentum=0.9, weight_decay=1e-4)
    loss = nn.functional.cross_entropy(model(batch.x), batch.labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


@pytest.fixture(scope="module")
def batch():
    return make_batch(n=6)


@pytest.mark.parametrize("scope,learnable", list(CASES), ids=[f"{s}-{l}" if l else s for s, l in CASES])
def test_one_step_changes_exactly_the_scope(scope, learnable, batch):
    model = build(scope, learnable)
    before = snapshot(model)
    cats = {k: category(k) for k in before}
    assert set(cats.values()) >= {"io", "bb_bn_stats", "bb_bn_affine", "bb_conv"}
    if learnable:
        assert "bb_T" in cats.values()
    loss = sgd_step(model, batch)
    assert torch.isfinite(torch.tensor(loss))
    moved = changed(before, snapshot(model))
    expected = {k for k, c in cats.items() if c in CASES[(scope, learnable)]}
    assert sorted(moved - expected) == [], "changed but should not"
    assert sorted(expected - moved) == [], "should change but did not"


@pytest.mark.parametrize("scope,learnable", list(CASES), ids=[f"{s}-{l}" if l else s for s, l in CASES])
def test_trainable_parameters_match_scope(scope, learnable):
    model = build(scope, learnable)
    names = {id(p): n for n, p in model.named_parameters()}
    got = {names[id(p)] for p in trainable_parameters(model)}
    want_cats = {c for c in CASES[(scope, learnable)] if c in ("io", "bb_bn_affine", "bb_conv", "bb_T")}
    want = {n for n, _ in model.named_parameters() if category(n) in want_cats}
    assert got == want
    assert len(trainable_parameters(model)) == len({id(p) for p in trainable_parameters(model)})


def _bn_modes(model: nn.Module) -> tuple[set[bool], set[bool]]:
    bb = {m.training for m in model.backbone.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)}
    io = {m.training for part in (model.input_layer, model.output_layer) for m in part.modules()
          if isinstance(m, nn.modules.batchnorm._BatchNorm)}
    return bb, io


def test_io_backbone_bn_stays_in_eval_mode_across_toggles():
    model = build("io")
    for _ in range(2):
        model.train()
        assert model.training
        assert _bn_modes(model) == ({False}, {True})
        model.eval()
        assert not model.training
        assert _bn_modes(model) == ({False}, {False})
    model.train(True)
    assert _bn_modes(model) == ({False}, {True})
    # also when train() is reached through a parent module
    wrapper = nn.Sequential(model)
    wrapper.train()
    assert _bn_modes(model) == ({False}, {True}), "frozen BN stats lost when trained through a parent"


def test_io_uses_2d_running_statistics(batch):
    """I,O: backbone BN normalises with the 2D statistics, even in model.train()."""
    sd = tv_state_dict()
    model = build("io").train()
    bn = model.backbone.layer1[0].bn1
    assert torch.equal(bn.running_mean, sd["layer1.0.bn1.running_mean"])
    seen = {}
    bn.register_forward_hook(lambda m, i, o: seen.update(inp=i[0].feats.detach().clone(), out=o.feats.detach().clone()))
    model(batch.x)
    x = seen["inp"]
    ref = (x - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
    torch.testing.assert_close(seen["out"], ref)


@pytest.mark.parametrize("scope", ["io_stats", "io_bn", "whole"])
def test_other_scopes_keep_bn_in_train_mode(scope):
    model = build(scope)
    model.train()
    assert _bn_modes(model) == ({True}, {True})
    model.eval()
    assert _bn_modes(model) == ({False}, {False})


def test_reapplying_a_scope_resets_the_previous_one():
    model = build("io")
    assert _bn_modes(model.train()) == ({False}, {True})
    apply_scope(model, "whole")
    assert _bn_modes(model.train()) == ({True}, {True})
    assert all(p.requires_grad for p in model.parameters())
    apply_scope(model, FinetuneScope.IO_STATS)
    assert _bn_modes(model.train()) == ({True}, {True})
    assert not any(p.requires_grad for p in model.backbone.parameters())


def test_apply_scope_keeps_eval_mode():
    torch.manual_seed(3)
    model = create_model("resnet18", NUM_CLASSES, pretrained=tv_state_dict()).eval()
    apply_scope(model, "io")
    assert not model.training and _bn_modes(model) == ({False}, {False})


def test_learn_t_without_learnable_transforms_raises():
    torch.manual_seed(3)
    model = create_model("resnet18", NUM_CLASSES, pretrained=tv_state_dict())
    with pytest.raises(ValueError, match="learnable"):
        apply_scope(model, "learn_t")


def test_unknown_scope_raises():
    torch.manual_seed(3)
    with pytest.raises(ValueError):
        apply_scope(create_model("resnet18", NUM_CLASSES), "everything")


def test_scope_labels_are_table_rows():
    assert [s.value for s in FinetuneScope] == ["io", "io_stats", "io_bn", "whole", "scratch", "learn_t"]
    assert FinetuneScope("io_bn").label == "I, O, μ, σ, W, b"
    assert FinetuneScope.IO == "io"


def test_learn_t_shared_transform_updates_every_conv_consistently(batch):
    """A shared T moves every 3x3 conv's effective 3D weight, with the 2D weights fixed."""
    model = build("learn_t", "shared")
    convs = [m for m in model.backbone.modules() if isinstance(m, spnn.Conv3d) and m.kernel_size == 3]
    before = [c.weight.detach().clone() for c in convs]
    sgd_step(model, batch)
    assert all(not torch.equal(b, c.weight) for b, c in zip(before, convs))


@pytest.mark.parametrize("how", ["torch.save", "deepcopy"])
def test_scoped_model_survives_save_and_copy(how, tmp_path):
    """Whole-model save/load (and deepcopy) keeps the scope's frozen-BN rule."""
    import copy

    model = build("io")
    if how == "torch.save":
        torch.save(model, tmp_path / "model.pt")
        clone = torch.load(tmp_path / "model.pt", weights_only=False)
    else:
        clone = copy.deepcopy(model)
    clone.eval()
    clone.train()
    assert _bn_modes(clone) == ({False}, {True})
    assert _bn_modes(model) == ({False}, {True})  # the copy's train() acts on the copy only
    model.eval()
    assert _bn_modes(clone) == ({False}, {True})
