"""Validation of a model's overall survival against patient-level data: does a sequence
built from line-specific curves reproduce what its trial observed?

A strategy whose ``targets`` name data (``os_data``: a file and arm, read when the analysis
is loaded, :mod:`markov.inputs.patient_data`) is compared with the Kaplan–Meier estimate
of that arm over its follow-up (default: the arm's last event time):

- at each month of follow-up (:func:`compare_with_kaplan_meier`): the model's OS (base
  case, sample 0, linear between the model's time points), the Kaplan–Meier estimate,
  its pointwise 95% confidence interval (log-log, Greenwood) and the patients at risk;
  whether the model lies inside the interval, and by how much it lies outside;
- per strategy (:func:`summarise_comparison`): the share of follow-up with the model
  inside the interval (each time point standing for the interval it closes), the
  largest gap outside it and when, the restricted mean survival over follow-up of model
  (trapezoid) and Kaplan–Meier (area under the steps), and the medians, the
  Kaplan–Meier median with its 95% confidence interval.

The model is never fitted to these data here: a gap is a finding about the model.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validate import InputError
from ..inputs.checks import check_follow_up
from ..survival import KaplanMeier
from .protocol import Model, StrategyResult, _time_at

#: The Kaplan–Meier confidence intervals: their level and band (R ``survfit``'s ``conf.type``).
LEVEL = 0.95
BAND = "log-log"
#: A model this close to a confidence limit lies on it (inside): the limits are products of floats.
ON_LIMIT = 1e-12

#: The columns of :attr:`ModelVsData.table`, also when no strategy names data.
TABLE_COLUMNS = ("population", "strategy", "label", "time_months", "n_at_risk", "model_os", "km_os", "km_ci_low",
                 "km_ci_high", "inside_ci", "outside_by", "model_minus_km")
#: The columns of :attr:`ModelVsData.summary`, also when no strategy names data.
SUMMARY_COLUMNS = ("population", "strategy", "label", "data_file", "arm", "data_citation", "data_sha256", "patients",
                   "events", "follow_up_months", "time_points", "share_inside_ci", "largest_gap_outside",
                   "largest_gap_time_months", "rmst_model_months", "rmst_km_months", "rmst_difference_months",
                   "median_model_months", "median_km_months", "median_km_ci_low", "median_km_ci_high")


@dataclass(frozen=True)
class ModelVsData:
    """The model's overall survival against the data of every strategy that names some.

    Attributes
    ----------
    table : DataFrame
        One row per strategy and time point (:func:`compare_with_kaplan_meier`).
    summary : DataFrame
        One row per strategy (:func:`summarise_comparison`).
    kaplan_meier : dict
        ``(population, strategy)`` -> the Kaplan–Meier estimate of its data, in months.
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    kaplan_meier: dict[tuple[str, str], KaplanMeier]


def time_points(follow_up_months: float, step_months: float = 1.0) -> np.ndarray:
    """0, ``step_months``, 2 ``step_months`` … up to and including ``follow_up_months``."""
    for name, value in (("follow_up_months", follow_up_months), ("step_months", step_months)):
        if not (np.isfinite(value) and value > 0):
            raise InputError(f"{name} is {value!r}: must be a positive number of months")
    points = np.arange(0.0, follow_up_months, step_months)
    return np.append(points, follow_up_months)


