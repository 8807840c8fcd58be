"""The Excel workbook of a results directory: a Contents sheet (provenance, links to the
sheets, conventions), then one sheet per table, every number as a number (formatted,
not rounded) so that a reviewer can recompute."""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from .._files import write_atomically
from ..decision.voi import MIN_EVPPI_SAMPLES
from ..inputs.evidence import STATUS_MEANING
from ..results import (
    CALIBRATION,
    CEAC,
    CEAF,
    DSA_RANGES,
    EVPI,
    EVPPI,
    ICER_SUMMARY,
    INCREMENTAL,
    INPUTS,
    MODEL_VS_DATA,
    MODEL_VS_DATA_SUMMARY,
    PSA_SUMMARY,
    RESULTS,
    SCENARIOS,
    THRESHOLD_PRICES,
    tornado,
)
from . import reference_case, sequences
from .formats import FORMATS, cell_text, describe, is_number
from .reading import Results
from .tables import ceac_long, evpi_at_thresholds, not_run_reasons, provenance_rows, stack, tornado_long, with_labels

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
    if is_number(value):
        value = value.item() if isinstance(value, np.generic) else value
        return value if math.isfinite(value) else None
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _number_format(kind: str, value: float) -> str:
    if kind == "num":  # inputs of every unit in one column: the format follows the value
        if value != 0 and abs(value) < 1e-3:
            return "0.000E+00"
        if float(value).is_integer():
            return "#,##0"
    return FORMATS[kind][1]


def _write_sheet(book: Workbook, title: str, frame: pd.DataFrame | None, results: Results, missing: str
                 ) -> None:
    """One table on its own sheet: bold frozen header with a filter, formatted numbers,
    widths to fit; or, without a table, the sentence ``missing``."""
    sheet = book.create_sheet(title)
    if frame is None:
        sheet["A1"] = missing
        sheet["A1"].font = Font(italic=True)
        sheet.column_dimensions["A"].width = 120
        return
    described = [describe(c, results) for c in frame.columns]
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
                if kind in FORMATS:
                    cell.number_format = _number_format(kind, value)
                    widths[j] = max(widths[j], len(cell_text(value, kind)) + 1)
    for j, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(j)].width = width + 2
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions


