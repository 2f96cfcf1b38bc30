"""The smoke-profile study check, shared by the two test files that run half the notebooks
each: under ``pytest -n 2 --dist loadfile`` one file is one worker's job, so two halves
let both workers run notebooks instead of one worker running all ten at the suite's tail."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat

from i2p.study import list_notebooks, project_root, run_study

BOOKS = list_notebooks(project_root() / "notebooks")
# Split by measured smoke time (2 cores, unloaded): 00-04 ~175 s, 05-09 ~225 s.
SMOKE_HALVES = ([f"{i:02d}" for i in range(5)], [f"{i:02d}" for i in range(5, 10)])


def check_smoke_study(tmp_path: Path, only: list[str]) -> None:
    """Run the notebooks ``only`` at the smoke profile and check each one's executed copy,
    HTML, report link, readings and figure files."""
    figs, out = tmp_path / "figures", tmp_path / "study"
    results = run_study("smoke", only=only, out=out, store=tmp_path / "runs", figures=figs, progress=False)
    assert [r.notebook[:2] for r in results] == only
    failed = {r.notebook: r.error for r in results if r.status != "ok"}
    assert not failed, failed
    report = (out / "index.html").read_text()
    for r in results:
        assert (out / r.output).is_file() and (out / r.html).is_file()
        assert f'href="{r.output}"' in report
        summary = json.loads((figs / r.notebook / "summary.json").read_text())
        assert summary["readings"], f"{r.notebook} recorded no reading"
        for f in summary["figures"]:
            for name in f["files"]:
                assert (figs / r.notebook / name).stat().st_size > 0
        assert any(f["key"] for f in summary["figures"]), f"{r.notebook} marked no key figure"
        executed = nbformat.read(out / r.output, as_version=4)
        errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        assert not errors
