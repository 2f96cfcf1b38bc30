"""One offline HTML report for a study: per notebook, its question, its paper-vs-run
table, its reading and its key figures, with links to the executed notebook (ipynb and
HTML), its log and its interactive 3D figures. Plain HTML and relative links only: it
opens from the disk with no network."""
from __future__ import annotations

import datetime as _dt
import html
import json
import os
from pathlib import Path
from typing import Sequence

from ..files import write_atomic
from ..viz.export import SUMMARY

__all__ = ["write_report", "REPORT"]

REPORT = "index.html"
_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px}
th{background:#f3f3f3}.ok{color:#176f2c}.failed,.timeout{color:#b00020}.cached,.planned{color:#555}
figure{display:inline-block;margin:.5em;max-width:48%;vertical-align:top}figure img{max-width:100%}
figcaption{font-size:.85em;color:#444}section{border-top:1px solid #ddd;margin-top:1.5em}"""


def _rel(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target, start)).as_posix()


def _table(t: dict) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in t["columns"])
    body = "".join("<tr>" + "".join(f"<td>{'' if v is None else html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in t["data"])
    cap = f"<caption>{html.escape(t.get('caption') or '')}</caption>" if t.get("caption") else ""
    return f"<table>{cap}<tr>{head}</tr>{body}</table>"


def _section(res, summary: dict | None, out: Path, fig_dir: Path) -> str:
    title = html.escape((summary or {}).get("title") or res.notebook)
    links = [f'<a href="{html.escape(res.output)}">notebook</a>']
    if res.html:
        links.append(f'<a href="{html.escape(res.html)}">notebook as HTML</a>')
    if (out / res.log).is_file():
        links.append(f'<a href="{html.escape(res.log)}">log</a>')
    parts = [f'<section id="{html.escape(res.notebook)}"><h2>{title}</h2>',
             f'<p><span class="{res.status}">{res.status}</span> in {res.seconds:.0f} s · {" · ".join(links)}</p>']
    if res.error:
        parts.append(f"<p class='failed'>{html.escape(res.error)}</p>")
    if summary is None:
        parts.append("<p>This notebook recorded no summary (it did not reach its first table or figure).</p>")
        return "\n".join(parts) + "</section>"
    if summary.get("question"):
        parts.append(f"<p><em>{html.escape(summary['question'])}</em></p>")
    for t in summary.get("tables", {}).values():
        parts.append(_table(t))
    for sentence in summary.get("readings", []):
        parts.append(f"<p>{html.escape(sentence)}</p>")
    folder = fig_dir / res.notebook
    for f in summary.get("figures", []):
        files = {Path(x).suffix: folder / x for x in f["files"]}
        cap = html.escape(f.get("caption") or f["name"])
        extra = (f' · <a href="{_rel(files[".html"], out)}">interactive 3D</a>' if ".html" in files else "")
        if not f.get("key"):
            parts.append(f'<p>Figure <a href="{_rel(next(iter(files.values())), out)}">{html.escape(f["name"])}</a>'
                         f"{extra}</p>")
        elif ".png" in files:
            parts.append(f'<figure><img src="{_rel(files[".png"], out)}" alt="{cap}"><figcaption>{cap}{extra}'
                         "</figcaption></figure>")
        else:
            parts.append(f"<p>{cap}{extra}</p>")
    return "\n".join(parts) + "</section>"


def write_report(out: Path, results: Sequence, fig_dir: Path, profile) -> Path:
    """Write ``<out>/index.html`` (atomically) and return its path."""
    sections, toc = [], []
    for res in results:
        path = fig_dir / res.notebook / SUMMARY
        summary = json.loads(path.read_text()) if path.is_file() else None
        sections.append(_section(res, summary, out, fig_dir))
        toc.append(f'<li><a href="#{html.escape(res.notebook)}">{html.escape(res.notebook)}</a> '
                   f'<span class="{res.status}">{res.status}</span></li>')
    n_bad = sum(r.status in ("failed", "timeout") for r in results)
    when = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    doc = (f"<!doctype html><html><head><meta charset='utf-8'><title>i2p study ({profile.name})</title>"
           f"<style>{_CSS}</style></head><body><h1>Image2Point study — profile {html.escape(profile.name)}</h1>"
           f"<p>{html.escape(profile.blurb)}. Executed {when}; {len(results) - n_bad} of {len(results)} notebooks "
           f"ran to the end. Numbers in every table come from this machine's runs; the paper's are beside them.</p>"
           f"<ul>{''.join(toc)}</ul>{''.join(sections)}</body></html>")
    return write_atomic(out / REPORT, doc)
