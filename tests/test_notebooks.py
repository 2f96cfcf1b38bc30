"""Every notebook: well-formed (parameters cell, no stored outputs, short cells) and
executed top to bottom at the smoke profile, writing its figures and its part of the report."""
from __future__ import annotations

import nbformat
import pytest

from helpers_study import BOOKS, SMOKE_HALVES, check_smoke_study

PARAMETERS = {"profile", "device", "precision", "seeds", "store", "figures", "real_data", "interactive"}


def test_the_study_has_its_notebooks():
    stems = [b.stem.split("_", 1)[0] for b in BOOKS]
    assert stems == [f"{i:02d}" for i in range(10)]  # 00 quickstart, 01-08 the questions, 09 the hypothesis


@pytest.mark.parametrize("book", BOOKS, ids=lambda b: b.stem)
def test_notebook_is_well_formed(book):
    nb = nbformat.read(book, as_version=4)
    nbformat.validate(nb)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged `parameters` (papermill injects the profile after it)"
    names = {line.split("=")[0].strip() for line in tagged[0].source.splitlines() if "=" in line}
    assert names == PARAMETERS
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    for c in nb.cells:
        if c.cell_type == "code":
            assert not c.outputs and c.execution_count is None, "commit notebooks without outputs"
            assert len(c.source.splitlines()) <= 16, f"a cell past ~15 lines belongs in the package:\n{c.source}"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "Study(" in code and ".reading(" in code  # runs through the study layer, reads from numbers


def test_the_smoke_halves_cover_every_notebook():
    assert [n for half in SMOKE_HALVES for n in half] == [b.stem[:2] for b in BOOKS]


@pytest.mark.slow
def test_notebooks_00_to_04_run_at_smoke_and_report(tmp_path):
    check_smoke_study(tmp_path, SMOKE_HALVES[0])  # 05-09: test_notebooks_late.py


@pytest.mark.slow
def test_quickstart_runs_interactively(tmp_path):
    """As in JupyterLab (interactive=True): the widget picker is built and displayed, and
    headless execution does not hang on it."""
    import papermill

    book = BOOKS[0]
    out = tmp_path / "00.ipynb"
    papermill.execute_notebook(str(book), str(out), cwd=str(book.parent), progress_bar=False, execution_timeout=600,
                               parameters={"profile": "smoke", "interactive": True, "store": str(tmp_path / "runs"),
                                           "figures": str(tmp_path / "figures")})
    last = [c for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"][-1]
    assert "prediction_explorer" in last.source
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in last.outputs)
