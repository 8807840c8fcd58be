"""The self-contained HTML report of a results directory: base case, calibration, PSA,
DSA and inputs, each section saying what was not run."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .._files import write_atomically
from ..decision.voi import MIN_EVPPI_SAMPLES
from ..inputs.evidence import STATUS_MEANING
from ..inputs.labels import words
from ..results import (
    CALIBRATION,
    CE_PLANE,
    CEAC,
    CEAF,
    CONVERGENCE,
    EVPI,
    EVPI_POPULATION,
    EVPPI,
    FIT_FIGURES,
    ICER_SUMMARY,
    INCREMENTAL,
    INPUTS,
    MODEL_VS_DATA,
    MODEL_VS_DATA_SUMMARY,
    NMA,
    OCCUPANCY,
    PSA_SUMMARY,
    RESULTS,
    SCENARIOS,
    THRESHOLD_PRICES,
    TWO_WAY,
    TWO_WAY_OPTIMAL,
    cost_category_columns,
    tornado,
)
from . import reference_case, sequences
from .formats import FORMATS, cell_text, describe, is_number, readable_number
from .page import Page, anchor_id, provenance_html
from .reading import Results
from .tables import at_thresholds, not_run_reasons, pick, stack, with_labels

# Rows of the tornado and EVPPI tables in the HTML page (largest first); the workbook has all.
TOP_ROWS = 10


def _section(page: Page, title: str, anchor: str, part: str) -> bool:
    """Open a section of the page on ``part`` of the analysis; False, having said why, when it was not run."""
    page.heading(2, title, anchor)
    reason = not_run_reasons(page.results).get(part)
    if reason:
        page.not_run(reason)
    return reason is None


def _base_case(page: Page) -> None:
    results = page.results
    if not _section(page, "1. Base case and incremental analysis", "base-case", "base"):
        return
    page.paragraph("Deterministic results at the base-case value of every input: discounted costs and QALYs per "
                   "patient, and the incremental analysis along the cost-effectiveness frontier.")
    for population in results.populations:
        named = page.population(population)
        page.heading(3, named, anchor_id("base", population))
        rows = results.table(RESULTS, population)
        measures = ["cost", *cost_category_columns(rows), "life_years", "qalys"]
        # strategies side by side, one measure a row: the layout of a dossier's base-case table
        by_measure = pd.DataFrame({"measure": [describe(m, results)[0] for m in measures]})
        headings = {"measure": ("Per patient", "text")}
        for k, row in enumerate(rows.itertuples(index=False)):
            values = rows.iloc[k]
            by_measure[f"s{k}"] = [cell_text(values[m], describe(m, results)[1]) for m in measures]
            headings[f"s{k}"] = (str(row.label), "span")
        page.table(by_measure, list(headings), f"Base-case results per patient, {named}: discounted cost in "
                   "total and by category, life years and QALYs of each strategy."
                   + (f" {reference_case.prices_text(page.results)}" if reference_case.prices_text(page.results) else ""),
                   anchor_id("table-results", population), headings=headings)
        incremental = results.table(INCREMENTAL, population)
        if incremental is None:
            page.not_run(f"No incremental analysis for {named}: {results.file_name(INCREMENTAL, population)} is "
                         "missing.")
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
                       f"Incremental analysis, {named}: strategies by cost, with increments and ICERs against "
                       "the previous strategy on the frontier, and net monetary benefit (NMB) at each threshold.",
                       anchor_id("table-incremental", population), headings={"label": ("Strategy", "text")})
        page.figure(results.figure(OCCUPANCY, population), f"State occupancy over time in the base case, "
                    f"{named}: the share of the cohort in each health state, for each strategy.")


def _calibration(page: Page) -> None:
    results = page.results
    if not _section(page, "2. Calibration", "calibration", "base"):
        return
    table = results.table(CALIBRATION)
    if table is None:
        page.not_run(f"No calibration table: {results.file_name(CALIBRATION)} is missing.")
    for population in results.populations:
        named = page.population(population)
        page.heading(3, named, anchor_id("calibration", population))
        if table is not None:
            rows = table[table["population"] == population]
            low = pick(rows, "reported_low", "reported_ci_low")
            high = pick(rows, "reported_high", "reported_ci_high")
            shown = rows.assign(
                interval=[f"{readable_number(a)} to {readable_number(b)}" if np.isfinite(a) and np.isfinite(b) else "–"
                          for a, b in zip(low, high, strict=True)],
                difference=rows["model"] - rows["reported"])
            page.table(shown, ["label", "outcome", "measure", "reported", "interval", "model", "difference"],
                       f"Calibration targets and modelled values, {named}: medians in months, survival as a "
                       "proportion alive.", anchor_id("table-calibration", population),
                       headings={"label": ("Strategy", "text"), "interval": ("Reported 95% CI", "span"),
                                 "model": ("Model", "dec3"), "difference": ("Model − reported", "dec3")})
            page.notes(f"Source: {source}" for source in dict.fromkeys(rows["source"].dropna()))
        page.figure(results.figure(CALIBRATION, population), f"Calibration, {named}: modelled overall and "
                    "progression-free survival of each strategy against the reported medians and landmark survival, "
                    "with their confidence intervals.")
    _model_vs_data(page)


def _model_vs_data(page: Page) -> None:
    results = page.results
    page.heading(3, "Overall survival against trial data", "model-vs-data")
    reason = not_run_reasons(results).get("model_vs_data")
    if reason:
        page.not_run(reason)
        return
    summary = results.table(MODEL_VS_DATA_SUMMARY)
    page.paragraph("Each strategy's model overall survival (base case) against the Kaplan–Meier estimate of the "
                   "trial arm it should reproduce, over that arm's follow-up: where the model lies inside the "
                   "pointwise 95% confidence interval (log-log), the restricted mean survival over follow-up and the "
                   f"medians. Month by month in {results.file_name(MODEL_VS_DATA)}.")
    for population, rows in summary.groupby("population", sort=False):
        named = page.population(population)
        # an upper end not reached is the usual case with short follow-up (a lower one, never without it)
        shown = rows.assign(median_ci=[
            f"{readable_number(a)} to {readable_number(b) if np.isfinite(b) else 'not reached'}" if np.isfinite(a)
            else "not reached" for a, b in zip(rows["median_km_ci_low"], rows["median_km_ci_high"], strict=True)])
        page.table(shown, ["label", "arm", "follow_up_months", "share_inside_ci", "largest_gap_outside",
                           "largest_gap_time_months", "rmst_model_months", "rmst_km_months", "median_model_months",
                           "median_km_months", "median_ci"],
                   f"Model overall survival against trial data, {named}: gaps are model minus the nearest "
                   "confidence limit (negative below the interval); times in months.",
                   anchor_id("table-model-vs-data", str(population)),
                   headings={"label": ("Strategy", "text"), "median_ci": ("Kaplan–Meier median, 95% CI", "span")})
        page.notes(f"{label}: {file}, arm {arm}" + (f" ({citation})" if isinstance(citation, str) else "")
                   for label, file, arm, citation in zip(rows["label"], rows["data_file"], rows["arm"],
                                                         rows["data_citation"], strict=True))
        page.figure(results.figure(MODEL_VS_DATA, str(population)), f"Model overall survival against trial data, "
                    f"{named}: the Kaplan–Meier estimate of each trial arm with its 95% confidence interval and "
                    "the numbers at risk, the model's overall survival, and the reported medians and landmarks.")


def _psa(page: Page) -> None:
    results = page.results
    if not _section(page, "3. Probabilistic sensitivity analysis", "psa", "psa"):
        return
    n = results.provenance.get("psa_samples")
    icer = stack(results, ICER_SUMMARY)
    if n is None and icer is not None:
        n = int(icer["n_samples"].iloc[0])
    if n is not None:
        page.paragraph(f"{n:,} samples of every uncertain input from its distribution (see the inputs section)."
                       if isinstance(n, int) else f"Samples: {n}.")
    summary = results.table(PSA_SUMMARY)
    probability = [c for c in summary.columns if c.startswith("probability_cost_effective_at_")]
    for population in results.populations:
        named = page.population(population)
        page.heading(3, named, anchor_id("psa", population))
        rows = with_labels(summary[summary["population"] == population], results)
        intervals = {f"{measure}_interval": [f"{FORMATS[kind][0](a)} to {FORMATS[kind][0](b)}" for a, b in
                                             zip(rows[f"{measure}_2.5%"], rows[f"{measure}_97.5%"], strict=True)]
                     for measure, kind in (("cost", "money"), ("qalys", "dec3"))}
        extra = ["os_calibration_unreachable_samples"] if "os_calibration_unreachable_samples" in rows else []
        page.table(rows.assign(**intervals), ["label", "cost_mean", "cost_interval", "qalys_mean",
                                              "qalys_interval", *probability, *extra],
                   f"PSA summary, {named}: mean and 95% interval (2.5th to 97.5th percentile) of cost and "
                   "QALYs, and the probability that each strategy has the highest NMB.",
                   anchor_id("table-psa-summary", population),
                   headings={"label": ("Strategy", "text"),
                             "cost_interval": (f"Cost, 95% interval ({results.currency})", "span"),
                             "qalys_interval": ("QALYs, 95% interval", "span")})
        _icer_summary(page, population)
        page.figure(results.figure(CE_PLANE, population), f"Cost-effectiveness plane, {named}: incremental "
                    "cost and QALYs of each strategy against the comparator in each PSA sample, with the "
                    "willingness-to-pay line.", f"No cost-effectiveness plane for {named} "
                    f"({results.figure_name(CE_PLANE, population)} is missing).")
        _acceptability(page, population)
        _value_of_information(page, population)
        _convergence(page, population)


def _icer_summary(page: Page, population: str) -> None:
    named = page.population(population)
    results = page.results
    table = results.table(ICER_SUMMARY, population)
    if table is None:
        page.not_run(f"No ICER summary for {named}: {results.file_name(ICER_SUMMARY, population)} is missing.")
        return
    shown = table.assign(
        label=[results.label(s) for s in table["strategy"]],
        interval=[f"{a:,.0f} to {b:,.0f}" if np.isfinite(a) and np.isfinite(b) else "none (see note)"
                  for a, b in zip(pick(table, "icer_lower"), pick(table, "icer_upper"), strict=True)])
    probability = [c for c in table.columns if c.startswith("probability_cost_effective_vs_comparator_at_")]
    quadrants = {f"share_{q}": (q, "share") for q in ("NE", "NW", "SE", "SW") if f"share_{q}" in table}
    comparators = " or ".join(dict.fromkeys(results.label(c) for c in table["comparator"]))
    page.table(shown, ["label", "mean_incremental_cost", "mean_incremental_effect", "icer", "interval", *probability,
                       *quadrants],
               f"ICER distribution, {named}: each strategy against {comparators} over the PSA samples, and the "
               "share of samples in each quadrant of the cost-effectiveness plane (NE: more costly and more "
               "effective; NW: more costly, less effective; SE: less costly, more effective; SW: less costly, less "
               "effective).", anchor_id("table-icer-summary", population),
               headings={"label": ("Strategy", "text"), **quadrants,
                         "interval": (f"ICER 95% interval ({results.currency}/QALY)", "span")})
    if "interval_note" in table:
        page.notes(f"{results.label(s)}: {note}"
                   for s, note in zip(table["strategy"], table["interval_note"], strict=True) if isinstance(note, str))


def _acceptability(page: Page, population: str) -> None:
    named = page.population(population)
    results = page.results
    ceaf = results.table(CEAF, population)
    if ceaf is not None and results.thresholds:  # the probabilities at the thresholds are in the PSA summary
        optimal = at_thresholds(ceaf, results)
        page.paragraph("Strategy with the highest expected NMB (on the acceptability frontier): " + "; ".join(
            f"{s} at {results.threshold_text(w)}" for w, s in zip(optimal["wtp"], optimal["strategy"], strict=True))
            + ".")
    page.figure(results.figure(CEAC, population), f"Cost-effectiveness acceptability curves and frontier, "
                f"{named}: the probability that each strategy has the highest net monetary benefit at each "
                "willingness to pay; the band marks the strategy with the highest expected NMB (CEAF).",
                f"No acceptability curves for {named} ({results.figure_name(CEAC, population)} is missing).")


def _value_of_information(page: Page, population: str) -> None:
    named = page.population(population)
    results = page.results
    page.heading(4, f"Value of information, {named}", anchor_id("voi", population))
    evpi = results.table(EVPI, population)
    if evpi is None:
        page.not_run(f"No EVPI for {named}: {results.file_name(EVPI, population)} is missing.")
    else:
        columns = ["wtp", "evpi", *(["population_evpi"] if "population_evpi" in evpi else [])]
        page.table(at_thresholds(evpi, results), columns, f"Expected value of perfect information at the "
                   f"thresholds, {named}.", anchor_id("table-evpi", population))
    page.figure(results.figure(EVPI, population), "Expected value of perfect information per patient by "
                f"willingness to pay, {named}.")
    page.figure(results.figure(EVPI_POPULATION, population), f"Population EVPI by willingness to pay, {named}.")
    evppi = results.table(EVPPI, population)
    if evppi is None:
        page.not_run(f"EVPPI was not computed for {named}: it needs at least {MIN_EVPPI_SAMPLES} PSA samples "
                     "and is skipped by --no-evppi.")
        return
    top = evppi.sort_values("evppi", ascending=False, kind="stable").head(TOP_ROWS)
    count = [len(str(m).split(", ")) for m in top["members"]]
    shown = top.assign(parameter=[results.input_label(p) + (f" (all {c} inputs of this source)" if c > 1 else "")
                                  for p, c in zip(top["parameter"], count, strict=True)])
    wtp = f" at {results.threshold_text(float(evppi['wtp'].iloc[0]))}" if "wtp" in evppi else ""
    optional = [column for column in ("standard_error", "method") if column in evppi]
    page.table(shown, ["parameter", "evppi", *optional],
               f"EVPPI per patient{wtp}, {named}: the {len(top)} largest of {len(evppi)} inputs and "
               "groups of inputs" + (", with the standard error of the regression's estimate"
                                     if "standard_error" in evppi else "") + ".",
               anchor_id("table-evppi", population))
    page.figure(results.figure(EVPPI, population), f"Expected value of partial perfect information per patient{wtp}, "
                f"{named}: the single inputs worth most to learn, beside the EVPI of all inputs together.")


def _convergence(page: Page, population: str) -> None:
    named = page.population(population)
    results = page.results
    table = results.table(CONVERGENCE, population)
    if table is not None:
        last = table[table["n"] == table["n"].max()]
        page.table(last, ["comparison", "n", "mean", "lower", "upper"], f"Incremental NMB against the comparator "
                   f"with all samples, {named}, and its 95% Monte Carlo interval.",
                   anchor_id("table-convergence", population))
    page.figure(results.figure(CONVERGENCE, population), f"Convergence of the PSA, {named}: running mean of the "
                "incremental net monetary benefit against the comparator, with its 95% Monte Carlo interval.")


def _dsa(page: Page) -> None:
    results = page.results
    if not _section(page, "4. Deterministic sensitivity analysis", "dsa", "dsa"):
        return
    page.paragraph("Each input at the low and the high value of its range (evidence range, else the 2.5% and 97.5% "
                   "quantiles of its distribution), all others at their base-case values.")
    for population in results.populations:
        named = page.population(population)
        page.heading(3, named, anchor_id("dsa", population))
        for measure, name, short, unit in (("nmb", "incremental NMB", "Incremental NMB", results.currency),
                                           ("icer", "ICER", "ICER", f"{results.currency}/QALY")):
            table = results.table(tornado(measure), population, dsa=True)
            figure = results.figure(tornado(measure), population, dsa=True)
            if table is None:
                page.not_run(f"No {name} tornado for {named}: "
                             f"{results.file_name(tornado(measure), population, dsa=True)} is missing.")
                continue
            if figure is None and measure == "icer":
                page.not_run(f"No ICER tornado for {named}: the base-case ICER of the comparison is not "
                             "finite (the intervention is dominated or dominant), so the NMB tornado is the one to "
                             "read.")
                continue
            top = table.sort_values("swing", ascending=False, kind="stable", na_position="last").head(TOP_ROWS)
            page.table(top, ["parameter", "low_input", "high_input", "outcome_low", "outcome_high", "swing"],
                       f"One-way sensitivity of the {name}, {named}: the {len(top)} inputs with the largest "
                       f"swing of {len(table)} (all in the workbook).", anchor_id("table-tornado", measure, population),
                       headings={"parameter": ("Input", "text"), "low_input": ("Low value", "span"),
                                 "high_input": ("High value", "span"),
                                 "outcome_low": (f"{short} at the low value ({unit})", "money"),
                                 "outcome_high": (f"{short} at the high value ({unit})", "money"),
                                 "swing": (f"Swing ({unit})", "money")})
            page.figure(figure, f"Tornado diagram of the {name}, {named}: the outcome at each input's low and "
                        "high value, inputs by swing.")
        page.figure(results.figure(TWO_WAY, population, dsa=True), f"Two-way sensitivity analysis, {named}: "
                    "incremental NMB over the ranges of the two inputs with the largest one-way swing; the marker is "
                    "the base case.",
                    f"No two-way analysis for {named} (it needs at least two inputs in the tornado).")
        page.figure(results.figure(TWO_WAY_OPTIMAL, population, dsa=True), "Strategy with the highest NMB over the "
                    f"same two-way grid, {named}.")
    _scenarios(page)
    _threshold_prices(page)


def _scenarios(page: Page) -> None:
    results = page.results
    page.heading(3, "Scenario analyses", "scenarios")
    table = results.table(SCENARIOS, dsa=True)
    if table is None:
        page.not_run(f"No scenarios were run ({results.file_name(SCENARIOS, dsa=True)} is missing).")
        return
    for population, rows in table.groupby("population", sort=False):
        named = page.population(population)
        page.table(rows, ["label", "cost", "qalys", "incremental_cost", "incremental_qalys", "icer_per_qaly",
                          "status"], f"Scenario analyses, {named}: each scenario's incremental analysis.",
                   anchor_id("table-scenarios", str(population)), headings={"label": ("Strategy", "text")},
                   group="scenario_label")


def _threshold_prices(page: Page) -> None:
    results = page.results
    page.heading(3, "Threshold prices", "threshold-prices")
    table = results.table(THRESHOLD_PRICES, dsa=True)
    if table is None:
        page.not_run(f"No threshold prices ({results.file_name(THRESHOLD_PRICES, dsa=True)} is missing): the "
                     "intervention has no priced "
                     "first-line drug.")
        return
    shown = table.assign(comparison=[f"{results.label(a)} vs {results.label(b)}"
                                     for a, b in zip(table["intervention"], table["comparator"], strict=True)],
                         population=[page.population(p) for p in table["population"]])
    columns = ["label", "population", "comparison", "wtp", "base_price", "threshold_price", "ratio_to_base",
               "direction", "best_strategy_at_threshold_price"]
    page.table(shown, [c for c in columns if c in shown], "Price of each first-line drug of the intervention at "
               "which the intervention's ICER against the comparator equals the threshold.", "table-threshold-prices",
               headings={"label": ("Price", "text"), "comparison": ("Comparison", "text")})
    if "note" in table:
        notes = zip(table["label"], table["population"], table["note"], strict=True)
        page.notes(dict.fromkeys(f"{label}, {page.population(population)}: {note}" for label, population, note in notes
                                 if isinstance(note, str)))


def _inputs(page: Page) -> None:
    results = page.results
    page.heading(2, "5. Inputs and sources", "inputs")
    table = results.table(INPUTS)
    if table is None:
        page.not_run(f"No inputs table: {results.file_name(INPUTS)} is missing.")
        return
    page.paragraph("Evidence status: " + "; ".join(f"{k}: {v}" for k, v in STATUS_MEANING.items()) + ".")

    def unit(row: pd.Series) -> str:
        if row["unit"] != "money":
            return str(row["unit"]).replace("_", " ")
        year = row.get("price_year")
        parts = [row.get("currency"), f"{year:.0f}" if is_number(year) and np.isfinite(year) else None,
                 f"per {row['per']}" if isinstance(row.get("per"), str) else None]
        return " ".join(str(p) for p in parts if isinstance(p, str) and p)

    def span(row: pd.Series, low: str, high: str) -> str:
        a, b = row.get(low), row.get(high)
        if is_number(a) and is_number(b) and np.isfinite(a):
            return f"{readable_number(a)} to {readable_number(b)}"
        return "–"

    def detail(row: pd.Series) -> str:
        return " ".join(str(row[c]) for c in ("where", "calculation", "note") if isinstance(row.get(c), str))

    rows = [row for _, row in table.iterrows()]
    shown = table.assign(unit=[unit(r) for r in rows], ci=[span(r, "ci95_low", "ci95_high") for r in rows],
                         ranges=[span(r, "range_low", "range_high") for r in rows],
                         detail=[detail(r) for r in rows], source=[" ".join(str(s).split()) for s in table["source"]])
    # rows of a source together, sources in the order they first appear
    shown = shown.iloc[np.argsort(pd.factorize(shown["source"])[0], kind="stable")]
    named = ["label"] if "label" in table else []  # tables of earlier versions give the key alone
    page.table(shown, [*named, "reference", "value", "unit", "status", "distribution", "ci", "ranges", "detail"],
               f"The {len(table)} model inputs, by source: name and key, value, unit, evidence status, PSA "
               "distribution, 95% confidence interval and range (for sensitivity analyses), and where in the source.",
               "table-inputs", group="source", wide=True,
               headings={"label": ("Input", "text"), "reference": ("Key" if named else "Input", "code"),
                         "ci": ("95% CI", "span"), "ranges": ("Range", "span"),
                         "detail": ("Where / calculation / note", "prose")})


def _other_figures(page: Page) -> None:
    """Figures of the directory that no section shows (such as those of later analyses)."""
    rest = [path for path in page.results.figures() if path not in page.shown]
    if rest:
        page.heading(2, "6. Other figures", "other-figures")
        for path in rest:
            page.figure(path, _caption(page, path.stem))


#: What each figure of a curve fitted to patient-level data shows (NICE DSU TSD 14).
_FIT_CAPTIONS = {
    "fit_observed": "the Kaplan–Meier estimate with its 95% CI and numbers at risk, and every candidate model fitted "
                    "to the patient-level data, within follow-up",
    "fit_extrapolation": "the candidate models extrapolated to the time horizon, with survival reported from data "
                         "they did not see",
    "fit_hazards": "the kernel-smoothed observed hazard beside each candidate's hazard",
    "fit_log_cumulative_hazard": "log cumulative hazard against log time of each arm of the data (proportional "
                                 "hazards and shape)",
}


def _caption(page: Page, stem: str) -> str:
    """The caption of a figure no section shows: what it is, by its name."""
    for kind in sorted(FIT_FIGURES, key=len, reverse=True):  # the longest prefix: fit_log_... before fit_...
        if stem.startswith(f"{kind}_"):
            rest = stem.removeprefix(f"{kind}_")
            population = next((p for p in page.results.populations if rest.endswith(f"_{p}")), None)
            curve = rest.removesuffix(f"_{population}") if population else rest
            where = f", {page.population(population)}" if population else ""
            return f"Survival model choice for {words(curve)}{where}: {_FIT_CAPTIONS[kind]}."
    if stem.startswith(f"{NMA}_"):
        return f"Network meta-analysis of {words(stem.removeprefix(f'{NMA}_'))}: forest plot of each treatment " \
               "against the reference, fixed and random effects."
    return f"{stem}."


def write_html(results_dir: Path | str, path: Path | str) -> Path:
    """Write the self-contained HTML report of a results directory.

    Parameters
    ----------
    results_dir : Path or str
        Directory written by ``markov run`` or ``markov psa`` (and ``markov dsa`` into its ``dsa/``).
    path : Path or str
        The ``.html`` file to write; its directory is created.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        When ``results_dir`` has neither base-case results nor a PSA, or a table lacks a column.
    """
    return render_html(Results(results_dir), Path(path))


def render_html(results: Results, path: Path) -> Path:
    """Write the HTML page of ``results`` (read once for both reports) as ``path``."""
    page = Page(results)
    for section in (_base_case, reference_case.section, _calibration, _psa, _dsa, sequences.section, _inputs,
                    _other_figures):
        section(page)
    title = f"Cost-effectiveness report: {results.title}"
    populations = "; ".join(results.population_label(p) for p in results.populations)  # labels may hold commas
    subtitle = (f"Populations: {populations}. Currency: {results.currency or 'not stated'}. Thresholds: "
                + (", ".join(results.threshold_text(v) for v in results.thresholds.values()) or "none") + "."
                + (f" {reference_case.prices_text(results)}" if reference_case.prices_text(results) else ""))
    text = page.render(title, subtitle, provenance_html(results))
    return write_atomically(path, lambda partial: partial.write_text(text, encoding="utf-8"))
