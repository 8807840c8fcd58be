"""The HTML page as it is built: numbered tables and figures, headings that make the
contents, notes of what was not run, and the page itself, which embeds its figures as
data URIs and its style sheet, so that it can be mailed or archived as one file.

A figure is embedded as compact SVG (:func:`compact_svg`: drawn the same, a third
smaller), or as its PNG where that is smaller still (a figure of many points); in an
``<img>``, neither can run a script nor load anything."""
from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from .formats import cell_text, describe
from .reading import Results
from .tables import provenance_rows

_STYLE = """
:root { --ink: #1d2733; --muted: #56616d; --rule: #d6dce2; --accent: #1f4e79; --band: #eef3f8; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
       font: 15px/1.5 "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 2rem 2.5rem 4rem; }
header.title { border-bottom: 3px solid var(--accent); padding-bottom: .8rem; margin-bottom: 1.5rem; }
h1 { font-size: 1.9rem; color: var(--accent); margin: 0 0 .2rem; line-height: 1.2; }
.subtitle { color: var(--muted); margin: 0; }
h2 { font-size: 1.45rem; color: var(--accent); border-bottom: 1px solid var(--rule);
     padding-bottom: .2rem; margin: 2.6rem 0 .8rem; }
h3 { font-size: 1.2rem; margin: 2rem 0 .6rem; }
h4 { font-size: 1.02rem; margin: 1.4rem 0 .4rem; }
p { margin: .4rem 0 .8rem; }
a { color: var(--accent); }
code { font-size: .85em; background: var(--band); padding: 0 .2em; border-radius: 2px; }
nav.toc { background: var(--band); padding: .6rem 1.4rem .8rem; border-radius: 4px; margin: 1.2rem 0 2rem; }
nav.toc .toc-title { font-weight: 600; font-size: 1.1rem; margin: 0 0 .3rem; color: var(--accent); }
nav.toc ul { list-style: none; margin: 0; padding-left: 0; }
nav.toc ul ul { padding-left: 1.4rem; font-size: .92rem; columns: 2; }
nav.toc > ul > li { margin-bottom: .3rem; }
.table-wrap { overflow-x: auto; margin: .6rem 0 1.4rem; }
table { border-collapse: collapse; font-size: .84rem; font-variant-numeric: tabular-nums; }
.caption { font-size: .88rem; margin: 0 0 .35rem; }
table.wide { width: 100%; }
table.provenance caption { text-align: left; font-weight: 600; padding-bottom: .3rem; }
th, td { padding: .28rem .5rem; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
thead th { background: var(--band); border-bottom: 2px solid var(--accent); font-weight: 600; vertical-align: bottom; }
th.num { text-align: right; }
td.num { text-align: right; white-space: nowrap; }
td.prose { overflow-wrap: anywhere; min-width: 12rem; }
td:first-child { min-width: 8rem; }
tbody tr:nth-child(even) td { background: #fafbfd; }
tr.group td { background: #e4ebf2; font-weight: 600; }
table.provenance { width: auto; min-width: 50%; }
table.provenance th { background: none; border-bottom: 1px solid var(--rule); white-space: nowrap; }
.notes { font-size: .82rem; color: var(--muted); margin: -.8rem 0 1.2rem; padding-left: 1.2rem; }
figure { margin: 1.2rem auto 2rem; text-align: center; break-inside: avoid; }
figure img { max-width: 100%; height: auto; }
figcaption { text-align: left; font-size: .86rem; color: var(--muted); margin-top: .4rem; }
figcaption b, .caption b { color: var(--ink); }
.not-run { border-left: 4px solid #c98a00; background: #fff7e0; padding: .5rem .9rem; margin: .6rem 0 1.2rem; }
footer { margin-top: 3rem; color: var(--muted); font-size: .8rem; border-top: 1px solid var(--rule);
         padding-top: .6rem; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  nav.toc { background: none; border: 1px solid var(--rule); }
  h2 { break-before: page; }
  h2, h3, h4, .caption { break-after: avoid; }
  tr, figure, .not-run { break-inside: avoid; }
  thead { display: table-header-group; }
  table { font-size: 7.5pt; }
  .table-wrap { overflow: visible; }
  a { color: inherit; text-decoration: none; }
  figure img { max-height: 23cm; }
}
"""


