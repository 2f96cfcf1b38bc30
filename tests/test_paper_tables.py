"""The paper's Tables 1-7 (and stability Tables 8-14) as data: counts, ids, values
spot-checked against the paper, and experiment fields that i2p can run."""
from __future__ import annotations

import re
from dataclasses import FrozenInstanceError

import pytest

from i2p.data.registry import get as get_dataset
from i2p.experiments.paper import PAPER_TABLES, PaperCell, paper_cell, paper_cells, stability_table
from i2p.finetune import FinetuneScope
from i2p.inflate import TRANSFORM_NAMES
from i2p.models import family_of, list_models
from i2p.weights import SOURCES

# counted by hand from the paper (a "-" is no cell; a from-scratch value spanning a
# column group is one cell per target data set)
CELLS_PER_TABLE = {
    1: 22 + 17,  # 5 scope rows x 3 + linear I,O 3 + linear net 1 + scratch(linear) 3; prior art 17
    2: 3 * 2,
    3: 2 * 4,
    4: 4 * 5 + 1,  # from scratch: one ResNet-50 value for all five sources
    5: 4 * 4 + 2,  # from scratch: one value per target data set
    6: 5 * 3,
    7: 7,
}
REFERENCE_CELLS = 17  # Table 1's third group
ID_RE = re.compile(r"t[1-7]\.[a-z0-9_]+\.[a-z0-9_]+")


def test_counts_per_table():
    assert {t: len(paper_cells(t)) for t in PAPER_TABLES} == CELLS_PER_TABLE
    assert len(paper_cells()) == sum(CELLS_PER_TABLE.values()) == 114
    refs = [c for c in paper_cells() if c.reference]
    assert len(refs) == REFERENCE_CELLS and {c.table for c in refs} == {1}


def test_ids_unique_and_well_formed():
    ids = [c.id for c in paper_cells()]
    assert len(ids) == len(set(ids))
    for c in paper_cells():
        assert ID_RE.fullmatch(c.id), c.id
        assert c.id.startswith(f"t{c.table}.")
    assert [c.table for c in paper_cells()] == sorted(c.table for c in paper_cells())  # CSV order


@pytest.mark.parametrize(
    "cid, value, stab",
    [
        ("t1.io.modelnet40", 78.69, (79.32, 0.46)),
        ("t1.io_stats.s3dis", 54.86, (54.82, 0.21)),
        ("t1.linear_io.semantickitti", 54.43, (54.31, 0.14)),
        ("t1.linear_net.modelnet40", 8.91, (8.91, 3.46)),
        ("t1.scratch_linear_io.semantickitti", 64.01, (63.75, 0.29)),
        ("t1.pointnet.modelnet40", 89.2, None),
        ("t1.spgraph.semantickitti", 20.00, None),
        ("t2.io_stats.pointnet2_modelnet40", 82.34, (82.14, 0.44)),
        ("t2.whole.hrnet_semantickitti", 49.37, (49.33, 0.11)),
        ("t3.pretrained.1pct", 24.92, (26.77, 5.48)),
        ("t3.scratch.100pct", 88.53, (88.56, 0.18)),
        ("t4.io.imagenet21k", 81.81, (81.37, 0.33)),
        ("t4.io_stats.fractaldb1k", 72.53, (71.85, 0.56)),
        ("t4.scratch.modelnet40", 88.53, (88.56, 0.18)),
        ("t5.io.cityscapes_semantickitti", 58.48, (58.41, 0.11)),
        ("t5.whole.ade20k_s3dis", 56.11, (56.22, 0.24)),
        ("t5.scratch.s3dis", 55.09, (55.05, 0.17)),
        ("t6.io_bn.resnet152", 88.66, (88.74, 0.09)),
        ("t7.io_stats.t3", 82.25, (82.35, 0.29)),
        ("t7.io_stats.nst_ri", 86.35, (86.59, 0.29)),
    ],
)
def test_spot_values(cid, value, stab):
    c = paper_cell(cid)
    assert c.value == pytest.approx(value)
    if stab is None:
        assert c.stab_mean is None and c.stab_std is None and c.trials is None
    else:
        assert (c.stab_mean, c.stab_std) == pytest.approx(stab)


def test_labels_and_marks():
    assert paper_cell("t1.io_stats.s3dis").row == "I, O, μ, σ"
    assert paper_cell("t1.io.modelnet40").column == "ModelNet"
    assert paper_cell("t3.pretrained.1pct").column == "1% train data"
    assert paper_cell("t7.io_stats.st_ri").column == "ST(RI)"
    assert {c.metric for c in paper_cells()} == {"top1", "miou"} and {c.unit for c in paper_cells()} == {"%"}
    assert paper_cell("t1.io.s3dis").metric == "miou"
    daggers = {c.id for c in paper_cells(1) if c.note and "†" in c.note}
    assert daggers == {"t1.pointnet.semantickitti", "t1.pointnet2.s3dis", "t1.pointnet2.semantickitti",
                       "t1.squeezesegv3.semantickitti"}
    tests = {c.id for c in paper_cells(1) if c.note and "(test)" in c.note}
    assert tests == {"t1.spgraph.semantickitti", "t1.tangentconv.semantickitti"}


