"""The paper's numbers beside this machine's runs, cell by cell."""
from __future__ import annotations

from typing import Sequence

from .paper import paper_cell, paper_cells
from .runs import run_row

__all__ = ["compare"]


def compare(runs, cells: Sequence[str] | None = None, table: int | None = None):
    """One row per paper cell, scale and experiment (the seeds of one config) that has
    runs: the paper's value and its stability mean ± std (Appendix 6.5), the runs' mean ±
    std over seeds (percent) and their count; ``options`` tells stand-in variants apart.

    ``runs``: a :func:`~i2p.experiments.runs.load_runs` DataFrame or a list of
    :class:`Record`. ``cells``/``table`` restrict the rows. The scale is ``paper`` for runs
    on real data, else ``teaching`` (embedded data, often other 2D sources: compare the
    ordering of rows, not the numbers)."""
    import pandas as pd

    df = pd.DataFrame([run_row(r) for r in runs]) if not isinstance(runs, pd.DataFrame) else runs
    if df.empty or df["cell"].isna().all():
        return pd.DataFrame()
    df = df[df["cell"].notna()].assign(scale=lambda x: x["profile"].map(lambda p: "paper" if p == "real" else "teaching"))
    wanted = set(cells) if cells is not None else None
    rows = []
    for (cell_id, scale, config_key), g in df.groupby(["cell", "scale", "config_key"], sort=False):
        cell = paper_cell(cell_id)
        if (wanted is not None and cell_id not in wanted) or (table is not None and cell.table != table):
            continue
        vals = 100 * g["metric"].astype(float)
        rows.append({"table": cell.table, "cell": cell_id, "row": cell.row, "column": cell.column, "scale": scale,
                     "paper": cell.value, "paper_mean": cell.stab_mean, "paper_std": cell.stab_std,
                     "run_mean": round(vals.mean(), 2), "run_std": round(vals.std(), 2) if len(vals) > 1 else None,
                     "n": len(vals), "model": g["model"].iloc[0], "source": g["source"].fillna("-").iloc[0],
                     "config_key": config_key, "options": g["options"].iloc[0]})
    order = {c.id: i for i, c in enumerate(paper_cells())}
    out = pd.DataFrame(rows)
    return out.sort_values("cell", key=lambda s: s.map(order)).reset_index(drop=True) if not out.empty else out