_NUM = ' class="num"'  # right-aligned, no wrapping
_CELL_CLASS = {"text": "", "code": "", "prose": ' class="prose"'}  # every other kind is set as a number


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _cell_html(value: object, kind: str) -> str:
    text = _esc(cell_text(value, kind))
    if kind == "code":  # long input names would otherwise widen the table past the page
        text = re.sub(r"([._])", r"\1<wbr>", text)
    return text


def anchor_id(*parts: str) -> str:
    """An id from population names and the like: only characters safe in a fragment."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", "-".join(parts)).strip("-")


_NUMBER = re.compile(r"-?\d*\.\d+(?:[eE][-+]?\d+)?")
# attributes holding coordinates in points (and glyph outlines in integer font units)
_GEOMETRY = re.compile(r'(\s(?:d|x|y|width|height|viewBox|points)=")([^"]*)"')
_TRANSLATE = re.compile(r"translate\(([^)]*)\)")
_ID = re.compile(r'\sid="([^"]+)"')
_REFERENCE = re.compile(r'(href="#|url\(#)([^")]+)')
_DROPPED = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<metadata>.*?</metadata>|<!--.*?-->", re.DOTALL)
# printable ASCII that a data URI in a double-quoted attribute carries as it is
_URI_SAFE = "".join(chr(c) for c in range(32, 127) if chr(c) not in '"#%&<>\\^`{|}')


def _hundredths(match: re.Match) -> str:
    text = f"{float(match.group(0)):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def compact_svg(text: str) -> str:
    """An SVG written by matplotlib, drawn the same in fewer bytes: without its metadata,
    comments (matplotlib's copy of each text, drawn as glyphs) and indentation, with
    coordinates rounded to 0.01 pt (1/7200 inch), path data without the spaces around its
    commands, ids only where something refers to them and those short, and attributes in
    single quotes (which a data URI carries as they are). Scales and other transforms are
    left as they are."""
    def geometry(match: re.Match) -> str:
        value = " ".join(_NUMBER.sub(_hundredths, match.group(2)).split())
        if match.group(1).strip() == 'd="':
            value = re.sub(r" ?([A-Za-z]) ?", r"\1", value)
        return f'{match.group(1)}{value}"'

    text = _GEOMETRY.sub(geometry, _DROPPED.sub("", text))
    text = _TRANSLATE.sub(lambda m: f"translate({_NUMBER.sub(_hundredths, m.group(1))})", text)
    text = re.sub(r'style="([^"]*)"', lambda m: 'style="' + re.sub(r"([:;]) ", r"\1", m.group(1)) + '"', text)
    text = re.sub(r">\s+<", "><", text).strip()
    # ids: glyphs ("DejaVuSans-6f"), markers and clip paths are used by reference; groups ("axes_1") are not
    used = {name for _, name in _REFERENCE.findall(text)}
    short = {name: f"i{k:x}" for k, name in enumerate(dict.fromkeys(n for n in _ID.findall(text) if n in used))}
    text = _ID.sub(lambda m: f' id="{short[m.group(1)]}"' if m.group(1) in short else "", text)
    text = _REFERENCE.sub(lambda m: m.group(1) + short.get(m.group(2), m.group(2)), text)
    return text if "'" in text else text.replace('"', "'")


def embedded(path: Path) -> tuple[str, Path]:
    """The data URI of figure ``path`` and the file it holds: the compact SVG, or the PNG
    of the same name where that is smaller."""
    candidates = []
    if path.suffix == ".svg":
        candidates.append(("data:image/svg+xml;charset=utf-8," + quote(compact_svg(path.read_text("utf-8")),
                                                                       safe=_URI_SAFE), path))
        path = path.with_suffix(".png")
    if path.suffix == ".png" and path.is_file():
        candidates.append((f"data:image/png;base64,{base64.b64encode(path.read_bytes()).decode('ascii')}", path))
    return min(candidates, key=lambda candidate: len(candidate[0]))


class Page:
    """The HTML page as it is built: body parts, contents entries, table and figure numbers."""

    def __init__(self, results: Results) -> None:
        self.results = results
        self.parts: list[str] = []
        self.contents: list[tuple[int, str, str]] = []  # (level, anchor, text)
        self.tables = 0
        self.figures = 0
        self.shown: set[Path] = set()  # figures embedded so far

    def population(self, key: str) -> str:
        """A population as the page names it: its label."""
        return self.results.population_label(key)

    def heading(self, level: int, text: str, anchor: str) -> None:
        self.contents.append((level, anchor, text))
        self.parts.append(f'<h{level} id="{_esc(anchor)}">{_esc(text)}</h{level}>')

    def paragraph(self, text: str) -> None:
        self.parts.append(f"<p>{_esc(text)}</p>")

    def not_run(self, text: str) -> None:
        self.parts.append(f'<p class="not-run">{_esc(text)}</p>')

    def notes(self, items: Iterable[str]) -> None:
        items = [f"<li>{_esc(item)}</li>" for item in items]
        if items:
            self.parts.append(f'<ul class="notes">{"".join(items)}</ul>')

    def table(self, frame: pd.DataFrame, columns: Sequence[str], caption: str, anchor: str,
              headings: dict[str, tuple[str, str]] | None = None, group: str | None = None,
              wide: bool = False) -> None:
        """A numbered table of ``columns`` of ``frame``; a new ``group`` value opens a row spanning the table;
        ``wide``: as wide as the page (for long text), not as its content."""
        self.tables += 1
        described = [(headings or {}).get(c) or describe(c, self.results) for c in columns]
        head = "".join(f'<th scope="col"{_NUM if kind not in _CELL_CLASS else ""}>{_esc(heading)}</th>'
                       for heading, kind in described)
        body, current = [], None
        for _, row in frame.iterrows():
            if group is not None and row[group] != current:
                current = row[group]
                body.append(f'<tr class="group"><td colspan="{len(columns)}">{_esc(current)}</td></tr>')
            cells = "".join(f"<td{_CELL_CLASS.get(kind, _NUM)}>{_cell_html(row[column], kind)}</td>"
                            for column, (_, kind) in zip(columns, described, strict=True))
            body.append(f"<tr>{cells}</tr>")
        # the caption sits outside the table so that a narrow table does not squeeze it into a column
        width = ' class="wide"' if wide else ""
        self.parts.append(
            f'<div class="table-wrap"><p class="caption" id="{_esc(anchor)}-caption"><b>Table {self.tables}.</b> '
            f'{_esc(caption)}</p><table id="{_esc(anchor)}"{width} aria-labelledby="{_esc(anchor)}-caption">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")

    def figure(self, path: Path | None, caption: str, missing: str | None = None) -> None:
        """The figure ``path`` (from :meth:`Results.figure`), numbered, embedded; without one, the
        sentence ``missing``."""
        if path is None:
            if missing:
                self.not_run(missing)
            return
        self.figures += 1
        self.shown.add(path)
        name = path.relative_to(self.results.directory).with_suffix("").as_posix()
        uri, file = embedded(path)
        self.parts.append(
            f'<figure id="{_esc(anchor_id("figure", name))}"><img src="{uri}" alt="{_esc(caption)}">'
            f"<figcaption><b>Figure {self.figures}.</b> {_esc(caption)} <span>({_esc(file.name)})</span>"
            f"</figcaption></figure>")

    def render(self, title: str, subtitle: str, provenance: str) -> str:
        """The whole page; the contents list the sections (h2) and their populations or parts (h3)."""
        sections: list[tuple[str, list[str]]] = []
        for level, anchor, text in self.contents:
            link = f'<a href="#{_esc(anchor)}">{_esc(text)}</a>'
            if level == 2:
                sections.append((link, []))
            elif level == 3 and sections:
                sections[-1][1].append(link)
        toc = "".join(f"<li>{link}" + (f"<ul>{''.join(f'<li>{s}</li>' for s in subs)}</ul>" if subs else "")
                      + "</li>" for link, subs in sections)
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_esc(title)}</title><style>{_STYLE}</style></head><body><main>"
            f'<header class="title"><h1>{_esc(title)}</h1><p class="subtitle">{_esc(subtitle)}</p></header>'
            f'{provenance}<nav class="toc" aria-label="Contents"><p class="toc-title">Contents</p><ul>{toc}</ul></nav>'
            + "".join(self.parts)
            + "<footer>Written by markov.report from the tables and figures of the results directory; the "
              "workbook that markov.report writes of the same directory holds every number unrounded."
              "</footer></main></body></html>\n")


def provenance_html(results: Results) -> str:
    rows = "".join(f'<tr><th scope="row">{_esc(key)}</th><td>{_esc(value)}</td></tr>'
                   for key, value in provenance_rows(results))
    return f'<section id="provenance"><table class="provenance"><caption>Provenance</caption>{rows}</table></section>'
