"""The sections of ``docs/validation.md`` that report checks: internal verification
(from the test suite), external validation (model against data) and cross-validation
(against published cost-effectiveness analyses)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .evaluated import Evaluated
from .external import Miss
from .face_validity import cell, reference_text
from .notes import CHECKS, CrossValidation, Reasons
from .verification import KINDS, VerificationCheck

MISSING_REASON = "**no reason written** (docs/validation/reasons.yaml)"


def verification_section(checks: list[VerificationCheck]) -> list[str]:
    """The marked tests, by the kind of independent numbers they compare with."""
    modules = len({check.module for check in checks})
    lines = [f"{len(checks)} checks in {modules} test modules.", ""]
    for kind, heading in KINDS.items():
        mine = [check for check in checks if check.kind == kind]
        if not mine:
            continue
        lines += [f"### {heading}", "", "| test | checked against | tolerance |", "|---|---|---|"]
        for check in mine:
            lines.append(f"| `{check.module.removeprefix('tests/')}::{check.test}` | {cell(check.against)} | "
                         f"{cell(check.tolerance)} |")
        lines.append("")
    return lines


def reason_lines(misses: list[Miss], reasons: Reasons) -> list[str]:
    """One item per miss: where, by how much, and why (or that no reason is written)."""
    lines = []
    for miss in misses:
        why = reasons.get(miss.analysis, {}).get(miss.population, {}).get(miss.subject, {}).get(miss.check)
        lines.append(f"- **`{miss.subject}`** (`{miss.analysis}`, {miss.population}): {miss.gap}. "
                     f"*Why:* {cell(why) if why else MISSING_REASON}")
    return lines + [""] if lines else ["No miss.", ""]


def _months(value: float) -> str:
    return "not reached" if not np.isfinite(value) else f"{value:.1f}"


def trial_data_section(analysis: Evaluated, summary: pd.DataFrame, misses: list[Miss], reasons: Reasons) -> list[str]:
    if summary.empty:
        return []
    header = ("| population | strategy | data (arm: patients, deaths) | follow-up (months) | model inside the 95% "
              "CI | largest gap outside | restricted mean, model vs data (months) | median, model vs data (95% CI) |")
    lines = [f"#### `{analysis.name}`", "", header, "|---|---|---|---|---|---|---|---|"]
    for row in summary.itertuples():
        gap = "none" if row.largest_gap_outside == 0 else \
            f"{row.largest_gap_outside:+.4f} at month {row.largest_gap_time_months:g}"
        interval = (f" ({_months(row.median_km_ci_low)} to {_months(row.median_km_ci_high)})"
                    if np.isfinite(row.median_km_ci_low) else "")
        lines.append(f"| {row.population} | {cell(row.label)} | `{row.data_file}` ({row.arm}: {row.patients}, "
                     f"{row.events}) | {row.follow_up_months:g} | {row.share_inside_ci:.0%} of follow-up | {gap} | "
                     f"{row.rmst_model_months:.2f} vs {row.rmst_km_months:.2f} | {_months(row.median_model_months)}"
                     f" vs {_months(row.median_km_months)}{interval} |")
    return lines + ["", "Misses:", "", *reason_lines(misses, reasons)]


def _interval(row) -> str:
    if np.isfinite(row.ci95_low):
        return f"{_number(row.ci95_low)}–{_number(row.ci95_high)}"
    if np.isfinite(row.tolerance):
        return f"± {row.tolerance:g} (no CI reported)"
    return "no CI reported"


def _number(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 1 else f"{value:.1f}"


def _signed(value: float) -> str:
    rounded = round(float(value), 3) + 0.0  # no negative zero
    return f"{rounded:+.3f}"


def _verdict(row) -> str:
    if row.role != "external":
        return f"not judged: {row.role}"
    return {True: "inside", False: "**outside**", None: "not judged (no interval)"}[row.inside]


def later_data_section(analysis: Evaluated, table: pd.DataFrame, misses: list[Miss], reasons: Reasons) -> list[str]:
    if table.empty:
        return []
    header = "| strategy | source | outcome | measure | reported | 95% CI or tolerance | model | difference | verdict |"
    lines = [f"#### `{analysis.name}`", "", header, "|---|---|---|---|---|---|---|---|---|"]
    for row in table.itertuples():
        lines.append(f"| {cell(row.label)} | {cell(row.source)} | {row.outcome} | {row.measure} | "
                     f"{_number(row.reported)} ({row.status}) | {_interval(row)} | {_number(row.model)} | "
                     f"{_signed(row.difference)} | {_verdict(row)} |")
    return lines + ["", "Misses:", "", *reason_lines(misses, reasons)]


def survival_fit_section(analysis: Evaluated, table: pd.DataFrame, misses: list[Miss], reasons: Reasons,
                         tolerance: float) -> list[str]:
    if table.empty:
        return []
    lines = [f"#### `{analysis.name}`", ""]
    for (population, curve), rows in table.groupby(["population", "curve"], sort=False):
        measures = list(dict.fromkeys(rows["measure"]))
        header = []
        for measure in measures:
            first = rows[rows["measure"] == measure].iloc[0]
            interval = (f"95% CI {_number(first.ci95_low)}–{_number(first.ci95_high)}" if np.isfinite(first.ci95_low)
                        else f"± {tolerance:g}")
            header.append(f"{measure}: {_number(first.reported)} ({first.status}; {interval})")
        source = rows.iloc[0]["note"]
        lines += [f"`{curve}` ({population}) against {cell(source)}:", "",
                  "| candidate | " + " | ".join(header) + " |", "|---|" + "---|" * len(measures)]
        for model, candidate in rows.groupby("model", sort=False):
            first = candidate.iloc[0]
            name = f"**{first.label} (chosen)**" if first.chosen else first.label
            cells = []
            for measure in measures:
                row = candidate[candidate["measure"] == measure].iloc[0]
                mark = {True: "", False: " ✗", None: ""}[row.inside]
                cells.append(f"{_number(row.predicted)}{mark}")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines + ["✗: outside the reported 95% CI, or further than the tolerance where none is reported.", "",
                    "Misses of the chosen models:", "", *reason_lines(misses, reasons)]


def cross_validation_section(analyses: list[Evaluated], notes: CrossValidation) -> list[str]:
    """This model's increments beside the published ones, then why they differ."""
    population, intervention, comparator = notes.population, notes.intervention, notes.comparator
    intro = (f"`{intervention}` against `{comparator}` in population `{population}`. Published figures are evidence "
             "values with their status; this model's are its base case (discounted), computed when this page was "
             "generated. The ICERs are of the pair, whatever the other strategies of the analysis.")
    header = "| analysis | incremental cost | incremental life-years | incremental QALYs | ICER (per QALY) | prices |"
    lines = [intro, "", header, "|---|---|---|---|---|---|"]
    for analysis in analyses:
        new, old = analysis.row(population, intervention), analysis.row(population, comparator)
        if new is None or old is None:
            continue
        cost, life_years, qalys = (new[c] - old[c] for c in ("cost", "life_years", "qalys"))
        currency = analysis.inputs.perspective.currency
        lines.append(f"| this model, `{analysis.name}` | {currency} {cost:,.0f} | {life_years:.3f} | {qalys:.3f} | "
                     f"{currency} {cost / qalys:,.0f} | {cell(analysis.inputs.perspective.price_year)} |")
    evidence = analyses[0].inputs.evidence
    for study in notes.studies:
        def published(reference, digits):
            if reference is None:
                return "not reported"
            value = evidence[reference].value
            number = f"{value.currency} {value.value:,.0f}" if value.unit == "money" else f"{value.value:.{digits}f}"
            return f"{number} ({value.status})"
        icer = evidence[study.icer].value
        lines.append(f"| {study.name} | {published(study.incremental_cost, 0)} | "
                     f"{published(study.incremental_life_years, 3)} | {published(study.incremental_qalys, 3)} | "
                     f"{published(study.icer, 0)} | {icer.currency} {icer.price_year} |")
    lines += ["", "Sources of the published figures:", ""]
    for study in notes.studies:
        refs = [r for r in (study.icer, study.incremental_cost, study.incremental_life_years, study.incremental_qalys)
                if r is not None]
        source = evidence[study.icer].source
        lines.append(f"- **{study.name}**: {cell(source.citation)} "
                     + "; ".join(f"{reference_text(analyses[0], r)}: {cell(evidence[r].value.where)}" for r in refs)
                     + ".")
    lines += ["", "Why the results differ:", ""]
    for study in notes.studies:
        lines.append(f"- **{study.name}.** *Its model:* {cell(study.model)} *Differences:* {cell(study.differences)}")
    return lines + [""]


def checks_legend() -> list[str]:
    return [f"- `{name}`: {text}" for name, text in CHECKS.items()]
