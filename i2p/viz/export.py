"""Saving a notebook's figures where the study report finds them.

Every figure goes to ``figures/<notebook>/<name>.<ext>``: matplotlib figures as PNG and SVG
(no browser needed), plotly figures as an offline HTML page whose plotly.js is one shared
file (``figures/plotly.min.js``, written once) plus a PNG. Plotly's own PNG export
(kaleido 1.x) drives a Chromium; when none is installed (plotly's ``plotly_get_chrome``
needs the internet), the caller's matplotlib rendering of the same view is saved instead,
so a missing browser never fails a study.

A notebook also records its *summary* for the report: the paper-vs-run table, the reading
sentences and which figures are key (written atomically to ``figures/<notebook>/summary.json``).
"""
from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable

from ..files import savefig_atomic, write_atomic

__all__ = ["FigureSink", "find_chromium", "PLOTLY_JS"]

PLOTLY_JS = "plotly.min.js"
SUMMARY = "summary.json"
#: where a Chromium usually lives on Debian / Ubuntu / macOS
_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@functools.lru_cache(maxsize=1)
def find_chromium() -> str | None:
    """The path of a Chromium that kaleido can drive, or None (``$BROWSER_PATH`` first)."""
    env = os.environ.get("BROWSER_PATH")
    if env and Path(env).is_file():
        return env
    for name in _CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _is_plotly(fig: Any) -> bool:
    return type(fig).__module__.startswith("plotly")


class FigureSink:
    """Where one notebook's figures and summary go: ``<root>/<notebook>/``.

    ``save(fig, name)`` writes a matplotlib figure as ``name.png`` + ``name.svg`` and a
    plotly figure as ``name.html`` (+ ``name.png`` via kaleido when a Chromium exists, else
    from ``fallback()``, a function returning the matplotlib version of the same view).
    ``key=True`` marks the figure for the study report.
    """

    def __init__(self, notebook: str, root: str | Path = "figures") -> None:
        if not notebook or any(c in notebook for c in "/\\"):
            raise ValueError(f"notebook name must be a plain folder name, got {notebook!r}")
        self.root = Path(root)
        self.folder = self.root / notebook
        self.notebook = notebook
        self.folder.mkdir(parents=True, exist_ok=True)
        self._summary: dict[str, Any] = {"notebook": notebook, "figures": [], "tables": {}, "readings": []}

    # ------------------------------------------------------------------ figures
    def save(self, fig: Any, name: str, *, key: bool = False, caption: str = "",
             fallback: Callable[[], Any] | None = None) -> None:
        """Write ``fig`` under ``name`` (returns nothing, so a notebook cell ending in
        ``save`` shows the figure once, not a list of paths)."""
        if not name or any(c in name for c in "/\\."):
            raise ValueError(f"figure name must be a plain file stem without dots, got {name!r}")
        paths = self._save_plotly(fig, name, fallback) if _is_plotly(fig) else self._save_matplotlib(fig, name)
        entry = {"name": name, "files": [p.name for p in paths], "key": key, "caption": caption}
        self._summary["figures"] = [f for f in self._summary["figures"] if f["name"] != name] + [entry]
        self._write_summary()

    def _save_matplotlib(self, fig: Any, name: str) -> list[Path]:
        paths = [self.folder / f"{name}.png", self.folder / f"{name}.svg"]
        for p in paths:
            savefig_atomic(fig, p, dpi=120, bbox_inches="tight")
        return paths

    def _plotly_js(self) -> str:
        """The shared plotly.js next to every notebook folder (written once), relative to a figure."""
        js = self.root / PLOTLY_JS
        if not js.is_file():
            from plotly.offline import get_plotlyjs

            write_atomic(js, get_plotlyjs())
        return f"../{PLOTLY_JS}"

    def _save_plotly(self, fig: Any, name: str, fallback: Callable[[], Any] | None) -> list[Path]:
        html = self.folder / f"{name}.html"
        write_atomic(html, fig.to_html(include_plotlyjs=self._plotly_js(), full_html=True))
        png = self.folder / f"{name}.png"
        if find_chromium() is not None:
            try:
                write_atomic(png, fig.to_image(format="png", width=1100, height=520))
                return [html, png]
            except Exception as e:  # kaleido/browser trouble must not fail a study
                print(f"[i2p] plotly PNG export failed ({type(e).__name__}: {e}); using the matplotlib view")
        if fallback is None:
            return [html]
        import matplotlib.pyplot as plt

        mfig = fallback()
        try:
            return [html, *self._save_matplotlib(mfig, name)[:1]]
        finally:
            plt.close(mfig)

    # ------------------------------------------------------------------ summary
    def table(self, name: str, df: Any, *, caption: str = "") -> None:
        """Record a table (a pandas DataFrame) for the report."""
        records = json.loads(df.to_json(orient="split", index=False, double_precision=4))
        self._summary["tables"][name] = {"caption": caption, **records}
        self._write_summary()

    def reading(self, *sentences: str) -> None:
        """Record the notebook's reading (sentences computed from this run's numbers)."""
        self._summary["readings"] = list(sentences)
        self._write_summary()

    def meta(self, **info: Any) -> None:
        """Record facts about this execution (profile, device, title ...)."""
        self._summary.update(info)
        self._write_summary()

    def _write_summary(self) -> None:
        write_atomic(self.folder / SUMMARY, json.dumps(self._summary, indent=1, default=str))
