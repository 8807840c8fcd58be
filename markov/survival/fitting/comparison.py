"""Choosing a survival model for patient-level data, as NICE DSU TSD 14 and 21 ask: every
candidate fitted to the same data and compared by AIC and BIC, beside what each implies
beyond the data (restricted mean, landmark survival) — the numbers a visual check and an
external validation are read against.

The candidates (:func:`candidate_models`) are flexsurv's families (exp, weibull,
weibullPH, gompertz, llogis, lnorm, gamma, gengamma) and Royston–Parmar splines on the
hazard scale with 1, 2 and 3 internal knots. A candidate that cannot be fitted, does not
converge, or whose data leave a coefficient undetermined stays in the comparison with the
reason (:func:`why_unusable`): a failed fit is a finding, not a crash.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..._validate import InputError
from .._base import TIME_UNIT_YEARS
from ..parametric import FAMILIES
from .likelihood import CurveModel, FitResult, PatientData, SplineModel, as_model, fit

#: A coefficient whose standard error passes this (a factor e¹⁰ in a positive parameter
#: within one standard error) is not determined by the data: its draws would be meaningless.
UNIDENTIFIED_SE = 10.0
#: Internal knots of the spline candidates (TSD 21: 1 to 3 are usual).
SPLINE_KNOTS = (1, 2, 3)
#: Landmarks of the comparison table, in years.
LANDMARK_YEARS = (1.0, 2.0, 5.0)

_LABELS = {"exp": "Exponential", "weibull": "Weibull (AFT)", "weibullPH": "Weibull (PH)", "gompertz": "Gompertz",
           "llogis": "Log-logistic", "lnorm": "Log-normal", "gamma": "Gamma", "gengamma": "Generalised gamma",
           "piecewise_exponential": "Piecewise exponential"}
_SPLINE = re.compile(r"^spline_(?P<scale>\w+)_(?P<knots>\d+)knot$")


def candidate_models() -> list[CurveModel]:
    """The TSD 14 candidates: every flexsurv family, then splines on the hazard scale with
    :data:`SPLINE_KNOTS` internal knots (at flexsurv's default places)."""
    return [*(as_model(family) for family in FAMILIES), *(SplineModel(k, "hazard") for k in SPLINE_KNOTS)]


def model_label(name: str) -> str:
    """A readable name of a model (:attr:`CurveModel.name`) for tables and legends:
    ``lnorm`` -> ``Log-normal``, ``spline_hazard_2knot`` -> ``Spline (hazard, 2 knots)``."""
    spline = _SPLINE.match(name)
    if spline:
        knots = int(spline["knots"])
        return f"Spline ({spline['scale']}, {knots} knot{'' if knots == 1 else 's'})"
    if name.startswith("cure_"):
        return f"Mixture cure ({model_label(name[len('cure_'):])})"
    return _LABELS.get(name, name)


def why_unusable(result: FitResult) -> str | None:
    """Why a fit's estimates cannot be used in a model, or None."""
    if not result.converged:
        return f"it did not converge (the optimiser stopped, '{result.message}', short of the maximum)"
    if not np.isfinite(result.covariance).all():
        return "its covariance is not finite"
    worst = int(np.argmax(result.standard_errors))
    if result.standard_errors[worst] > UNIDENTIFIED_SE:
        return (f"the data do not determine {result.coefficient_names[worst]} (standard error "
                f"{result.standard_errors[worst]:.3g} on the unconstrained scale, above {UNIDENTIFIED_SE:g})")
    return None


@dataclass(frozen=True)
class Candidate:
    """One candidate model: its fit (None when it could not be fitted) and why it cannot
    be used (None when it can)."""

    model: CurveModel
    fit: FitResult | None
    problem: str | None

    @property
    def name(self) -> str:
        return self.model.name


@dataclass(frozen=True)
class ModelComparison:
    """Candidate models fitted to the same patients (:func:`compare_models`)."""

    data: PatientData
    candidates: tuple[Candidate, ...]

    def __getitem__(self, name: str) -> Candidate:
        for candidate in self.candidates:
            if candidate.name == name:
                return candidate
        raise InputError(f"model {name!r}: not a candidate of this comparison "
                         f"(candidates: {', '.join(c.name for c in self.candidates)})")

    def usable(self) -> dict[str, FitResult]:
        """The fits that can be used, by model name, in the candidates' order."""
        return {c.name: c.fit for c in self.candidates if c.problem is None}

    def table(self, horizon_years: float, landmark_years: Sequence[float] = LANDMARK_YEARS) -> pd.DataFrame:
        """One row per candidate, in their order.

        Columns: ``model``, ``label``, ``n_parameters``, ``log_likelihood``, ``aic``,
        ``bic``, ``delta_aic`` and ``delta_bic`` (against the best usable fit),
        ``median_<time unit>``, ``restricted_mean_years`` (to ``horizon_years``),
        ``survival_<t>y`` at each landmark (years), ``converged`` and ``problem`` (why the
        fit cannot be used; empty when it can). A candidate that could not be fitted has
        its numbers missing; one that cannot be used has no Δ (it is not compared).
        """
        unit = self.data.time_unit
        rows = []
        for candidate in self.candidates:
            row = {"model": candidate.name, "label": model_label(candidate.name),
                   "n_parameters": len(candidate.model.coefficient_names)}
            result, problem = candidate.fit, candidate.problem
            if result is not None:
                try:
                    row.update(_summary(result, horizon_years, landmark_years))
                except InputError as error:  # a curve the fit made but which cannot be evaluated
                    problem = f"{problem + '; ' if problem else ''}its curve cannot be evaluated ({error})"
            rows.append({**row, "problem": problem or ""})
        table = pd.DataFrame(rows)
        columns = ["model", "label", "n_parameters", "log_likelihood", "aic", "bic", "delta_aic", "delta_bic",
                   f"median_{unit}", "restricted_mean_years", *(_landmark(t) for t in landmark_years), "converged",
                   "problem"]
        table = table.reindex(columns=columns)
        usable = table["problem"] == ""
        for measure in ("aic", "bic"):
            table[f"delta_{measure}"] = (table[measure] - table.loc[usable, measure].min()).where(usable)
        return table


def _landmark(years: float) -> str:
    return f"survival_{years:g}y"


def _summary(result: FitResult, horizon_years: float, landmark_years: Sequence[float]) -> dict:
    curve, unit = result.curve, result.time_unit
    return {"log_likelihood": result.log_likelihood, "aic": result.aic, "bic": result.bic,
            f"median_{unit}": float(curve.median()[0]),
            "restricted_mean_years": float(curve.restricted_mean(horizon_years / TIME_UNIT_YEARS[unit])[0])
            * TIME_UNIT_YEARS[unit],
            **{_landmark(t): float(s) for t, s in zip(landmark_years, curve.survival_at_years(landmark_years)[0],
                                                      strict=True)},
            "converged": result.converged}


def compare_models(data: PatientData, models: Sequence[str | CurveModel] | None = None) -> ModelComparison:
    """Fit each candidate to ``data``.

    Parameters
    ----------
    data : PatientData
        The patients of one arm.
    models : sequence of str or CurveModel, optional
        flexsurv family names or models (a spline, a cure model …), each named once;
        default :func:`candidate_models`.

    Returns
    -------
    ModelComparison
        Every candidate with its fit or why it could not be fitted; :meth:`ModelComparison.table`
        compares them.
    """
    models = candidate_models() if models is None else [as_model(model) for model in models]
    names = [model.name for model in models]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InputError(f"models: {repeated[0]!r} is named more than once; each candidate is fitted once")
    candidates = []
    for model in models:
        try:
            result = fit(model, data)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as error:  # InputError is a ValueError
            candidates.append(Candidate(model, None, f"it could not be fitted ({error})"))
            continue
        candidates.append(Candidate(model, result, why_unusable(result)))
    return ModelComparison(data, tuple(candidates))
