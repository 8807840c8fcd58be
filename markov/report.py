"""Reports of a results directory: an Excel workbook and one self-contained HTML page.

A results directory is what ``markov run --psa N --out DIR`` writes, with the
deterministic sensitivity analysis of ``markov dsa --out DIR/dsa`` in ``DIR/dsa`` and,
optionally, provenance in ``DIR/run.json`` (and ``DIR/dsa/run.json``). The reports read
only the summary tables and the figures, never the per-sample results (whose storage is
changing). Every part but the base case may be missing; its sheet or section then says
what was not run.

The workbook keeps every number as a number (formatted, not rounded) so that a
reviewer can recompute; the HTML page embeds its figures as data URIs and its style
sheet, so that it can be mailed or archived as one file.
"""
from __future__ import annotations

import base64
import html
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from ._validate import InputError
from .models.valuation import COMMON_CATEGORIES
from .inputs.evidence import STATUS_MEANING
from .decision.voi import MIN_EVPPI_SAMPLES

__all__ = ["write_html", "write_reports", "write_workbook"]

# Rows of the tornado and EVPPI tables in the HTML page (largest first); the workbook has all.
TOP_ROWS = 10

# pandas 2 reads every float of a CSV exactly only with the round-trip parser; pandas 3 does by
# default and deprecates the option
_EXACT_FLOATS = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}

_THRESHOLD_COLUMN = re.compile(r"^(?P<stem>.+)_at_(?P<value>[0-9.e+]+)_(?P<currency>[A-Za-z]+)$")

# Columns every reader relies on, by table kind (the file name without population).
_REQUIRED = {
    "results": ("population", "strategy", "label", "cost", "life_years", "qalys"),
    "incremental": ("strategy", "cost", "qalys", "incremental_cost", "incremental_qalys", "icer_per_qaly", "status"),
    "psa_summary": ("population", "strategy", "cost_mean", "qalys_mean"),
    "icer_summary": ("strategy", "comparator", "mean_incremental_cost", "mean_incremental_effect", "icer"),
    "ceac": ("wtp",),
    "ceaf": ("wtp", "strategy"),
    "evpi": ("wtp", "evpi"),
    "evppi": ("parameter", "members", "evppi"),
    "convergence": ("n", "comparison", "mean", "lower", "upper"),
    "calibration": ("population", "strategy", "outcome", "measure", "reported", "model"),
    "inputs": ("reference", "value", "unit", "status", "source"),
    "tornado_nmb": ("reference", "parameter", "low_input", "high_input", "outcome_low", "outcome_high", "swing"),
    "tornado_icer": ("reference", "parameter", "low_input", "high_input", "outcome_low", "outcome_high", "swing"),
    "scenarios": ("scenario_label", "population", "strategy", "cost", "qalys", "status"),
    "threshold_prices": ("label", "population", "intervention", "comparator", "wtp", "threshold_price"),
}


# ---------------------------------------------------------------------------------
# Reading a results directory
# ---------------------------------------------------------------------------------

