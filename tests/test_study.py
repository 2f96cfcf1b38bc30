"""The study layer: readings, figure export, rows from presets, the headless runner and
its report (on tiny notebooks; the real notebooks run in test_notebooks.py)."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from i2p.data.kitti.labels import TRAIN_SEQUENCES
from i2p.data.kitti.spec import KittiSpec
from i2p.study import Study, difference, fmt, get_profile, rank_agreement
from i2p.study import runner as runner_mod
from i2p.viz import export


# ---------------------------------------------------------------------- readings
def test_difference_beyond_within_and_unknown():
    far = difference([60, 61, 59], [50, 51, 49], ("pre", "rand"))
    assert far.beyond_noise is True and far.delta == pytest.approx(10)
    assert "ahead of" in far.text and "beyond seed noise" in far.text and far.text.endswith(".")  # joined as sentences
    near = difference([50, 53, 47], [49, 52, 46])
    assert near.beyond_noise is False and "within seed noise" in near.text
    one = difference([50], [40, 41])
    assert one.beyond_noise is None and "one seed" in one.text
    assert "behind" in difference([40, 41], [50, 52]).text
    with pytest.raises(ValueError, match="no finished runs"):
        difference([], [1.0])


def test_rank_agreement_and_fmt():
    assert rank_agreement([1, 2, 3], [10, 20, 30]) == (3, 3)
    assert rank_agreement([1, 2, 3], [30, 20, 10]) == (0, 3)
    assert rank_agreement([1, 1, 3], [1, 2, 3]) == (2, 2)  # the paper's tie is skipped
    with pytest.raises(ValueError):
        rank_agreement([1, 2], [1])
    assert fmt([50.0]) == "50.0 (1 seed)"
    assert fmt([50.0, 52.0, 54.0]) == "52.0 ± 2.0 (3)"


# ---------------------------------------------------------------------- export
def test_figure_sink_matplotlib_and_summary(tmp_path):
    sink = export.FigureSink("nb", tmp_path)
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    sink.save(fig, "line", key=True, caption="a line")
    plt.close(fig)
    assert (tmp_path / "nb" / "line.png").stat().st_size > 0 and (tmp_path / "nb" / "line.svg").is_file()
    import pandas as pd

    sink.table("t", pd.DataFrame({"row": ["a"], "value": [1.5]}), caption="cap")
    sink.reading("one.", "two.")
    s = json.loads((tmp_path / "nb" / "summary.json").read_text())
    assert s["figures"] == [{"name": "line", "files": ["line.png", "line.svg"], "key": True, "caption": "a line"}]
    assert s["tables"]["t"]["data"] == [["a", 1.5]] and s["readings"] == ["one.", "two."]
    with pytest.raises(ValueError, match="plain file stem"):
        sink.save(fig, "../x")
    with pytest.raises(ValueError, match="plain folder name"):
        export.FigureSink("a/b", tmp_path)


def test_figure_sink_plotly_offline_and_fallback(tmp_path, monkeypatch):
    import plotly.graph_objects as go

    monkeypatch.setattr(export, "find_chromium", lambda: None)  # no browser: the matplotlib view is saved
    sink = export.FigureSink("nb", tmp_path)
    fig = go.Figure(go.Scatter3d(x=[0, 1], y=[0, 1], z=[0, 1], mode="markers"))
    calls = []

    def fallback():
        calls.append(1)
        f, ax = plt.subplots()
        return f

    sink.save(fig, "scene", fallback=fallback)
    html = (tmp_path / "nb" / "scene.html").read_text()
    assert 'src="../plotly.min.js"' in html and "cdn.plot.ly" not in html  # offline: the shared local copy
    assert (tmp_path / "plotly.min.js").stat().st_size > 1_000_000
    assert calls == [1] and (tmp_path / "nb" / "scene.png").is_file()
    sink.save(fig, "bare")  # no fallback, no browser: the HTML alone
    assert json.loads((tmp_path / "nb" / "summary.json").read_text())["figures"][-1]["files"] == ["bare.html"]


# ---------------------------------------------------------------------- rows from presets
def test_study_rows_follow_presets_and_profile(tmp_path, monkeypatch):
    st = Study("nb", "quick", store=tmp_path / "runs", figures=tmp_path / "fig", progress=False)
    row = st.row("I,O", "t1.io.modelnet40", control=True)
    assert row.config.recipe.epochs == get_profile("quick").overrides["modelnet40"]["recipe.epochs"]
    assert row.config.seeds == [0] and row.cell.id == "t1.io.modelnet40"
    ctrl = st.rows[1]
    assert ctrl.config.model.source == "random" and ctrl.control_of == "I,O" and ctrl.cell is None
    assert ctrl.config.model.scope == "io" and ctrl.config.recipe == row.config.recipe
    k = st.extra("1-shot", "t3.pretrained.10pct", "k-shot", data__fraction=None, data__k_shot=1, seeds=[0, 1])
    assert k.config.data.k_shot == 1 and k.config.data.fraction is None and k.config.seeds == [0, 1]
    with pytest.raises(ValueError, match="already labelled 'I,O'"):
        st.row("I,O", "t1.io_bn.modelnet40")
    # a model's own overrides apply after its data set's: PointNet++ is sized apart
    pn = st.row("pointnet", "t2.whole.pointnet2_modelnet40")
    assert pn.config.recipe.epochs == get_profile("quick").overrides["pointnet2_ssg"]["recipe.epochs"] != \
        row.config.recipe.epochs
    paper = Study("nb", "paper", store=tmp_path / "p", figures=tmp_path / "fig", progress=False)
    assert paper.row("hrnet", "t2.whole.hrnet_semantickitti").config.model.model == "range_hrnetv2_w48"
    with pytest.raises(ValueError, match="unknown study profile"):
        Study("nb", "huge", store=tmp_path, figures=tmp_path)
    teaching = Study("nb", "teaching", store=tmp_path / "runs", figures=tmp_path / "fig", progress=False)
    assert teaching.full and teaching.row("x", "t1.io.modelnet40").config.seeds == [0, 1, 2]
    # SynthKITTI: quick keeps 2 sweeps per sequence for voxel and range rows alike (its epochs
    # stay short); teaching trains on the profile's 8 with the same number of steps as before
    sweeps = KittiSpec().resolve_options("teaching")["sweeps"]
    for cell in ("t1.io_stats.semantickitti", "t2.whole.hrnet_semantickitti"):
        assert st.row(cell, cell).config.data.options == {"sweeps": 2} != {"sweeps": sweeps}
        cfg = teaching.row(cell, cell).config
        assert cfg.data.options == {} and cfg.recipe.epochs * sweeps * len(TRAIN_SEQUENCES) // cfg.recipe.batch_size >= 1500
    table = st.table(st.rows[:2])
    assert list(table["this run"]) == ["not run", "not run"] and table["paper"].iloc[0] == pytest.approx(78.69)


def test_fit_refuses_a_one_sample_training_set():
    from i2p.data.store import CloudDataset
    from i2p.train import TrainConfig, fit

    ds = CloudDataset([{"points": [[0.0, 0.0, 0.0]], "label": 0}], ["a"])
    with pytest.raises(ValueError, match="1 sample"):
        fit(None, ds, TrainConfig(task="cls", epochs=1, progress=False))


# ---------------------------------------------------------------------- runner and report
def _book(path: Path, body: str) -> None:
    params = new_code_cell("profile = 'quick'\nstore = None\nfigures = None\ndevice = 'auto'\nprecision = 'auto'\n"
                           "interactive = True")
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[params, new_code_cell(body)],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, path)


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_run_study_executes_caches_reports_failures(project):
    ok = ("from i2p.viz import FigureSink\nimport matplotlib.pyplot as plt\n"
          "s = FigureSink('00_ok', figures)\ns.meta(title='OK book')\nf, a = plt.subplots()\n"
          "s.save(f, 'fig', key=True, caption='cap')\ns.reading(f'profile was {profile}')")
    _book(project / "notebooks" / "00_ok.ipynb", ok)
    _book(project / "notebooks" / "01_bad.ipynb", "raise RuntimeError('boom in a cell')")
    results = runner_mod.run_study("smoke", progress=False)
    status = {r.notebook: r for r in results}
    assert status["00_ok"].status == "ok" and status["01_bad"].status == "failed"
    assert "boom in a cell" in status["01_bad"].error
    out = project / "study" / "smoke"
    assert (out / "00_ok.ipynb").is_file() and (out / "00_ok.html").is_file()
    report = (out / "index.html").read_text()
    assert 'href="00_ok.ipynb"' in report and 'href="01_bad.ipynb"' in report
    assert "profile was smoke" in report and '<img src="../../figures/00_ok/fig.png"' in report
    assert "http" not in report.split("<body>")[1]  # offline: local links only
    again = {r.notebook: r.status for r in runner_mod.run_study("smoke", progress=False)}
    assert again == {"00_ok": "cached", "01_bad": "failed"}  # finished notebooks are not executed twice
    with pytest.raises(ValueError, match="no notebook '07'"):
        runner_mod.run_study("smoke", only=["07"], progress=False)


def test_run_study_timeout(project):
    _book(project / "notebooks" / "00_slow.ipynb", "import time\ntime.sleep(60)")
    res, = runner_mod.run_study("smoke", timeout_min=0.15, progress=False)
    assert res.status == "timeout" and "min" in res.error
