"""The headless study: execute every notebook, save the executed copies and one report.

Each notebook runs in its own papermill process (a kernel of this Python) with the
profile's parameters and a wall-clock timeout per notebook; its executed copy goes to
``study/<profile>/<notebook>.ipynb`` (+ an offline ``.html``), its log next to it, its
figures to ``figures/<notebook>/``. A notebook that finished with the same parameters
and the same notebook file is not executed again (``force`` re-executes); one that was
interrupted re-executes, and its finished runs come back from the store, so an
interrupted study resumes where it stopped. A failing notebook does not stop the others;
the report says which failed and links its log.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

from ..files import write_atomic
from .profiles import get_profile
from .session import DRY_RUN_ENV, project_root

__all__ = ["NotebookResult", "list_notebooks", "run_study", "to_html"]

DONE = ".done.json"


@dataclass
class NotebookResult:
    notebook: str
    status: str  # ok | cached | failed | timeout | planned (dry run)
    seconds: float
    output: str
    log: str
    html: str | None = None
    error: str = ""


def list_notebooks(folder: str | Path | None = None) -> list[Path]:
    """The study's notebooks, in order (``NN_name.ipynb``)."""
    folder = Path(folder) if folder else project_root() / "notebooks"
    books = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if not books:
        raise FileNotFoundError(f"no notebooks (NN_name.ipynb) in {folder}")
    return books


def _select(books: list[Path], only: Sequence[str] | None) -> list[Path]:
    if not only:
        return books
    chosen = []
    for want in only:
        hits = [b for b in books if b.stem == want or b.stem.split("_", 1)[0] == want]
        if not hits:
            raise ValueError(f"no notebook {want!r}; notebooks: {', '.join(b.stem for b in books)}")
        chosen += [h for h in hits if h not in chosen]
    return chosen


def _fingerprint(book: Path, params: dict) -> str:
    h = hashlib.sha1(book.read_bytes())
    h.update(json.dumps(params, sort_keys=True).encode())
    return h.hexdigest()


def to_html(executed: Path) -> Path:
    """The executed notebook as one HTML page (plotly figures carried inline)."""
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nbformat.read(executed, as_version=4))
    return write_atomic(executed.with_suffix(".html"), body)


def _execute(book: Path, output: Path, log: Path, params: dict, timeout_s: float, dry_run: bool) -> tuple[str, str]:
    """Run papermill in its own process group; (status, error line)."""
    cmd = [sys.executable, "-m", "papermill", str(book), str(output), "-y", json.dumps(params), "--cwd",
           str(book.parent), "--log-output", "--no-progress-bar", "--request-save-on-cell-execute"]
    env = {**os.environ, DRY_RUN_ENV: "1" if dry_run else ""}
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True, env=env)
        try:
            rc = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return "timeout", f"stopped after {timeout_s / 60:.0f} min (the profile's timeout per notebook)"
        except BaseException:  # Ctrl-C: take the kernel down with us
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    if dry_run:  # planned when it stopped at its first run, or ran through without one
        plan = [ln for ln in lines if ln.startswith("DryRun: ")]
        if plan:
            message = plan[-1][len("DryRun: "):]
            return ("failed" if "cannot run" in message else "planned"), message
        return ("planned", "ran through: it computes no runs") if rc == 0 else ("failed", _error(lines, rc))
    return ("ok", "") if rc == 0 else ("failed", _error(lines, rc))


def _error(lines: list[str], rc: int) -> str:
    """The most telling line of a failed notebook's log."""
    errs = [ln for ln in lines if "Error" in ln or "Exception" in ln]
    return (errs[-1] if errs else (lines[-1] if lines else f"papermill exit {rc}"))[:300]


def run_study(profile: str = "quick", *, only: Sequence[str] | None = None, out: str | Path | None = None,
              device: str = "auto", precision: str = "auto", timeout_min: float | None = None,
              force: bool = False, progress: bool = True, store: str | Path | None = None,
              figures: str | Path | None = None, dry_run: bool = False) -> list[NotebookResult]:
    """Execute the notebooks at ``profile`` and write ``<out>/index.html``; returns one
    result per notebook. ``store`` / ``figures``: the results store and figure folder the
    notebooks use (default ``runs/`` and ``figures/`` of the checkout). ``dry_run``: each
    notebook validates and lists its runs and stops before computing (status ``planned``);
    nothing is cached as done."""
    from tqdm.auto import tqdm

    from .report import write_report

    prof = get_profile(profile)
    root = project_root()
    books = _select(list_notebooks(root / "notebooks"), only)
    out = Path(out) if out else root / "study" / prof.name
    out.mkdir(parents=True, exist_ok=True)
    fig_dir = Path(figures) if figures else root / "figures"
    params = {"profile": prof.name, "device": device, "precision": precision, "interactive": False,
              "store": str(Path(store) if store else root / "runs"), "figures": str(fig_dir)}
    timeout_s = 60 * (timeout_min or prof.timeout_min)
    results = []
    bar = tqdm(books, desc=f"study ({prof.name})", unit="notebook", disable=not progress)
    for book in bar:
        bar.set_postfix_str(book.stem)
        output, log, marker = out / book.name, out / f"{book.stem}.log", out / f"{book.stem}{DONE}"
        fp = _fingerprint(book, params)
        if not force and not dry_run and marker.is_file() and output.is_file():
            done = json.loads(marker.read_text())
            if done.get("fingerprint") == fp:
                results.append(NotebookResult(**{**done["result"], "status": "cached"}))
                continue
        marker.unlink(missing_ok=True)
        t0 = time.monotonic()
        status, error = _execute(book, output, log, params, timeout_s, dry_run)
        html = None
        if output.is_file():
            try:
                html = to_html(output).name
            except Exception as e:  # a broken partial notebook must not stop the study
                error = error or f"HTML export failed: {e}"
        res = NotebookResult(book.stem, status, round(time.monotonic() - t0, 1), output.name, log.name, html, error)
        if status == "ok":
            write_atomic(marker, json.dumps({"fingerprint": fp, "result": asdict(res)}))
        elif status != "planned":
            print(f"[i2p] {book.stem}: {status}: {error} (log: {log})", file=sys.stderr)
        results.append(res)
    write_report(out, results, fig_dir, prof)
    return results