class _Results:
    """The tables and figures of one results directory, each file read once."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise InputError(f"results directory {self.directory}: does not exist or is not a directory")
        found = sorted(self.directory.glob("results_*.csv"))
        if not found:
            raise InputError(f"results directory {self.directory}: has no results_<population>.csv (the base case); "
                             f"write it with `markov run --out {self.directory}`")
        self.populations = [path.stem.removeprefix("results_") for path in found]
        self._tables: dict[str, pd.DataFrame | None] = {}
        self.provenance = self._read_record(self.directory / "run.json")
        self.dsa_provenance = self._read_record(self.directory / "dsa" / "run.json")
        self.labels: dict[str, str] = {}
        for population in self.populations:
            rows = self.table(f"results_{population}")
            if rows is None:
                raise InputError(f"results directory {self.directory}: results_{population}.csv has no rows")
            self.labels.update(zip(rows["strategy"].astype(str), rows["label"].astype(str), strict=True))
        self.thresholds = self._find_thresholds()
        self.currency = self._find_currency()

    @property
    def has_psa(self) -> bool:
        """Whether the directory holds a PSA (its summary table)."""
        return self.table("psa_summary") is not None

    @property
    def has_dsa(self) -> bool:
        """Whether the directory holds a deterministic sensitivity analysis (``dsa/``)."""
        return (self.directory / "dsa").is_dir()

    def table(self, name: str) -> pd.DataFrame | None:
        """The table ``<name>.csv`` (``name`` may start with ``dsa/``), or None when absent or empty."""
        if name not in self._tables:
            path = self.directory / f"{name}.csv"
            try:  # the workbook must hold the very numbers of the CSV, not their neighbours
                frame = pd.read_csv(path, **_EXACT_FLOATS)
            except (FileNotFoundError, pd.errors.EmptyDataError):
                frame = None
            if frame is not None:
                stem = Path(name).name
                kinds = [k for k in _REQUIRED if stem == k or stem.startswith(f"{k}_")]
                required = _REQUIRED[max(kinds, key=len)] if kinds else ()
                missing = [c for c in required if c not in frame.columns]
                if missing:
                    raise InputError(f"{path}: has no column {', '.join(missing)}; it was not written by this "
                                     f"version of markov")
                if frame.empty:
                    frame = None
            self._tables[name] = frame
        return self._tables[name]

    def figure(self, name: str) -> Path | None:
        """The figure ``<name>.svg`` (sharp at any zoom), else ``<name>.png``, else None."""
        for suffix in (".svg", ".png"):
            path = self.directory / f"{name}{suffix}"
            if path.is_file():
                return path
        return None

    def figure_names(self) -> list[str]:
        """Every figure in the directory and in ``dsa/``, as ``figure`` takes it."""
        names = set()
        for folder, prefix in ((self.directory, ""), (self.directory / "dsa", "dsa/")):
            if folder.is_dir():
                names.update(prefix + path.stem for path in folder.iterdir() if path.suffix in (".svg", ".png"))
        return sorted(names)

    def label(self, strategy: object) -> str:
        """A strategy's label; ``a and b`` lists (the incremental analysis's dominators) label each."""
        if not isinstance(strategy, str):
            return ""
        return " and ".join(self.labels.get(part, part) for part in strategy.split(" and "))

    @staticmethod
    def _read_record(path: Path) -> dict[str, object]:
        """The run record ``path`` (provenance: analysis, version, seed, commands run...), {} if absent."""
        if not path.is_file():
            return {}
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            return {path.name: f"could not be read ({error})"}
        return content if isinstance(content, dict) else {path.name: f"not a JSON object: {content!r}"}

    def _find_thresholds(self) -> dict[str, float]:
        """Thresholds by name (``150000_USD``) from the NMB columns of the incremental analysis."""
        thresholds = {}
        for population in self.populations:
            frame = self.table(f"incremental_{population}")
            for column in frame.columns if frame is not None else ():
                match = _THRESHOLD_COLUMN.match(column)
                if match and match["stem"] == "nmb":
                    thresholds[f"{match['value']}_{match['currency']}"] = float(match["value"])
        return dict(sorted(thresholds.items(), key=lambda item: item[1]))

    def _find_currency(self) -> str:
        if isinstance(self.provenance.get("currency"), str):
            return self.provenance["currency"]
        if self.thresholds:
            return next(iter(self.thresholds)).rsplit("_", 1)[1]
        inputs = self.table("inputs")
        if inputs is not None and "currency" in inputs and inputs["currency"].notna().any():
            return str(inputs["currency"].mode().iloc[0])
        return ""

    def threshold_text(self, value: float) -> str:
        """A willingness to pay as headings show it: ``USD 150,000/QALY``."""
        return f"{self.currency} {value:,.0f}/QALY".strip()


# ---------------------------------------------------------------------------------
# Column headings, units and number formats
# ---------------------------------------------------------------------------------

def _general(value: float) -> str:
    """A number as a reviewer reads it: thousands separators, at most 4 decimals,
    scientific only for magnitudes below 0.001 (regression coefficients)."""
    if value == 0:
        return "0"
    if abs(value) < 1e-3 or abs(value) >= 1e15:
        return f"{value:.4g}"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.4f}".rstrip("0").rstrip(".")


# kind -> (HTML text of a finite number, Excel number format)
_FORMATS: dict[str, tuple[Callable[[float], str], str]] = {
    "money": (lambda x: f"{x:,.0f}", "#,##0"),
    "price": (lambda x: f"{x:,.2f}", "#,##0.00"),
    "dec3": (lambda x: f"{x:,.3f}", "0.000"),
    "prob": (lambda x: f"{x:.3f}", "0.000"),
    "share": (lambda x: f"{x:.1%}", "0.0%"),
    "int": (lambda x: f"{x:,.0f}", "#,##0"),
    "num": (_general, "#,##0.0###"),
}
# "text" is left-aligned and wraps; "span" is text set like a number (an interval, a
# pre-formatted value): right-aligned, on one line; "code" is an identifier, which may
# break after its dots and underscores; "prose" is free text, which may break anywhere
# (a long name in a note would otherwise widen its table past the page)

_HEADINGS: dict[str, tuple[str, str]] = {
    # heading ({cur} is the currency), kind
    "population": ("Population", "text"),
    "strategy": ("Strategy", "text"),
    "label": ("Label", "text"),
    "cost": ("Cost ({cur})", "money"),
    "life_years": ("Life years", "dec3"),
    "qalys": ("QALYs", "dec3"),
    "incremental_cost": ("Incremental cost ({cur})", "money"),
    "incremental_qalys": ("Incremental QALYs", "dec3"),
    "icer_per_qaly": ("ICER ({cur}/QALY)", "money"),
    "status": ("Status", "text"),
    "dominated_by": ("Dominated by", "text"),
    "compared_with": ("Compared with", "text"),
    "cost_mean": ("Cost, mean ({cur})", "money"),
    "cost_2.5%": ("Cost, 2.5th percentile ({cur})", "money"),
    "cost_97.5%": ("Cost, 97.5th percentile ({cur})", "money"),
    "qalys_mean": ("QALYs, mean", "dec3"),
    "life_years_mean": ("Life years, mean", "dec3"),
    "life_years_2.5%": ("Life years, 2.5th percentile", "dec3"),
    "life_years_97.5%": ("Life years, 97.5th percentile", "dec3"),
    "qalys_2.5%": ("QALYs, 2.5th percentile", "dec3"),
    "qalys_97.5%": ("QALYs, 97.5th percentile", "dec3"),
    "os_calibration_unreachable_samples": ("Samples with OS median unreachable", "int"),
    "general_population_floor_cycles": ("Cycles at general-population mortality", "int"),
    "comparator": ("Comparator", "text"),
    "n_samples": ("PSA samples", "int"),
    "mean_incremental_cost": ("Mean incremental cost ({cur})", "money"),
    "mean_incremental_effect": ("Mean incremental QALYs", "dec3"),
    "icer": ("ICER of the means ({cur}/QALY)", "money"),
    "icer_lower": ("ICER, interval lower bound ({cur}/QALY)", "money"),
    "icer_upper": ("ICER, interval upper bound ({cur}/QALY)", "money"),
    "interval_level": ("Interval level", "prob"),
    "interval_method": ("Interval method", "text"),
    "interval_note": ("Interval note", "text"),
    "wtp": ("Willingness to pay ({cur}/QALY)", "money"),
    "probability_cost_effective": ("Probability cost-effective", "prob"),
    "expected_net_benefit": ("Expected NMB ({cur})", "money"),
    "evpi": ("EVPI per patient ({cur})", "money"),
    "population_evpi": ("Population EVPI ({cur})", "money"),
    "evppi": ("EVPPI per patient ({cur})", "money"),
    "parameter": ("Input", "text"),
    "members": ("Inputs in the group", "text"),
    "method": ("Method", "text"),
    "description": ("Method details", "text"),
    "n": ("Samples", "int"),
    "comparison": ("Strategy (vs comparator)", "text"),
    "mean": ("Mean incremental NMB ({cur})", "money"),
    "lower": ("95% interval, lower ({cur})", "money"),
    "upper": ("95% interval, upper ({cur})", "money"),
    "outcome": ("Outcome", "text"),
    "source": ("Source", "text"),
    "measure": ("Measure", "text"),
    "reference": ("Reference", "text"),
    "time_months": ("Time (months)", "num"),
    "survival": ("Survival", "prob"),
    "reported": ("Reported", "num"),
    "reported_low": ("Reported, low", "num"),
    "reported_high": ("Reported, high", "num"),
    "model": ("Model", "num"),
    "reported_ci_low": ("Reported 95% CI, low", "num"),
    "reported_ci_high": ("Reported 95% CI, high", "num"),
    "value": ("Value", "num"),
    "unit": ("Unit", "text"),
    "currency": ("Currency", "text"),
    "price_year": ("Price year", "int"),
    "per": ("Per", "text"),
    "where": ("Where in the source", "text"),
    "ci95_low": ("95% CI, low", "num"),
    "ci95_high": ("95% CI, high", "num"),
    "range_low": ("Range, low", "num"),
    "range_high": ("Range, high", "num"),
    "distribution": ("PSA distribution", "text"),
    "calculation": ("Calculation", "text"),
    "note": ("Note", "text"),
    "used_by": ("Used by", "text"),
    "base": ("Base value", "num"),
    "low": ("Low value", "num"),
    "high": ("High value", "num"),
    "basis": ("Basis of the range", "text"),
    "low_input": ("Low input value", "num"),
    "high_input": ("High input value", "num"),
    "outcome_low": ("Outcome at the low value", "money"),
    "outcome_high": ("Outcome at the high value", "money"),
    "note_low": ("Note at the low value", "text"),
    "note_high": ("Note at the high value", "text"),
    "swing": ("Swing (|high − low|)", "money"),
    "rank": ("Rank", "int"),
    "scenario": ("Scenario (id)", "text"),
    "scenario_label": ("Scenario", "text"),
    "price": ("Price input", "text"),
    "intervention": ("Intervention", "text"),
    "base_price": ("Base price ({cur})", "price"),
    "threshold_price": ("Threshold price ({cur})", "price"),
    "ratio_to_base": ("Threshold / base price", "prob"),
    "direction": ("Direction", "text"),
    "best_strategy_at_threshold_price": ("Best strategy at the threshold price", "text"),
    "evaluations": ("Model evaluations", "int"),
    "on_frontier": ("Optimal (on the CEAF)", "text"),
}

_PREFIXES = (("cost_", "Cost: {rest} ({cur})", "money"), ("life_years_", "Life years: {rest}", "dec3"),
             ("qalys_", "QALYs: {rest}", "dec3"), ("share_", "Share of samples: {rest}", "share"))


def _describe(column: str, results: _Results) -> tuple[str, str]:
    """Heading (with its unit) and number kind of a CSV column."""
    cur = results.currency
    if column in _HEADINGS:
        heading, kind = _HEADINGS[column]
        return heading.format(cur=cur), kind
    match = _THRESHOLD_COLUMN.match(column)
    if match:
        at = results.threshold_text(float(match["value"]))
        stem = match["stem"]
        if stem == "nmb":
            return f"NMB at {at} ({cur})", "money"
        if stem == "probability_cost_effective":
            return f"Probability cost-effective at {at}", "prob"
        if stem == "probability_cost_effective_vs_comparator":
            return f"Probability cost-effective vs comparator at {at}", "prob"
    for prefix, heading, kind in _PREFIXES:
        if column.startswith(prefix):
            return heading.format(rest=column.removeprefix(prefix).replace("_", " "), cur=cur), kind
    return column.replace("_", " ").capitalize(), "text"


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _text(value: object, kind: str) -> str:
    """A cell's text in the HTML page (not escaped)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if _is_number(value) and kind in _FORMATS:
        value = float(value)
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        text = _FORMATS[kind][0](value)
        # a difference of 1e-15 is no difference: never print "-0.000"
        return text[1:] if text.startswith("-") and not text.strip("-0.,%") else text
    return str(value)


