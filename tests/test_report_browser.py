"""The study report in a real browser, offline: Playwright drives the Debian ``chromium``
(skipped where none is installed, or without the playwright package)."""
from __future__ import annotations

import pytest

from i2p.viz.export import FigureSink, find_chromium

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (Debian: apt-get install chromium)")


def _scene():
    import plotly.graph_objects as go

    return go.Figure(go.Scatter3d(x=[0, 1, 2], y=[0, 1, 0], z=[0, 0, 1], mode="markers"))


def test_plotly_png_export_uses_the_browser(tmp_path):
    calls = []
    FigureSink("nb", tmp_path).save(_scene(), "scene", fallback=lambda: calls.append(1))
    png = (tmp_path / "nb" / "scene.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and not calls  # kaleido rendered it; the matplotlib fallback was not needed


def test_report_opens_offline_and_renders_a_3d_figure(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    from i2p.study.profiles import get_profile
    from i2p.study.report import write_report
    from i2p.study.runner import NotebookResult

    figs, out = tmp_path / "figures", tmp_path / "study"
    out.mkdir()
    sink = FigureSink("00_demo", figs)
    sink.meta(title="Demo notebook")
    sink.save(_scene(), "scene", key=True, caption="a 3D scene")
    (out / "00_demo.ipynb").write_text("{}")
    results = [NotebookResult("00_demo", "ok", 1.0, "00_demo.ipynb", "00_demo.log"),
               NotebookResult("01_other", "failed", 2.0, "01_other.ipynb", "01_other.log", error="boom")]
    report = write_report(out, results, figs, get_profile("smoke"))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        external, errors = [], []
        page.on("request", lambda r: external.append(r.url) if not r.url.startswith(("file:", "data:", "blob:")) else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.as_uri())
        links = page.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href'))")
        assert "00_demo.ipynb" in links and "01_other.ipynb" in links
        assert "boom" in page.inner_text("body")
        page.click("text=interactive 3D")
        page.wait_for_selector(".js-plotly-plot", timeout=30_000)
        traces = page.evaluate("() => document.querySelector('.js-plotly-plot')._fullData.length")
        canvases = page.evaluate("() => document.querySelectorAll('.js-plotly-plot canvas').length")
        browser.close()
    assert traces == 1 and canvases >= 1  # plotly.js came from the local shared file and drew with WebGL
    assert not external and not errors


def test_executed_notebook_html_shows_plotly_offline(tmp_path):
    """A notebook executed with i2p's plotly set-up, exported by the study's to_html,
    renders its 3D figure with every network request refused."""
    sync_api = pytest.importorskip("playwright.sync_api")
    import nbformat
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    from i2p.study.runner import to_html

    nb = new_notebook(cells=[new_code_cell(
        "from i2p.study import setup_notebook\nsetup_notebook()\nimport plotly.graph_objects as go\n"
        "go.Figure(go.Scatter3d(x=[0, 1], y=[0, 1], z=[1, 0], mode='markers'))")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    NotebookClient(nb, timeout=120).execute()
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    html = to_html(path)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.route("http*://**", lambda route: route.abort())  # no network at all
        page.goto(html.as_uri())
        page.wait_for_selector(".js-plotly-plot", timeout=30_000)
        traces = page.evaluate("() => document.querySelector('.js-plotly-plot')._fullData.length")
        browser.close()
    assert traces == 1
