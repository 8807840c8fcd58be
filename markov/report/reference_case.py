"""The report's part on a reference case with confidential prices and a severity modifier
(the NICE reference case): which prices the results use, the discounts entered, the
severity modifier's working and the discount at which each intervention is cost-effective.
Shown only when the results directory holds those tables (``markov run`` writes them for
such a perspective: :mod:`markov.runs.reference_case`)."""
from __future__ import annotations

import pandas as pd

from ..results import DISCOUNT_THRESHOLDS, SEVERITY_MODIFIER, SEVERITY_WEIGHTED
from .page import Page
from .reading import Results

_HEADINGS = {
    "general_population_qalys": ("General-population QALYs (discounted)", "qaly"),
    "comparator_qalys": ("QALYs with the comparator (discounted)", "qaly"),
    "absolute_shortfall": ("Absolute QALY shortfall", "qaly"),
    "proportional_shortfall": ("Proportional QALY shortfall", "prob"),
    "qaly_weight": ("QALY weight", "qaly"),
    "weighted_incremental_qalys": ("Severity-weighted incremental QALYs", "qaly"),
    "weighted_icer": ("Severity-weighted ICER ({cur}/QALY)", "money"),
    "discount_threshold": ("Discount off list price at which cost-effective", "prob"),
    "incremental_cost_at_list_price": ("Incremental cost at list price ({cur})", "money"),
}


def prices_text(results: Results) -> str:
    """"Prices: at list price." (or with the discounts entered, and which), or "" when the
    run record says nothing about confidential prices."""
    prices = results.provenance.get("prices")
    if not prices:
        return ""
    entered = results.provenance.get("discounts_entered")
    return f"Prices: {prices}" + (f" ({entered})" if entered and "none" not in entered else "") + "."


def headings(results: Results, columns) -> dict[str, tuple[str, str]]:
    return {c: (text.format(cur=results.currency), kind) for c, (text, kind) in _HEADINGS.items() if c in columns}


def sheets(results: Results) -> list[tuple[str, pd.DataFrame | None, str, str]]:
    """The workbook's sheets of the reference case, those whose table the directory holds."""
    found = []
    for title, stem, what in (
            ("Severity modifier", SEVERITY_MODIFIER, ("General-population and comparator QALYs, absolute and "
                                                      "proportional QALY shortfall and the QALY weight")),
            ("Severity-weighted", SEVERITY_WEIGHTED, ("Each strategy against the comparator with QALYs weighted for "
                                                      "severity: weighted ICER and NMB at each threshold")),
            ("Discount thresholds", DISCOUNT_THRESHOLDS, ("Discount off the list price of each intervention's drugs "
                                                          "at which it is cost-effective, with and without the "
                                                          "severity weight"))):
        table = results.table(stem)
        if table is not None:
            found.append((title, table, f"{what} ({results.file_name(stem)}). {prices_text(results)}".strip(), ""))
    return found


def section(page: Page) -> None:
    """The HTML report's section on the reference case (nothing when its tables are absent)."""
    results = page.results
    severity, weighted, discounts = (results.table(s) for s in (SEVERITY_MODIFIER, SEVERITY_WEIGHTED,
                                                                DISCOUNT_THRESHOLDS))
    if severity is None and discounts is None:
        return
    reference = results.provenance.get("reference_case") or "the perspective's reference case"
    page.heading(2, f"Reference case: {reference}", "reference-case")
    page.paragraph(f"{prices_text(results)} Confidential discounts apply to drug acquisition only.")
    if severity is not None:
        columns = ["population", "comparator_label", "general_population_qalys", "comparator_qalys",
                   "absolute_shortfall", "proportional_shortfall", "qaly_weight"]
        page.table(severity, columns, "Severity modifier: QALYs of the age- and sex-matched general population "
                   "and with the comparator (current care), both discounted, the absolute and proportional QALY "
                   f"shortfall and the QALY weight ({severity['rule'].iloc[0]}).", "table-severity",
                   headings=headings(results, columns))
    if weighted is not None:
        columns = ["population", "label", "incremental_cost", "incremental_qalys", "qaly_weight",
                   "weighted_incremental_qalys", "icer", "weighted_icer",
                   *[c for c in weighted.columns if c.startswith("weighted_nmb_")]]
        page.table(weighted, columns, "Each strategy against its population's comparator with QALYs weighted for "
                   "severity.", "table-severity-weighted", headings=headings(results, columns))
    if discounts is not None and "discount_threshold" in discounts:
        columns = ["population", "label", "drugs", "threshold", "qaly_weight", "incremental_cost_at_list_price",
                   "discount_threshold", "note"]
        page.table(discounts, columns, "Discount off the list price of the drugs each intervention starts with at "
                   "which it is cost-effective against the comparator (other drugs as entered).",
                   "table-discount-thresholds", headings=headings(results, columns), wide=True)