# ---------------------------------------------------------------------------------
# Shared selections of the tables
# ---------------------------------------------------------------------------------

def _at_thresholds(frame: pd.DataFrame, results: _Results) -> pd.DataFrame:
    """The rows of a curve (a ``wtp`` column) at the thresholds (written exactly on its grid)."""
    values = list(results.thresholds.values())
    return frame[np.isin(frame["wtp"].to_numpy(), values)]


def _ceac_long(results: _Results) -> pd.DataFrame | None:
    """CEAC of every population in long format, flagged where the strategy is on the frontier."""
    frames = []
    for population in results.populations:
        ceac, ceaf = results.table(f"ceac_{population}"), results.table(f"ceaf_{population}")
        if ceac is None:
            continue
        long = ceac.melt(id_vars="wtp", var_name="strategy", value_name="probability_cost_effective")
        if ceaf is not None:
            optimal = set(zip(ceaf["wtp"], ceaf["strategy"], strict=True))
            long["on_frontier"] = ["yes" if (w, s) in optimal else ""
                                   for w, s in zip(long["wtp"], long["strategy"], strict=True)]
        long.insert(0, "population", population)
        frames.append(long)
    return pd.concat(frames, ignore_index=True) if frames else None


def _evpi_at_thresholds(results: _Results) -> pd.DataFrame | None:
    frames = []
    for population in results.populations:
        evpi = results.table(f"evpi_{population}")
        if evpi is not None:
            frames.append(_at_thresholds(evpi, results).assign(population=population))
    if not frames:
        return None
    table = pd.concat(frames, ignore_index=True)
    return table[["population", *[c for c in table.columns if c != "population"]]]


def _tornado_long(results: _Results) -> pd.DataFrame | None:
    frames = []
    for population in results.populations:
        for measure, name in (("nmb", "Incremental NMB ({cur})"), ("icer", "ICER ({cur}/QALY)")):
            table = results.table(f"dsa/tornado_{measure}_{population}")
            if table is not None:
                frames.append(table.assign(population=population, measure=name.format(cur=results.currency),
                                           rank=np.arange(1, len(table) + 1)))
    if not frames:
        return None
    table = pd.concat(frames, ignore_index=True)
    ranges = results.table("dsa/dsa_ranges")
    if ranges is not None and {"low", "high"} <= set(ranges.columns):
        # the tornado tables hold the values as printed on the bars ("15,709"): numbers are in the ranges
        by_reference = ranges.drop_duplicates("reference").set_index("reference")
        for column, bound in (("low_input", "low"), ("high_input", "high")):
            table[column] = table["reference"].map(by_reference[bound]).astype(object).fillna(table[column])
    first = ["population", "measure", "rank"]
    return table[first + [c for c in table.columns if c not in first]]


def _stack(results: _Results, stem: str) -> pd.DataFrame | None:
    """``<stem>_<population>.csv`` of every population, one below the other."""
    frames = [results.table(f"{stem}_{p}") for p in results.populations]
    frames = [f for f in frames if f is not None]
    return pd.concat(frames, ignore_index=True) if frames else None


def _with_labels(frame: pd.DataFrame, results: _Results, after: str = "strategy") -> pd.DataFrame:
    """``frame`` with a ``label`` column (the strategy's label) after its ``strategy`` column."""
    if "label" in frame.columns:
        return frame
    frame = frame.copy()
    frame.insert(frame.columns.get_loc(after) + 1, "label", [results.label(s) for s in frame[after]])
    return frame