def _sheets(results: Results) -> list[tuple[str, pd.DataFrame | None, str, str]]:
    """(sheet, table, what it is, why it may be missing) of the workbook after Contents."""
    reasons = not_run_reasons(results)
    base_case, psa, dsa = reasons.get("base"), reasons.get("psa"), reasons.get("dsa")
    not_compared = reasons.get("model_vs_data")
    inputs = results.table(INPUTS)
    base = stack(results, RESULTS)
    incremental = stack(results, INCREMENTAL)
    icer = stack(results, ICER_SUMMARY)
    scenarios, prices = results.table(SCENARIOS, dsa=True), results.table(THRESHOLD_PRICES, dsa=True)
    evppi = stack(results, EVPPI)

    def each(stem: str, dsa: bool = False) -> str:  # the files of a table, one per population
        return results.file_name(stem, "<population>", dsa=dsa)

    return [
        ("Inputs", inputs, "Every model input: value, unit, price year, evidence status, source and where in it, "
         f"ranges and PSA distribution ({results.file_name(INPUTS)}).",
         f"No {results.file_name(INPUTS)} in the results directory."),
        ("Base case", base, "Base-case cost (total, by category and by health state), life years and QALYs of each "
         f"strategy, per population ({each(RESULTS)}).", base_case),
        ("Incremental analysis", with_labels(incremental, results) if incremental is not None else None,
         "Strategies by cost with dominance, ICERs along the frontier and net monetary benefit at each threshold "
         f"({each(INCREMENTAL)}).", base_case or f"No {each(INCREMENTAL)} in the results directory."),
        ("Calibration", results.table(CALIBRATION), "Modelled survival against the reported medians and landmark "
         f"survival it was calibrated to ({results.file_name(CALIBRATION)}).",
         base_case or f"No {results.file_name(CALIBRATION)} in the results directory."),
        ("Model vs data", results.table(MODEL_VS_DATA_SUMMARY),
         ("Each strategy's model overall survival against the Kaplan–Meier estimate of the trial data it names: "
          "share of follow-up inside the pointwise 95% CI, largest gap outside it, restricted means over follow-up "
          f"and medians ({results.file_name(MODEL_VS_DATA_SUMMARY)})."), base_case or not_compared),
        ("Model vs data by month", results.table(MODEL_VS_DATA),
         ("The same comparison at each month of follow-up: model, Kaplan–Meier estimate, its 95% CI and the "
          f"numbers at risk ({results.file_name(MODEL_VS_DATA)})."), base_case or not_compared),
        ("PSA summary", results.table(PSA_SUMMARY), "Mean and 95% interval of cost and QALYs, and probability "
         f"that each strategy has the highest NMB at each threshold ({results.file_name(PSA_SUMMARY)}).", psa),
        ("ICER summary", with_labels(icer, results) if icer is not None else None,
         "Each strategy against the comparator over the PSA samples: mean increments, ICER of the means and its "
         f"interval, quadrant shares of the CE plane ({each(ICER_SUMMARY)}).", psa),
        ("EVPI", evpi_at_thresholds(results), "Expected value of perfect information per patient at each threshold "
         f"(the whole curve is in {each(EVPI)}).", psa),
        ("EVPPI", evppi, "Expected value of partial perfect information per patient of each input and of each "
         f"source's inputs together ({each(EVPPI)}).",
         psa or f"EVPPI was not computed: it needs at least {MIN_EVPPI_SAMPLES} PSA samples and is skipped by "
         "--no-evppi."),
        ("CEAC", ceac_long(results), "Probability that each strategy is cost-effective at each willingness to pay, "
         f"long format, with the strategy on the frontier ({each(CEAC)} and {each(CEAF)}).", psa),
        ("DSA", tornado_long(results), "One-way sensitivity: outcome at each input's low and high value, by swing "
         f"({each(tornado('nmb'), dsa=True)} and {each(tornado('icer'), dsa=True)}); empty outcome: see the note.",
         dsa),
        ("DSA ranges", results.table(DSA_RANGES, dsa=True), "Low and high value of each input in the one-way "
         f"analysis and the basis of the range ({results.file_name(DSA_RANGES, dsa=True)}).", dsa),
        ("Scenarios", with_labels(scenarios, results) if scenarios is not None else None, "Base case and each "
         f"scenario: results and incremental analysis ({results.file_name(SCENARIOS, dsa=True)}).",
         dsa or "No scenarios were run."),
        ("Threshold prices", prices, "Price of each first-line drug of the intervention at which its ICER against "
         f"the comparator equals each threshold ({results.file_name(THRESHOLD_PRICES, dsa=True)}).",
         dsa or "No threshold prices: the intervention has no priced first-line drug."),
        *reference_case.sheets(results),
        *sequences.sheets(results),
    ]


def _write_contents(sheet: Worksheet, results: Results, sheets: Sequence[tuple[str, pd.DataFrame | None, str, str]]
                    ) -> None:
    sheet.append([f"Cost-effectiveness results: {results.title}"])
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

    block("Provenance", provenance_rows(results), ("Item", "Value"))
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
        Directory written by ``markov run`` or ``markov psa`` (and ``markov dsa`` into its ``dsa/``).
    path : Path or str
        The ``.xlsx`` file to write; its directory is created.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        When ``results_dir`` has neither base-case results nor a PSA, or a table lacks a column.
    """
    return render_workbook(Results(results_dir), Path(path))


def render_workbook(results: Results, path: Path) -> Path:
    """Write the workbook of ``results`` (read once for both reports) as ``path``."""
    book = Workbook()
    contents = book.active
    contents.title = "Contents"
    sheets = _sheets(results)
    for name, frame, _, missing in sheets:
        _write_sheet(book, name, frame, results, f"Not run. {missing}")
    _write_contents(contents, results, sheets)
    return write_atomically(path, book.save)
