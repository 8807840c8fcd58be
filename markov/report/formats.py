"""How the reports show a column: its heading with its unit, and the text (HTML) and
number format (Excel) of its values."""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .reading import THRESHOLD_COLUMN, Results


def readable_number(value: float) -> str:
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
FORMATS: dict[str, tuple[Callable[[float], str], str]] = {
    "money": (lambda x: f"{x:,.0f}", "#,##0"),
    "price": (lambda x: f"{x:,.2f}", "#,##0.00"),
    "dec3": (lambda x: f"{x:,.3f}", "0.000"),
    "prob": (lambda x: f"{x:.3f}", "0.000"),
    "share": (lambda x: f"{x:.1%}", "0.0%"),
    "int": (lambda x: f"{x:,.0f}", "#,##0"),
    "num": (readable_number, "#,##0.0###"),
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
    "standard_error": ("EVPPI standard error ({cur})", "money"),
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
    "used": ("Used by a strategy", "text"),
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
    "data_file": ("Data file", "text"),
    "arm": ("Arm", "text"),
    "data_citation": ("Data source", "text"),
    "data_sha256": ("Data SHA-256 (first 16)", "text"),
    "patients": ("Patients", "int"),
    "events": ("Events", "int"),
    "follow_up_months": ("Follow-up compared (months)", "num"),
    "time_points": ("Time points", "int"),
    "share_inside_ci": ("Model inside the 95% CI (share of follow-up)", "share"),
    "largest_gap_outside": ("Largest gap outside the CI", "num"),
    "largest_gap_time_months": ("Time of the largest gap (months)", "num"),
    "rmst_model_months": ("Restricted mean, model (months)", "dec3"),
    "rmst_km_months": ("Restricted mean, Kaplan–Meier (months)", "dec3"),
    "rmst_difference_months": ("Restricted mean, model − KM (months)", "dec3"),
    "median_model_months": ("Median, model (months)", "num"),
    "median_km_months": ("Median, Kaplan–Meier (months)", "num"),
    "median_km_ci_low": ("Kaplan–Meier median, 95% CI low", "num"),
    "median_km_ci_high": ("Kaplan–Meier median, 95% CI high", "num"),
    "n_at_risk": ("At risk", "int"),
    "model_os": ("Model OS", "prob"),
    "km_os": ("Kaplan–Meier OS", "prob"),
    "km_ci_low": ("Kaplan–Meier 95% CI, low", "prob"),
    "km_ci_high": ("Kaplan–Meier 95% CI, high", "prob"),
    "inside_ci": ("Model inside the CI", "text"),
    "outside_by": ("Model outside the CI by", "num"),
    "model_minus_km": ("Model − Kaplan–Meier", "dec3"),
}

_PREFIXES = (("cost_", "Cost: {rest} ({cur})", "money"), ("life_years_", "Life years: {rest}", "dec3"),
             ("qalys_", "QALYs: {rest}", "dec3"), ("share_", "Share of samples: {rest}", "share"))


def describe(column: str, results: Results) -> tuple[str, str]:
    """Heading (with its unit) and number kind of a CSV column."""
    cur = results.currency
    if column in _HEADINGS:
        heading, kind = _HEADINGS[column]
        return heading.format(cur=cur), kind
    match = THRESHOLD_COLUMN.match(column)
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


def is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def cell_text(value: object, kind: str) -> str:
    """A cell's text in the HTML page (not escaped)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if is_number(value) and kind in FORMATS:
        value = float(value)
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        text = FORMATS[kind][0](value)
        # a difference of 1e-15 is no difference: never print "-0.000"
        return text[1:] if text.startswith("-") and not text.strip("-0.,%") else text
    return str(value)