def _pick(frame: pd.DataFrame, *names: str) -> pd.Series:
    """Column ``names[0]`` of ``frame`` with its gaps filled from the next names (NaN where none has a value)."""
    picked = pd.Series(np.nan, index=frame.index)
    for name in names:
        if name in frame:
            picked = picked.fillna(frame[name])
    return picked


def _not_run(results: _Results) -> dict[str, str]:
    """Why each optional part is missing, by part."""
    where = results.directory
    reasons = {}
    if not results.has_psa:
        reasons["psa"] = (f"The probabilistic sensitivity analysis was not run: {where} has no psa_summary.csv "
                          f"(`markov run --psa N --out {where}` writes it).")
    if not results.has_dsa:
        reasons["dsa"] = (f"The deterministic sensitivity analysis was not run: {where} has no dsa/ subdirectory "
                          f"(`markov dsa --out {where / 'dsa'}` writes it).")
    return reasons


# ---------------------------------------------------------------------------------
# Workbook
# ---------------------------------------------------------------------------------

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_WRAP_AT = 60  # characters: longer text wraps in a column this wide


def _cell_value(value: object) -> object:
    """A value openpyxl writes as Excel reads it: Python numbers, no NaN or infinity
    (Excel has neither: an empty cell, the row's note or status says why), text that
    is never taken for a formula and has no control characters."""
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if _is_number(value):
        value = value.item() if isinstance(value, np.generic) else value
        return value if math.isfinite(value) else None
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _number_format(kind: str, value: float) -> str:
    if kind == "num":  # inputs of every unit in one column: the format follows the value
        if value != 0 and abs(value) < 1e-3:
            return "0.000E+00"
        if float(value).is_integer():
            return "#,##0"
    return _FORMATS[kind][1]


