"""External validation: the model's survival against data, and which comparisons it misses.

Three comparisons, each for every analysis the document covers:

- ``trial_data``: the model's OS against the Kaplan–Meier curve of the trial data its
  targets name (:func:`markov.models.model_vs_data`); a miss is any month of follow-up
  with the model outside the 95% confidence interval.
- ``later_data``: the model's OS and PFS medians and landmarks against later and longer
  data (``validation.yaml``, ``external.comparisons``); a miss is a value outside the
  reported 95% CI or, for a landmark reported without one, further than the stated
  tolerance. A reported value the model takes as an input, or whose strategy is
  calibrated to it, matches by construction and is not judged.
- ``survival_fit``: the chosen model of each curve fitted to patient-level data against
  the data its ``external`` names (:func:`markov.runs.survival_fits.validation_table`),
  judged by the same rules.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...models.protocol import TIME_UNIT_MONTHS
from .evaluated import Evaluated
from .notes import External


@dataclass(frozen=True)
class Miss:
    """A comparison the model misses: where, and by how much (in words)."""

    analysis: str
    population: str
    subject: str  # a strategy, or a fitted curve
    check: str
    gap: str


def time_at(survival: np.ndarray, months: np.ndarray, level: float) -> float:
    """First time the (non-increasing) curve reaches ``level``, linear between time points."""
    below = np.nonzero(survival <= level)[0]
    if below.size == 0:
        return float("nan")
    i = below[0]
    return float(months[0]) if i == 0 else float(np.interp(level, survival[[i, i - 1]], months[[i, i - 1]]))


def trial_data(analysis: Evaluated) -> tuple[pd.DataFrame, list[Miss]]:
    """The model-vs-data summary of the analysis, and a miss per strategy outside the CI."""
    summary = analysis.model_vs_data.summary
    misses = []
    for row in summary.itertuples():
        if np.isfinite(row.largest_gap_outside) and row.largest_gap_outside != 0:
            misses.append(Miss(analysis.name, row.population, row.strategy, "trial_data",
                               f"outside the Kaplan–Meier 95% CI over {1 - row.share_inside_ci:.0%} of "
                               f"{row.follow_up_months:g} months of follow-up; largest gap "
                               f"{row.largest_gap_outside:+.4f} at month {row.largest_gap_time_months:g}"))
    return summary, misses


def _calibrated(analysis: Evaluated, population: str) -> set[str]:
    """Strategies of ``population`` whose OS median is calibrated to their target: those
    a ``calibrated_to`` setting of any strategy names."""
    named = set()

    def walk(value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "calibrated_to" and isinstance(item, str):
                    named.add(item)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for strategy in analysis.inputs.populations[population].strategies.values():
        walk(strategy.model_dump(mode="json", exclude_none=True))
    return named


def _role(analysis: Evaluated, population: str, strategy: str, outcome: str, reference: str) -> str:
    """``external`` when the reported value is a check; otherwise why it matches by construction."""
    uses = analysis.inputs.uses.get(reference, [])
    if any(".targets." not in place and ".external." not in place for place in uses):
        return "an input of the model"
    target = f"populations.{population}.strategies.{strategy}.targets.os_median"
    if outcome == "OS" and target in uses and strategy in _calibrated(analysis, population):
        return "the calibration target of its OS"
    return "external"


def later_data(analysis: Evaluated, external: External) -> tuple[pd.DataFrame, list[Miss]]:
    """Each comparison of ``external`` whose strategy the analysis has, one row per reported
    value, and a miss per strategy with a value outside its interval or tolerance."""
    rows, misses = [], {}
    evidence, months = analysis.inputs.evidence, analysis.months
    for item in external.comparisons:
        result = analysis.result(item.population, item.strategy)
        if result is None:
            continue
        curves, targets = result.survival(), item.targets
        for outcome, median, landmarks in (("OS", targets.os_median, targets.os_landmarks),
                                           ("PFS", targets.pfs_median, targets.pfs_landmarks)):
            points = ([(median, None)] if median else []) + [(mark.survival, mark.time) for mark in landmarks]
            for reference, time in points:
                value = evidence[reference].value
                low, high = value.ci95 or (np.nan, np.nan)
                if time is None:
                    scale = TIME_UNIT_MONTHS[value.unit]
                    measure, reported = "median (months)", value.value * scale
                    low, high = low * scale, high * scale
                    model = time_at(curves[outcome], months, 0.5)
                    tolerance = np.nan
                else:
                    at = evidence[time].value
                    t = at.value * TIME_UNIT_MONTHS[at.unit]
                    measure, reported = f"survival at {t:g} months", value.value
                    model = float(np.interp(t, months, curves[outcome]))
                    tolerance = np.nan if np.isfinite(low) else external.landmark_tolerance
                role = _role(analysis, item.population, item.strategy, outcome, reference)
                inside = (low <= model <= high) if np.isfinite(low) else \
                    (abs(model - reported) <= tolerance if np.isfinite(tolerance) else None)
                row = {"population": item.population, "strategy": item.strategy, "label": result.label,
                       "source": targets.source, "outcome": outcome, "measure": measure, "reference": reference,
                       "status": value.status, "reported": reported, "ci95_low": low, "ci95_high": high,
                       "tolerance": tolerance, "model": model, "difference": model - reported, "role": role,
                       "inside": inside}
                rows.append(row)
                if role == "external" and inside is False:
                    key = (item.population, item.strategy)
                    misses.setdefault(key, []).append(f"{outcome} {measure}: model {_number(model)} against "
                                                      f"{_number(reported)} ({row['difference']:+.3g})")
    found = [Miss(analysis.name, population, strategy, "later_data", "; ".join(gaps))
             for (population, strategy), gaps in misses.items()]
    return pd.DataFrame(rows), found


def survival_fits(analysis: Evaluated, external: External) -> tuple[pd.DataFrame, list[Miss]]:
    """The validation table of the analysis's fitted curves with each prediction judged
    (``inside``), and a miss per curve whose chosen model is outside an interval or tolerance."""
    table = analysis.fits_validation.copy()
    if table.empty:
        return table, []
    landmark = table["measure"].str.startswith("survival")
    no_ci = ~np.isfinite(table["ci95_low"].astype(float))
    judged = np.where(no_ci & landmark, table["difference"].abs() <= external.landmark_tolerance, None)
    table["inside"] = [bool(w) if pd.notna(w) else (bool(j) if j is not None else None)
                       for w, j in zip(table["within_ci"], judged, strict=True)]
    misses = []
    for (population, curve), rows in table[table["chosen"]].groupby(["population", "curve"], sort=False):
        gaps = [f"{row.measure}: {_number(row.predicted)} against {_number(row.reported)} ({row.difference:+.3g})"
                for row in rows.itertuples() if row.inside is False]
        if gaps:
            misses.append(Miss(analysis.name, population, curve, "survival_fit", "; ".join(gaps)))
    return table, misses


def _number(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 1 else f"{value:.1f}"
