"""The branches of the study only the big profiles take, planned without computing.

Its own file: eleven notebook kernels start for the dry runs (~2.5-3 min), so under
``make test`` it runs on its own worker beside a smoke half (``conftest.LONG_FILES_FIRST``)
instead of after one."""
from __future__ import annotations

import pytest

from i2p.study import run_study


@pytest.mark.slow
def test_teaching_and_paper_profiles_plan(tmp_path, monkeypatch):
    """The branches only the big profiles take: every notebook's teaching rows validate
    (dry run: planned, nothing computed); the paper profile without real data stops with
    clear errors: the data check and the missing 2D weights, every row listed."""
    monkeypatch.setenv("I2P_REAL_DATA", str(tmp_path / "no-data"))
    kw = dict(store=tmp_path / "runs", figures=tmp_path / "figures", progress=False, dry_run=True)
    results = run_study("teaching", out=tmp_path / "teaching", **kw)
    assert {r.status for r in results} == {"planned"}, {r.notebook: r.error for r in results}
    assert all(("runs to compute" in r.error) != (r.notebook[:2] == "09") for r in results)  # 09: no runs
    assert not list((tmp_path / "runs").glob("*/record.json"))  # nothing ran
    paper, = run_study("paper", out=tmp_path / "paper", only=["01"], **kw)
    assert paper.status == "failed" and "rows cannot run" in paper.error
    log = (tmp_path / "paper" / paper.log).read_text()
    assert "data check" in log and "is not on this machine" in log  # every problem is listed, not only the first