def test_trials_and_fractions():
    t3 = {c.id: c for c in paper_cells(3)}
    for key, frac, trials in [("1pct", 0.01, 20), ("5pct", 0.05, 15), ("10pct", 0.1, 10), ("100pct", 1.0, 3)]:
        for row in ("pretrained", "scratch"):
            assert (t3[f"t3.{row}.{key}"].fraction, t3[f"t3.{row}.{key}"].trials) == (frac, trials)
    others = [c for c in paper_cells() if c.table != 3]
    assert all(c.fraction is None for c in others)
    assert all(c.trials == 3 for c in others if not c.reference)
    # every non-reference cell has its stability numbers (Tables 8-14 are complete)
    assert all(c.stab_mean is not None for c in paper_cells() if not c.reference)


def test_experiment_fields_are_i2p_names():
    models, sources = set(list_models()), set(SOURCES)
    scopes = {s.value for s in FinetuneScope}
    for c in paper_cells():
        if c.reference:
            assert (c.dataset, c.model, c.source, c.scope, c.head, c.transform, c.learnable, c.t_init) == (None,) * 8
            continue
        assert get_dataset(c.dataset).name == c.dataset, c.id
        assert c.model in models, c.id
        assert c.scope in scopes, c.id
        assert c.head in ("default", "linear"), c.id
        assert c.transform in TRANSFORM_NAMES, c.id
        assert c.t_init in ("default", "random"), c.id
        assert (c.learnable in ("shared", "nonshared")) == (c.scope == "learn_t"), c.id
        if c.scope == "scratch":
            assert c.source is None, c.id
        else:
            assert c.source in sources, c.id
            assert SOURCES[c.source].arch == family_of(c.model).source_arch(c.model), c.id  # the model's weights
        assert (c.metric == "top1") == (get_dataset(c.dataset).task == "cls"), c.id


def test_experiments_match_the_paper_text():
    assert {c.model for c in paper_cells(3)} == {"resnet50"}
    assert {c.scope for c in paper_cells(3)} == {"whole", "scratch"}  # §4.3: whole network finetuned
    assert {c.source for c in paper_cells(4)} - {None} == {
        f"resnet50.{s}" for s in ("tinyimagenet", "imagenet1k", "imagenet21k", "fractaldb1k", "fractaldb10k")}
    assert {c.model for c in paper_cells(6)} == {"resnet18", "resnet50", "resnet152"}
    lin = paper_cell("t1.linear_net.modelnet40")
    assert (lin.model, lin.scope, lin.source) == ("linear_net", "scratch", None)
    assert (paper_cell("t1.linear_io.s3dis").scope, paper_cell("t1.linear_io.s3dis").head) == ("io", "linear")
    assert paper_cell("t1.scratch_linear_io.s3dis").head == "linear"
    t7 = {c.column: (c.scope, c.transform, c.learnable, c.t_init) for c in paper_cells(7)}
    assert t7["T2"] == ("io_stats", "T2", None, "default")
    assert t7["ST"] == ("learn_t", "default", "shared", "default")
    assert t7["NST(RI)"] == ("learn_t", "default", "nonshared", "random")


def test_duplicate_cells_agree():
    """A cell noted "same setup and numbers as X" (e.g. Table 6's ResNet-18 column is Table 1's
    ModelNet column) has X's numbers and experiment."""
    keys = ("value", "stab_mean", "stab_std", "dataset", "model", "source", "scope", "head", "transform")
    n = 0
    for c in paper_cells():
        m = re.search(r"same setup and numbers as (\S+)", c.note or "")
        if m:
            other = paper_cell(m.group(1))
            assert [getattr(c, k) for k in keys] == [getattr(other, k) for k in keys], c.id
            n += 1
    assert n >= 20


def test_stability_means_near_main_values():
    for c in paper_cells():
        if c.stab_mean is not None:
            assert c.stab_std is not None and c.stab_std >= 0
            assert abs(c.stab_mean - c.value) <= max(3 * c.stab_std, 2.0), c.id


def test_unknown_ids_and_tables():
    with pytest.raises(ValueError, match=r"t4\.io\.imagenet1k"):  # lists the ids of table 4
        paper_cell("t4.io.imagenet22k")
    with pytest.raises(ValueError, match=r"t1\.\*.*t7\.\*"):  # lists every table's prefix
        paper_cell("t9.io.modelnet40")
    with pytest.raises(ValueError, match="stability table of Table 1"):
        paper_cells(8)
    assert [stability_table(t) for t in PAPER_TABLES] == list(range(8, 15))
    assert stability_table(10) is None
    with pytest.raises(ValueError):
        stability_table(99)


def test_cells_are_frozen_and_typed():
    c = paper_cell("t3.scratch.1pct")
    assert isinstance(c, PaperCell) and isinstance(c.table, int) and isinstance(c.trials, int)
    assert isinstance(c.reference, bool) and isinstance(c.value, float) and c.note is None
    with pytest.raises(FrozenInstanceError):
        c.value = 0.0  # type: ignore[misc]
    assert paper_cells(1) is not paper_cells(1) and paper_cells(1) == paper_cells(1)  # callers may mutate lists