def _write_sheet(book: Workbook, title: str, frame: pd.DataFrame | None, results: _Results, missing: str
                 ) -> None:
    """One table on its own sheet: bold frozen header with a filter, formatted numbers,
    widths to fit; or, without a table, the sentence ``missing``."""
    sheet = book.create_sheet(title)
    if frame is None:
        sheet["A1"] = missing
        sheet["A1"].font = Font(italic=True)
        sheet.column_dimensions["A"].width = 120
        return
    described = [_describe(c, results) for c in frame.columns]
    sheet.append([heading for heading, _ in described])
    for cell in sheet[1]:
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = [min(max(len(heading) // 2, 8), 30) for heading, _ in described]  # headings wrap onto two lines
    for values in frame.itertuples(index=False):
        row = [_cell_value(v) for v in values]
        sheet.append(row)
        for j, (cell, value, (_, kind)) in enumerate(zip(sheet[sheet.max_row], row, described, strict=True)):
            if isinstance(value, str):
                cell.data_type = "s"  # text such as "=..." stays text: a CSV cannot inject a formula
                if len(value) > _WRAP_AT:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                widths[j] = max(widths[j], min(len(value), _WRAP_AT))
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                if isinstance(value, float):
                    # openpyxl writes a float with 16 significant digits ("%.16g"), one short of
                    # what a double needs: its shortest exact text keeps the very number of the CSV
                    cell._value = repr(value)
                if kind in _FORMATS:
                    cell.number_format = _number_format(kind, value)
                    widths[j] = max(widths[j], len(_text(value, kind)) + 1)
    for j, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(j)].width = width + 2
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions


_PROVENANCE_KEYS = {"psa_samples": "PSA samples", "created_utc": "created (UTC)", "finished_utc": "finished (UTC)"}


def _flatten(record: dict, prefix: str = "") -> list[tuple[str, str]]:
    """Items of a run record as (name, text); nested ones (such as the commands run) as ``outer › inner``."""
    rows = []
    for key, value in record.items():
        name = _PROVENANCE_KEYS.get(str(key), str(key).replace("_", " "))
        name = f"{prefix} › {name}" if prefix else name[:1].upper() + name[1:]
        if isinstance(value, dict) and value:
            rows += _flatten(value, name)
        else:
            rows.append((name, value if isinstance(value, str) else json.dumps(value)))
    return rows


def _provenance_rows(results: _Results) -> list[tuple[str, str]]:
    """Each item of run.json (whatever it holds) and those of dsa/run.json it lacks, the
    directory and the time of writing."""
    rows = _flatten(results.provenance)
    rows += [(f"DSA › {name}", text) for name, text in _flatten(results.dsa_provenance) if (name, text) not in rows]
    if not rows:
        rows = [("run.json", "absent: no provenance recorded with these results")]
    return rows + [("Results directory", str(results.directory.resolve())),
                   ("Report written (UTC)", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"))]


def _sheets(results: _Results) -> list[tuple[str, pd.DataFrame | None, str, str]]:
    """(sheet, table, what it is, why it may be missing) of the workbook after Contents."""
    reasons = _not_run(results)
    psa, dsa = reasons.get("psa"), reasons.get("dsa")
    inputs = results.table("inputs")
    base = pd.concat([results.table(f"results_{p}") for p in results.populations], ignore_index=True)
    incremental = _stack(results, "incremental")
    icer = _stack(results, "icer_summary")
    scenarios, prices = results.table("dsa/scenarios"), results.table("dsa/threshold_prices")
    evppi = _stack(results, "evppi")
    return [
        ("Inputs", inputs, "Every model input: value, unit, price year, evidence status, source and where in it, "
         "ranges and PSA distribution (inputs.csv).", "No inputs.csv in the results directory."),
        ("Base case", base, "Base-case cost (total, by category and by health state), life years and QALYs of each "
         "strategy, per population (results_<population>.csv).", ""),
        ("Incremental analysis", _with_labels(incremental, results) if incremental is not None else None,
         "Strategies by cost with dominance, ICERs along the frontier and net monetary benefit at each threshold "
         "(incremental_<population>.csv).", "No incremental_<population>.csv in the results directory."),
        ("Calibration", results.table("calibration"), "Modelled survival against the reported medians and "
         "landmark survival it was calibrated to (calibration.csv).", "No calibration.csv in the results directory."),
        ("PSA summary", results.table("psa_summary"), "Mean and 95% interval of cost and QALYs, and probability "
         "that each strategy has the highest NMB at each threshold (psa_summary.csv).", psa),
        ("ICER summary", _with_labels(icer, results) if icer is not None else None,
         "Each strategy against the comparator over the PSA samples: mean increments, ICER of the means and its "
         "interval, quadrant shares of the CE plane (icer_summary_<population>.csv).", psa),
        ("EVPI", _evpi_at_thresholds(results), "Expected value of perfect information per patient at each threshold "
         "(the whole curve is in evpi_<population>.csv).", psa),
        ("EVPPI", evppi, "Expected value of partial perfect information per patient of each input and of each "
         "source's inputs together (evppi_<population>.csv).",
         psa or f"EVPPI was not computed: it needs at least {MIN_EVPPI_SAMPLES} PSA samples and is skipped by "
         "--no-evppi."),
        ("CEAC", _ceac_long(results), "Probability that each strategy is cost-effective at each willingness to pay, "
         "long format, with the strategy on the frontier (ceac_ and ceaf_<population>.csv).", psa),
        ("DSA", _tornado_long(results), "One-way sensitivity: outcome at each input's low and high value, by swing "
         "(dsa/tornado_nmb_ and tornado_icer_<population>.csv); empty outcome: see the note.", dsa),
        ("DSA ranges", results.table("dsa/dsa_ranges"), "Low and high value of each input in the one-way analysis "
         "and the basis of the range (dsa/dsa_ranges.csv).", dsa),
        ("Scenarios", _with_labels(scenarios, results) if scenarios is not None else None, "Base case and each "
         "scenario: results and incremental analysis (dsa/scenarios.csv).", dsa or "No scenarios were run."),
        ("Threshold prices", prices, "Price of each first-line drug of the intervention at which its ICER against "
         "the comparator equals each threshold (dsa/threshold_prices.csv).",
         dsa or "No threshold prices: the intervention has no priced first-line drug."),
    ]


def _write_contents(sheet: Worksheet, results: _Results, sheets: Sequence[tuple[str, pd.DataFrame | None, str, str]]
                    ) -> None:
    title = results.provenance.get("analysis", results.directory.name)
    sheet.append([f"Cost-effectiveness results: {title}"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([])

    def block(heading: str, rows: Iterable[Sequence[object]], header: Sequence[str]) -> int:
        """Append a titled table; returns the row number of its first row of values."""
        sheet.append([heading])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True, size=12)
        sheet.append(list(header))
        for cell in sheet[sheet.max_row]:
            cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        first = sheet.max_row + 1
        for row in rows:
            sheet.append([_cell_value(v) for v in row])
            for cell in sheet[sheet.max_row]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula
        sheet.append([])
        return first

    block("Provenance", _provenance_rows(results), ("Item", "Value"))
    first = block("Sheets", [(name, description if frame is not None else f"NOT RUN. {missing}")
                     for name, frame, description, missing in sheets], ("Sheet", "Contents"))
    for row, (name, *_) in enumerate(sheets, start=first):
        cell = sheet.cell(row, 1)
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{name}'!A1", display=name)
        cell.style = "Hyperlink"
    block("Evidence status of the inputs", STATUS_MEANING.items(), ("Status", "Meaning"))
    block("Conventions", [
        ("Numbers", "Every number is stored unrounded; the display format rounds it (costs to whole "
                    f"{results.currency or 'currency units'}, QALYs and life years to 3 decimals)."),
        ("Empty numeric cell", "Not defined (an ICER of a dominated strategy, an interval that does not exist); the "
                               "status or note column of the row says why."),
    ], ("Item", "Meaning"))
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 110


def write_workbook(results_dir: Path | str, path: Path | str) -> Path:
    """Write the Excel workbook of a results directory.

    Parameters
    ----------
    results_dir : Path or str
        Directory written by ``markov run`` (and ``markov dsa`` into its ``dsa/``).
    path : Path or str
        The ``.xlsx`` file to write; its directory is created.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        When ``results_dir`` has no base-case results or a table lacks a column.
    """
    return _write_workbook(_Results(results_dir), Path(path))


def _write_workbook(results: _Results, path: Path) -> Path:
    book = Workbook()
    contents = book.active
    contents.title = "Contents"
    sheets = _sheets(results)
    for name, frame, _, missing in sheets:
        _write_sheet(book, name, frame, results, f"Not run. {missing}")
    _write_contents(contents, results, sheets)
    return _replace(path, book.save)


def _replace(path: Path, write: Callable[[Path], object]) -> Path:
    """Write through a temporary name, so that an interrupted run never leaves half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    write(partial)
    os.replace(partial, path)
    return path


# ---------------------------------------------------------------------------------
# HTML page
# ---------------------------------------------------------------------------------

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
    text = _esc(_text(value, kind))
    if kind == "code":  # long input names would otherwise widen the table past the page
        text = re.sub(r"([._])", r"\1<wbr>", text)
    return text


def _anchor(*parts: str) -> str:
    """An id from population names and the like: only characters safe in a fragment."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", "-".join(parts)).strip("-")


def _data_uri(path: Path) -> str:
    mime = "image/svg+xml" if path.suffix == ".svg" else "image/png"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


class _Page:
    """The HTML page as it is built: body parts, contents entries, table and figure numbers."""

    def __init__(self, results: _Results) -> None:
        self.results = results
        self.parts: list[str] = []
        self.contents: list[tuple[int, str, str]] = []  # (level, anchor, text)
        self.tables = 0
        self.figures = 0
        self.shown: set[str] = set()  # figures embedded so far

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
        described = [(headings or {}).get(c) or _describe(c, self.results) for c in columns]
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

    def figure(self, name: str, caption: str, missing: str | None = None) -> None:
        """Figure ``name`` of the results directory, numbered, embedded; else the sentence ``missing``."""
        path = self.results.figure(name)
        if path is None:
            if missing:
                self.not_run(missing)
            return
        self.figures += 1
        self.shown.add(name)
        self.parts.append(
            f'<figure id="{_esc(_anchor("figure", name))}"><img src="{_data_uri(path)}" alt="{_esc(caption)}">'
            f"<figcaption><b>Figure {self.figures}.</b> {_esc(caption)} <span>({_esc(path.name)})</span>"
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


def _provenance_html(results: _Results) -> str:
    rows = "".join(f'<tr><th scope="row">{_esc(key)}</th><td>{_esc(value)}</td></tr>'
                   for key, value in _provenance_rows(results))
    return f'<section id="provenance"><table class="provenance"><caption>Provenance</caption>{rows}</table></section>'


def _base_case(page: _Page) -> None:
    results = page.results
    page.heading(2, "1. Base case and incremental analysis", "base-case")
    page.paragraph("Deterministic results at the base-case value of every input: discounted costs and QALYs per "
                   "patient, and the incremental analysis along the cost-effectiveness frontier.")
    for population in results.populations:
        page.heading(3, f"Population {population}", _anchor("base", population))
        rows = results.table(f"results_{population}")
        categories = [c for c in rows.columns if c.startswith("cost_") and (c.endswith("_drugs") or c[5:] in COMMON_CATEGORIES)]
        measures = ["cost", *categories, "life_years", "qalys"]
        # strategies side by side, one measure a row: the layout of a dossier's base-case table
        by_measure = pd.DataFrame({"measure": [_describe(m, results)[0] for m in measures]})
        headings = {"measure": ("Per patient", "text")}
        for k, row in enumerate(rows.itertuples(index=False)):
            values = rows.iloc[k]
            by_measure[f"s{k}"] = [_text(values[m], _describe(m, results)[1]) for m in measures]
            headings[f"s{k}"] = (str(row.label), "span")
        page.table(by_measure, list(headings), f"Base-case results per patient, {population}: discounted cost in "
                   "total and by category, life years and QALYs of each strategy.",
                   _anchor("table-results", population), headings=headings)
        incremental = results.table(f"incremental_{population}")
        if incremental is None:
            page.not_run(f"No incremental analysis for {population}: incremental_{population}.csv is missing.")
        else:
            status = []
            for row in incremental.itertuples(index=False):
                text = str(row.status)
                if isinstance(getattr(row, "dominated_by", None), str):
                    text += f" by {results.label(row.dominated_by)}"
                elif isinstance(getattr(row, "compared_with", None), str):
                    text += f", vs {results.label(row.compared_with)}"
                status.append(text)
            shown = incremental.assign(label=[results.label(s) for s in incremental["strategy"]], status=status)
            nmb = [c for c in incremental.columns if c.startswith("nmb_at_")]
            page.table(shown, ["label", "cost", "qalys", "incremental_cost", "incremental_qalys", "icer_per_qaly",
                               "status", *nmb],
                       f"Incremental analysis, {population}: strategies by cost, with increments and ICERs against "
                       "the previous strategy on the frontier, and net monetary benefit (NMB) at each threshold.",
                       _anchor("table-incremental", population), headings={"label": ("Strategy", "text")})
        page.figure(f"occupancy_{population}", f"State occupancy over time in the base case, {population}: the "
                    "share of the cohort in each health state, for each strategy.")


def _calibration(page: _Page) -> None:
    results = page.results
    page.heading(2, "2. Calibration", "calibration")
    table = results.table("calibration")
    if table is None:
        page.not_run("No calibration table: calibration.csv is missing.")
    for population in results.populations:
        page.heading(3, f"Population {population}", _anchor("calibration", population))
        if table is not None:
            rows = table[table["population"] == population]
            low = _pick(rows, "reported_low", "reported_ci_low")
            high = _pick(rows, "reported_high", "reported_ci_high")
            shown = rows.assign(
                interval=[f"{_general(a)} to {_general(b)}" if np.isfinite(a) and np.isfinite(b) else "–"
                          for a, b in zip(low, high, strict=True)],
                difference=rows["model"] - rows["reported"])
            page.table(shown, ["label", "outcome", "measure", "reported", "interval", "model", "difference"],
                       f"Calibration targets and modelled values, {population}: medians in months, survival as a "
                       "proportion alive.", _anchor("table-calibration", population),
                       headings={"label": ("Strategy", "text"), "interval": ("Reported 95% CI", "span"),
                                 "model": ("Model", "dec3"), "difference": ("Model − reported", "dec3")})
            page.notes(f"Source: {source}" for source in dict.fromkeys(rows["source"].dropna()))
        page.figure(f"calibration_{population}", f"Calibration, {population}: modelled overall and progression-free "
                    "survival of each strategy against the reported medians and landmark survival, with their "
                    "confidence intervals.")


def _psa(page: _Page) -> None:
    results = page.results
    page.heading(2, "3. Probabilistic sensitivity analysis", "psa")
    reason = _not_run(results).get("psa")
    if reason:
        page.not_run(reason)
        return
    n = results.provenance.get("psa_samples")
    icer = _stack(results, "icer_summary")
    if n is None and icer is not None:
        n = int(icer["n_samples"].iloc[0])
    if n is not None:
        page.paragraph(f"{n:,} samples of every uncertain input from its distribution (see the inputs section)."
                       if isinstance(n, int) else f"Samples: {n}.")
    summary = results.table("psa_summary")
    probability = [c for c in summary.columns if c.startswith("probability_cost_effective_at_")]
    for population in results.populations:
        page.heading(3, f"Population {population}", _anchor("psa", population))
        rows = _with_labels(summary[summary["population"] == population], results)
        intervals = {f"{measure}_interval": [f"{_FORMATS[kind][0](a)} to {_FORMATS[kind][0](b)}" for a, b in
                                             zip(rows[f"{measure}_2.5%"], rows[f"{measure}_97.5%"], strict=True)]
                     for measure, kind in (("cost", "money"), ("qalys", "dec3"))}
        extra = ["os_calibration_unreachable_samples"] if "os_calibration_unreachable_samples" in rows else []
        page.table(rows.assign(**intervals), ["label", "cost_mean", "cost_interval", "qalys_mean",
                                              "qalys_interval", *probability, *extra],
                   f"PSA summary, {population}: mean and 95% interval (2.5th to 97.5th percentile) of cost and "
                   "QALYs, and the probability that each strategy has the highest NMB.",
                   _anchor("table-psa-summary", population),
                   headings={"label": ("Strategy", "text"),
                             "cost_interval": (f"Cost, 95% interval ({results.currency})", "span"),
                             "qalys_interval": ("QALYs, 95% interval", "span")})
        _icer_summary(page, population)
        page.figure(f"ce_plane_{population}", f"Cost-effectiveness plane, {population}: incremental cost and QALYs "
                    "of each strategy against the comparator in each PSA sample, with the willingness-to-pay line.",
                    f"No cost-effectiveness plane for {population} (ce_plane_{population} is missing).")
        _acceptability(page, population)
        _value_of_information(page, population)
        _convergence(page, population)


def _icer_summary(page: _Page, population: str) -> None:
    results = page.results
    table = results.table(f"icer_summary_{population}")
    if table is None:
        page.not_run(f"No ICER summary for {population}: icer_summary_{population}.csv is missing.")
        return
    shown = table.assign(
        label=[results.label(s) for s in table["strategy"]],
        interval=[f"{a:,.0f} to {b:,.0f}" if np.isfinite(a) and np.isfinite(b) else "none (see note)"
                  for a, b in zip(_pick(table, "icer_lower"), _pick(table, "icer_upper"), strict=True)])
    probability = [c for c in table.columns if c.startswith("probability_cost_effective_vs_comparator_at_")]
    quadrants = {f"share_{q}": (q, "share") for q in ("NE", "NW", "SE", "SW") if f"share_{q}" in table}
    comparators = " or ".join(dict.fromkeys(results.label(c) for c in table["comparator"]))
    page.table(shown, ["label", "mean_incremental_cost", "mean_incremental_effect", "icer", "interval", *probability,
                       *quadrants],
               f"ICER distribution, {population}: each strategy against {comparators} over the PSA samples, and the "
               "share of samples in each quadrant of the cost-effectiveness plane (NE: more costly and more "
               "effective; NW: more costly, less effective; SE: less costly, more effective; SW: less costly, less "
               "effective).", _anchor("table-icer-summary", population),
               headings={"label": ("Strategy", "text"), **quadrants,
                         "interval": (f"ICER 95% interval ({results.currency}/QALY)", "span")})
    if "interval_note" in table:
        page.notes(f"{results.label(s)}: {note}"
                   for s, note in zip(table["strategy"], table["interval_note"], strict=True) if isinstance(note, str))


def _acceptability(page: _Page, population: str) -> None:
    results = page.results
    ceaf = results.table(f"ceaf_{population}")
    if ceaf is not None and results.thresholds:  # the probabilities at the thresholds are in the PSA summary
        optimal = _at_thresholds(ceaf, results)
        page.paragraph("Strategy with the highest expected NMB (on the acceptability frontier): " + "; ".join(
            f"{s} at {results.threshold_text(w)}" for w, s in zip(optimal["wtp"], optimal["strategy"], strict=True))
            + ".")
    page.figure(f"ceac_{population}", f"Cost-effectiveness acceptability curves and frontier, {population}: the "
                "probability that each strategy has the highest net monetary benefit at each willingness to pay; the "
                "band marks the strategy with the highest expected NMB (CEAF).",
                f"No acceptability curves for {population} (ceac_{population} is missing).")


def _value_of_information(page: _Page, population: str) -> None:
    results = page.results
    page.heading(4, f"Value of information, {population}", _anchor("voi", population))
    evpi = results.table(f"evpi_{population}")
    if evpi is None:
        page.not_run(f"No EVPI for {population}: evpi_{population}.csv is missing.")
    else:
        columns = ["wtp", "evpi", *(["population_evpi"] if "population_evpi" in evpi else [])]
        page.table(_at_thresholds(evpi, results), columns, f"Expected value of perfect information at the "
                   f"thresholds, {population}.", _anchor("table-evpi", population))
    page.figure(f"evpi_{population}", f"Expected value of perfect information per patient by willingness to pay, "
                f"{population}.")
    page.figure(f"evpi_population_{population}", f"Population EVPI by willingness to pay, {population}.")
    evppi = results.table(f"evppi_{population}")
    if evppi is None:
        page.not_run(f"EVPPI was not computed for {population}: it needs at least {MIN_EVPPI_SAMPLES} PSA samples "
                     "and is skipped by --no-evppi.")
        return
    top = evppi.sort_values("evppi", ascending=False, kind="stable").head(TOP_ROWS)
    count = [len(str(m).split(", ")) for m in top["members"]]
    shown = top.assign(parameter=[f"{p} (all {c} inputs of this source)" if c > 1 else p
                                  for p, c in zip(top["parameter"], count, strict=True)])
    wtp = f" at {results.threshold_text(float(evppi['wtp'].iloc[0]))}" if "wtp" in evppi else ""
    page.table(shown, ["parameter", "evppi", *(["method"] if "method" in evppi else [])],
               f"EVPPI per patient{wtp}, {population}: the {len(top)} largest of {len(evppi)} inputs and "
               "groups of inputs.", _anchor("table-evppi", population))
    page.figure(f"evppi_{population}", f"Expected value of partial perfect information per patient{wtp}, "
                f"{population}: the inputs, and the sources' inputs together, worth most to learn.")


def _convergence(page: _Page, population: str) -> None:
    results = page.results
    table = results.table(f"convergence_{population}")
    if table is not None:
        last = table[table["n"] == table["n"].max()]
        page.table(last, ["comparison", "n", "mean", "lower", "upper"], f"Incremental NMB against the comparator "
                   f"with all samples, {population}, and its 95% Monte Carlo interval.",
                   _anchor("table-convergence", population))
    page.figure(f"convergence_{population}", f"Convergence of the PSA, {population}: running mean of the "
                "incremental net monetary benefit against the comparator, with its 95% Monte Carlo interval.")


def _dsa(page: _Page) -> None:
    results = page.results
    page.heading(2, "4. Deterministic sensitivity analysis", "dsa")
    reason = _not_run(results).get("dsa")
    if reason:
        page.not_run(reason)
        return
    page.paragraph("Each input at the low and the high value of its range (evidence range, else the 2.5% and 97.5% "
                   "quantiles of its distribution), all others at their base-case values.")
    for population in results.populations:
        page.heading(3, f"Population {population}", _anchor("dsa", population))
        for measure, name, short, unit in (("nmb", "incremental NMB", "Incremental NMB", results.currency),
                                           ("icer", "ICER", "ICER", f"{results.currency}/QALY")):
            table = results.table(f"dsa/tornado_{measure}_{population}")
            figure = results.figure(f"dsa/tornado_{measure}_{population}")
            if table is None:
                page.not_run(f"No {name} tornado for {population}: dsa/tornado_{measure}_{population}.csv is "
                             "missing.")
                continue
            if figure is None and measure == "icer":
                page.not_run(f"No ICER tornado for {population}: the base-case ICER of the comparison is not "
                             "finite (the intervention is dominated or dominant), so the NMB tornado is the one to "
                             "read.")
                continue
            top = table.sort_values("swing", ascending=False, kind="stable", na_position="last").head(TOP_ROWS)
            page.table(top, ["parameter", "low_input", "high_input", "outcome_low", "outcome_high", "swing"],
                       f"One-way sensitivity of the {name}, {population}: the {len(top)} inputs with the largest "
                       f"swing of {len(table)} (all in the workbook).", _anchor("table-tornado", measure, population),
                       headings={"parameter": ("Input", "text"), "low_input": ("Low value", "span"),
                                 "high_input": ("High value", "span"),
                                 "outcome_low": (f"{short} at the low value ({unit})", "money"),
                                 "outcome_high": (f"{short} at the high value ({unit})", "money"),
                                 "swing": (f"Swing ({unit})", "money")})
            page.figure(f"dsa/tornado_{measure}_{population}", f"Tornado diagram of the {name}, {population}: the "
                        "outcome at each input's low and high value, inputs by swing.")
        page.figure(f"dsa/two_way_{population}", f"Two-way sensitivity analysis, {population}: incremental NMB over "
                    "the ranges of the two inputs with the largest one-way swing; the marker is the base case.",
                    f"No two-way analysis for {population} (it needs at least two inputs in the tornado).")
        page.figure(f"dsa/two_way_optimal_{population}", f"Strategy with the highest NMB over the same two-way grid, "
                    f"{population}.")
    _scenarios(page)
    _threshold_prices(page)


def _scenarios(page: _Page) -> None:
    results = page.results
    page.heading(3, "Scenario analyses", "scenarios")
    table = results.table("dsa/scenarios")
    if table is None:
        page.not_run("No scenarios were run (dsa/scenarios.csv is missing).")
        return
    for population, rows in table.groupby("population", sort=False):
        page.table(rows, ["label", "cost", "qalys", "incremental_cost", "incremental_qalys", "icer_per_qaly",
                          "status"], f"Scenario analyses, {population}: each scenario's incremental analysis.",
                   _anchor("table-scenarios", str(population)), headings={"label": ("Strategy", "text")},
                   group="scenario_label")


def _threshold_prices(page: _Page) -> None:
    results = page.results
    page.heading(3, "Threshold prices", "threshold-prices")
    table = results.table("dsa/threshold_prices")
    if table is None:
        page.not_run("No threshold prices (dsa/threshold_prices.csv is missing): the intervention has no priced "
                     "first-line drug.")
        return
    shown = table.assign(comparison=[f"{results.label(a)} vs {results.label(b)}"
                                     for a, b in zip(table["intervention"], table["comparator"], strict=True)])
    columns = ["label", "population", "comparison", "wtp", "base_price", "threshold_price", "ratio_to_base",
               "direction", "best_strategy_at_threshold_price"]
    page.table(shown, [c for c in columns if c in shown], "Price of each first-line drug of the intervention at "
               "which the intervention's ICER against the comparator equals the threshold.", "table-threshold-prices",
               headings={"label": ("Price", "text"), "comparison": ("Comparison", "text")})
    if "note" in table:
        notes = zip(table["label"], table["population"], table["note"], strict=True)
        page.notes(dict.fromkeys(f"{label}, {population}: {note}" for label, population, note in notes
                                 if isinstance(note, str)))


def _inputs(page: _Page) -> None:
    results = page.results
    page.heading(2, "5. Inputs and sources", "inputs")
    table = results.table("inputs")
    if table is None:
        page.not_run("No inputs table: inputs.csv is missing.")
        return
    page.paragraph("Evidence status: " + "; ".join(f"{k}: {v}" for k, v in STATUS_MEANING.items()) + ".")

    def unit(row: pd.Series) -> str:
        if row["unit"] != "money":
            return str(row["unit"]).replace("_", " ")
        year = row.get("price_year")
        parts = [row.get("currency"), f"{year:.0f}" if _is_number(year) and np.isfinite(year) else None,
                 f"per {row['per']}" if isinstance(row.get("per"), str) else None]
        return " ".join(str(p) for p in parts if isinstance(p, str) and p)

    def span(row: pd.Series, low: str, high: str) -> str:
        a, b = row.get(low), row.get(high)
        return f"{_general(a)} to {_general(b)}" if _is_number(a) and _is_number(b) and np.isfinite(a) else "–"

    def detail(row: pd.Series) -> str:
        return " ".join(str(row[c]) for c in ("where", "calculation", "note") if isinstance(row.get(c), str))

    rows = [row for _, row in table.iterrows()]
    shown = table.assign(unit=[unit(r) for r in rows], ci=[span(r, "ci95_low", "ci95_high") for r in rows],
                         ranges=[span(r, "range_low", "range_high") for r in rows],
                         detail=[detail(r) for r in rows], source=[" ".join(str(s).split()) for s in table["source"]])
    # rows of a source together, sources in the order they first appear
    shown = shown.iloc[np.argsort(pd.factorize(shown["source"])[0], kind="stable")]
    page.table(shown, ["reference", "value", "unit", "status", "distribution", "ci", "ranges", "detail"],
               f"The {len(table)} model inputs, by source: value, unit, evidence status, PSA distribution, 95% "
               "confidence interval and range (for sensitivity analyses), and where in the source.", "table-inputs",
               group="source", wide=True,
               headings={"reference": ("Input", "code"), "ci": ("95% CI", "span"), "ranges": ("Range", "span"),
                         "detail": ("Where / calculation / note", "prose")})


def _other_figures(page: _Page) -> None:
    """Figures of the directory that no section shows (such as those of later analyses)."""
    rest = [name for name in page.results.figure_names() if name not in page.shown]
    if rest:
        page.heading(2, "6. Other figures", "other-figures")
        for name in rest:
            page.figure(name, f"{name.replace('dsa/', '')}.")


def write_html(results_dir: Path | str, path: Path | str) -> Path:
    """Write the self-contained HTML report of a results directory.

    Parameters
    ----------
    results_dir : Path or str
        Directory written by ``markov run`` (and ``markov dsa`` into its ``dsa/``).
    path : Path or str
        The ``.html`` file to write; its directory is created.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        When ``results_dir`` has no base-case results or a table lacks a column.
    """
    return _write_html(_Results(results_dir), Path(path))


def _write_html(results: _Results, path: Path) -> Path:
    page = _Page(results)
    for section in (_base_case, _calibration, _psa, _dsa, _inputs, _other_figures):
        section(page)
    title = f"Cost-effectiveness report: {results.provenance.get('analysis', results.directory.name)}"
    populations = ", ".join(results.populations)
    subtitle = (f"Populations: {populations}. Currency: {results.currency or 'not stated'}. Thresholds: "
                + (", ".join(results.threshold_text(v) for v in results.thresholds.values()) or "none") + ".")
    text = page.render(title, subtitle, _provenance_html(results))
    return _replace(path, lambda partial: partial.write_text(text, encoding="utf-8"))


def write_reports(results_dir: Path | str, out_dir: Path | str | None = None) -> list[Path]:
    """Write ``report.xlsx`` and ``report.html`` of a results directory.

    Parameters
    ----------
    results_dir : Path or str
        Directory written by ``markov run`` (and ``markov dsa`` into its ``dsa/``).
    out_dir : Path or str, optional
        Where to write the reports (default: ``results_dir``).

    Returns
    -------
    list of Path
        The workbook and the HTML page.

    Raises
    ------
    InputError
        When ``results_dir`` has no base-case results or a table lacks a column.
    """
    results = _Results(results_dir)
    out = Path(results_dir if out_dir is None else out_dir)
    return [_write_workbook(results, out / "report.xlsx"), _write_html(results, out / "report.html")]