def _band_at(kaplan_meier: KaplanMeier, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pointwise band of the step function at ``points`` (1 before the first time;
    0 where everyone has died, where the log-log band is undefined)."""
    lower, upper = (np.nan_to_num(limit, nan=0.0) for limit in kaplan_meier.confidence_band(LEVEL, BAND))
    index = np.searchsorted(kaplan_meier.times, points, side="right") - 1
    before = index < 0
    return (np.where(before, 1.0, lower[np.maximum(index, 0)]), np.where(before, 1.0, upper[np.maximum(index, 0)]))


def compare_with_kaplan_meier(kaplan_meier: KaplanMeier, times_months: np.ndarray, survival: np.ndarray,
                              follow_up_months: float, step_months: float = 1.0) -> pd.DataFrame:
    """A model's survival curve beside a Kaplan–Meier estimate at each time point of follow-up.

    Parameters
    ----------
    kaplan_meier : KaplanMeier
        In months, observed at least until ``follow_up_months``.
    times_months, survival : ndarray, shape (n_times,)
        The model's curve, from time 0, read linearly between its points.
    follow_up_months : float
        The last time point.
    step_months : float
        Spacing of the time points (:func:`time_points`).

    Returns
    -------
    DataFrame
        ``time_months``, ``n_at_risk``, ``model_os``, ``km_os``, ``km_ci_low``,
        ``km_ci_high``, ``inside_ci``, ``outside_by`` (model minus the limit it passes,
        positive above the interval, negative below, 0 inside) and ``model_minus_km``.
    """
    points = time_points(follow_up_months, step_months)
    model = np.interp(points, times_months, survival)
    low, high = _band_at(kaplan_meier, points)
    outside_by = np.where(model > high + ON_LIMIT, model - high, np.where(model < low - ON_LIMIT, model - low, 0.0))
    km = kaplan_meier.survival_at(points)
    return pd.DataFrame({"time_months": points, "n_at_risk": kaplan_meier.n_at_risk_at(points), "model_os": model,
                         "km_os": km, "km_ci_low": low, "km_ci_high": high, "inside_ci": outside_by == 0.0,
                         "outside_by": outside_by, "model_minus_km": model - km})


def _restricted_mean(times_months: np.ndarray, survival: np.ndarray, tau: float) -> float:
    """Area under the model's curve (linear between its points) from 0 to ``tau``."""
    knots = np.append(times_months[times_months < tau], tau)
    values = np.interp(knots, times_months, survival)
    return float(np.sum(np.diff(knots) * (values[1:] + values[:-1]) / 2.0))


def summarise_comparison(points: pd.DataFrame, kaplan_meier: KaplanMeier, times_months: np.ndarray,
                         survival: np.ndarray) -> dict[str, float]:
    """The summary of one comparison (``points`` from :func:`compare_with_kaplan_meier`).

    Returns
    -------
    dict
        ``follow_up_months``; ``time_points`` (after 0); ``share_inside_ci``: the share of
        follow-up with the model inside the interval, each time point after 0 standing for
        the interval since the one before; ``largest_gap_outside`` (signed as
        ``outside_by``; 0 when always inside) and ``largest_gap_time_months`` (NaN then);
        ``rmst_model_months``, ``rmst_km_months`` and their difference, over follow-up;
        ``median_model_months`` (over the model's horizon), ``median_km_months`` and its
        interval ``median_km_ci_low``/``median_km_ci_high`` (NaN where not reached).
    """
    times, inside, gaps = (points[c].to_numpy() for c in ("time_months", "inside_ci", "outside_by"))
    follow_up = float(times[-1])
    widest = int(np.argmax(np.abs(gaps)))
    median_low, median_high = kaplan_meier.median_interval(LEVEL, BAND)
    model_rmst, km_rmst = _restricted_mean(times_months, survival, follow_up), kaplan_meier.restricted_mean(follow_up)
    return {"follow_up_months": follow_up, "time_points": len(times) - 1,
            "share_inside_ci": float(np.sum(np.diff(times) * inside[1:]) / follow_up),
            "largest_gap_outside": float(gaps[widest]),
            "largest_gap_time_months": float(times[widest]) if gaps[widest] != 0 else float("nan"),
            "rmst_model_months": model_rmst, "rmst_km_months": km_rmst, "rmst_difference_months": model_rmst - km_rmst,
            "median_model_months": _time_at(survival, times_months, 0.5), "median_km_months": kaplan_meier.median(),
            "median_km_ci_low": median_low, "median_km_ci_high": median_high}


def model_vs_data(model: Model, results: list[StrategyResult], step_months: float = 1.0) -> ModelVsData:
    """Each strategy's model OS (base case: sample 0 of ``results``) against the data its
    targets name (``targets.os_data``), at every ``step_months`` of follow-up; tables
    with no rows when no strategy names data."""
    check_follow_up(model.inputs)
    months = model.grid.times_years * 12.0
    tables, rows, observed_by_strategy = [], [], {}
    for result in results:
        targets = model.inputs.populations[result.population].strategies[result.strategy].targets
        data = None if targets is None else targets.os_data
        if data is None:
            continue
        observed = data.observed
        survival = result.survival()["OS"]
        key = {"population": result.population, "strategy": result.strategy, "label": result.label}
        points = compare_with_kaplan_meier(observed.kaplan_meier, months, survival, observed.follow_up_months,
                                           step_months)
        tables.append(points.assign(**key))
        observed_by_strategy[result.population, result.strategy] = observed.kaplan_meier
        rows.append({**key, "data_file": data.file, "arm": data.arm, "data_citation": data.citation,
                     "data_sha256": observed.digest[:16], "patients": int(observed.kaplan_meier.n_at_risk[0]),
                     "events": int(observed.kaplan_meier.n_events.sum()),
                     **summarise_comparison(points, observed.kaplan_meier, months, survival)})
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=list(TABLE_COLUMNS))
    summary = pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    return ModelVsData(table[list(TABLE_COLUMNS)], summary[list(SUMMARY_COLUMNS)], observed_by_strategy)
