"""The paper's Tables 1-7 as data, one :class:`PaperCell` per printed number.

Why data and not prose: presets, notebooks and result checks must all compare against
the same numbers, so they are transcribed once (``paper_tables.csv``, shipped with the
package) and looked up by id, e.g. ``paper_cell("t1.io.modelnet40")``. Each cell also
carries its stability-table numbers (Appendix 6.5, Tables 8-14: mean ± std over trials)
and the experiment that produced it, in i2p's names (data set, model, 2D source, finetune
scope, head, filter transform), so a cell can be turned into a run.

The paper's main-table value is "one moderate value of the trials", not their mean; compare
a reproduction with ``stab_mean``/``stab_std`` where you can.
"""
from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources

__all__ = ["PaperCell", "PAPER_TABLES", "paper_cells", "paper_cell", "stability_table"]

#: table number -> the gist of its caption
PAPER_TABLES: dict[int, str] = {
    1: "ResNet-18 (ImageNet-1K) -> ModelNet40 / S3DIS / SemanticKITTI per finetune scope, linear I/O baselines, prior art",
    2: "point-based PointNet++ (Tiny-ImageNet) -> ModelNet40, projection-based HRNetV2-W48 (Cityscapes) -> SemanticKITTI",
    3: "data efficiency: ResNet-50 (ImageNet-1K), whole network vs scratch on 1/5/10/100% of ModelNet40",
    4: "image data scale and type: ResNet-50 from Tiny-ImageNet, ImageNet-1K/21K, FractalDB-1k/10k -> ModelNet40",
    5: "image task: ResNet-18 from Cityscapes / ADE20K segmentation vs ImageNet-1K -> SemanticKITTI / S3DIS",
    6: "image model size: ResNet-18/50/152 (ImageNet-1K) -> ModelNet40",
    7: "filter transformation: handcrafted T1-T3 vs learned shared/non-shared T (default or random init), ResNet-18 -> ModelNet40",
}
_STABILITY_OFFSET = 7  # Appendix 6.5: Table 8 <-> Table 1, ..., Table 14 <-> Table 7


@dataclass(frozen=True)
class PaperCell:
    """One number of the paper, with its stability statistics and its experiment.

    ``id`` is ``t<table>.<row>.<column>``; ``row``/``column`` are the printed labels.
    Experiment fields (``dataset`` ... ``fraction``) are None for prior-art reference
    cells (``reference``): those numbers come from other papers, there is nothing to run.
    ``source`` is None for from-scratch cells; ``fraction`` is set in Table 3 only.
    """

    id: str
    table: int
    row: str
    column: str
    metric: str  # "top1" | "miou"
    unit: str
    value: float
    stab_mean: float | None
    stab_std: float | None
    trials: int | None
    reference: bool
    dataset: str | None
    model: str | None
    source: str | None
    scope: str | None
    head: str | None
    transform: str | None
    learnable: str | None
    t_init: str | None
    fraction: float | None
    note: str | None


_INTS = {"table", "trials"}
_FLOATS = {"value", "stab_mean", "stab_std", "fraction"}


def _parse(raw: dict[str, str]) -> PaperCell:
    """A CSV row with its types: empty -> None, numbers as int/float, reference as bool."""
    out: dict[str, object] = {}
    for key, text in raw.items():
        if key == "reference":
            out[key] = text == "1"
        elif text == "":
            out[key] = None
        elif key in _INTS:
            out[key] = int(text)
        elif key in _FLOATS:
            out[key] = float(text)
        else:
            out[key] = text
    return PaperCell(**out)  # type: ignore[arg-type]


@functools.cache
def _cells() -> tuple[PaperCell, ...]:
    """Read the shipped CSV once (package data, so it works from an installed wheel)."""
    text = resources.files(__package__).joinpath("paper_tables.csv").read_text(encoding="utf-8")
    return tuple(_parse(r) for r in csv.DictReader(text.splitlines()))


def _check_table(table: int) -> None:
    if table not in PAPER_TABLES:
        hint = ""
        if table - _STABILITY_OFFSET in PAPER_TABLES:
            hint = f"; Table {table} is the stability table of Table {table - _STABILITY_OFFSET}: see its stab_* fields"
        raise ValueError(f"no cells for table {table}{hint}; tables: {sorted(PAPER_TABLES)}")


def paper_cells(table: int | None = None) -> list[PaperCell]:
    """All cells (or one table's), in the paper's reading order (row by row)."""
    if table is None:
        return list(_cells())
    _check_table(table)
    return [c for c in _cells() if c.table == table]


def paper_cell(id: str) -> PaperCell:
    """The cell ``id``; an unknown id lists the ids of its table (or every table's prefix)."""
    for c in _cells():
        if c.id == id:
            return c
    head = id.split(".", 1)[0]
    same_table = [c.id for c in _cells() if c.id.startswith(head + ".")]
    if same_table:
        raise ValueError(f"unknown paper cell {id!r}; table {head[1:]} has: {', '.join(same_table)}")
    prefixes = ", ".join(f"t{t}.*" for t in PAPER_TABLES)
    raise ValueError(f"unknown paper cell {id!r}; ids look like t<table>.<row>.<column>, tables: {prefixes}")


def stability_table(table: int) -> int | None:
    """The Appendix 6.5 table with mean ± std for ``table`` (1 -> 8, ..., 7 -> 14); None
    for a stability table itself (8-14)."""
    if table - _STABILITY_OFFSET in PAPER_TABLES:
        return None
    _check_table(table)
    return table + _STABILITY_OFFSET
