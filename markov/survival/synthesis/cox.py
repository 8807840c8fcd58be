"""Cox proportional-hazards fits of a trial's arms, and the test of proportional hazards.

:func:`fit_cox` maximises the Breslow partial likelihood by Newton–Raphson. For event
times t_j with d_j events and risk sets R_j = {k: t_k ≥ t_j}, and covariate rows x,

    log L(β) = Σ_j [ Σ_{i dies at t_j} x_i·β − d_j · log Σ_{k∈R_j} exp(x_k·β) ],

Breslow's (1974) handling of tied times (R's ``coxph(ties = "breslow")``, Stata's
default); without ties every method agrees. :func:`fit_arms` fits one indicator per arm
against a control arm, so a trial of k arms gives k − 1 log hazard ratios with their
covariance (the inverse information), which a multi-arm trial brings to a network
meta-analysis as they are.

:meth:`CoxResult.proportional_hazards` is Grambsch and Therneau's (1994) test on the
scaled Schoenfeld residuals r*_i = d·I⁻¹·r_i + β̂ (their approximation of the variance at
each event time by its average I/d, as in R's ``cox.zph`` before survival 3.0 and in
lifelines): for a transform g of the event times, a covariate's statistic is
(Σ_i (g_i − ḡ)·r*_ij)² / (d·(I⁻¹)_jj·Σ_i (g_i − ḡ)²), χ² on 1 df, and the global one
u'·I⁻¹·u·d / Σ_i (g_i − ḡ)² with u = Σ_i (g_i − ḡ)·r_i, χ² on p df. A small p-value says
the log hazard ratio drifts with g(t): the hazard ratio is not constant over time.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import chdtrc, ndtri  # not scipy.stats: half a second to import

from ..._validate import InputError, as_float_array
from ...uncertainty import Z_95
from ..nonparametric import KaplanMeier

#: Newton–Raphson stops when a step changes no coefficient by more than this.
_STEP_TOLERANCE = 1e-10
_MAX_ITERATIONS = 50
#: Transforms of time for the test of proportional hazards.
TIME_TRANSFORMS = ("km", "rank", "identity", "log")


@dataclass(frozen=True)
class ProportionalHazardsTest:
    """Grambsch–Therneau tests of one Cox fit: a row per covariate and a global row."""

    names: tuple[str, ...]
    statistics: np.ndarray
    p_values: np.ndarray
    global_statistic: float
    global_df: int
    global_p_value: float
    transform: str

    def table(self) -> pd.DataFrame:
        """One row per covariate, then ``GLOBAL``: ``chisq``, ``df``, ``p``."""
        return pd.DataFrame({"term": [*self.names, "GLOBAL"],
                             "chisq": [*self.statistics, self.global_statistic],
                             "df": [1] * len(self.names) + [self.global_df],
                             "p": [*self.p_values, self.global_p_value]})


@dataclass(frozen=True)
class CoxResult:
    """A Cox model fitted by maximum partial likelihood (Breslow ties).

    Attributes
    ----------
    names : tuple of str
        One per coefficient (an arm's name, for :func:`fit_arms`).
    coefficients : ndarray (p,)
        Log hazard ratios.
    covariance : ndarray (p, p)
        Inverse of the observed information at the estimate.
    log_likelihood, null_log_likelihood : float
        The log partial likelihood at the estimate and at β = 0.
    n_observations, n_events, iterations : int
    time, event, covariates : ndarray
        The data in time order, for the residuals and the test of proportional hazards.
    """

    names: tuple[str, ...]
    coefficients: np.ndarray
    covariance: np.ndarray
    log_likelihood: float
    null_log_likelihood: float
    n_observations: int
    n_events: int
    iterations: int
    time: np.ndarray
    event: np.ndarray
    covariates: np.ndarray

    @property
    def standard_errors(self) -> np.ndarray:
        return np.sqrt(np.diag(self.covariance))

    @property
    def hazard_ratios(self) -> np.ndarray:
        return np.exp(self.coefficients)

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Each coefficient: ``log_hr``, ``se``, ``hr`` and its Wald interval ``lower``, ``upper``."""
        z = Z_95 if level == 0.95 else float(ndtri(0.5 + level / 2))
        se = self.standard_errors
        return pd.DataFrame({"log_hr": self.coefficients, "se": se, "hr": self.hazard_ratios,
                             "lower": np.exp(self.coefficients - z * se), "upper": np.exp(self.coefficients + z * se)},
                            index=pd.Index(self.names, name="term"))

    def schoenfeld_residuals(self) -> tuple[np.ndarray, np.ndarray]:
        """The event times (in time order) and each event's Schoenfeld residual x_i − x̄(t_i), ``(d, p)``."""
        _, _, _, residuals, event_times = _partial_likelihood(self.coefficients, self.time, self.event,
                                                              self.covariates)
        return event_times, residuals

    def proportional_hazards(self, transform: str = "km") -> ProportionalHazardsTest:
        """Grambsch and Therneau's test (module docstring) with time transformed by
        ``transform``: ``km`` (1 − the left-continuous Kaplan–Meier estimate at the event
        time, R's default), ``rank`` (of the event times, ties averaged), ``identity`` or ``log``."""
        if transform not in TIME_TRANSFORMS:
            raise InputError(f"transform {transform!r}: must be one of {', '.join(TIME_TRANSFORMS)}")
        times, residuals = self.schoenfeld_residuals()
        g = _transformed(times, transform, self.time, self.event)
        centred = g - g.mean()
        spread = float(centred @ centred)
        if spread == 0:
            raise InputError("the test of proportional hazards needs events at two or more distinct times")
        u = centred @ residuals
        d = self.n_events
        statistics = d * (self.covariance @ u) ** 2 / (np.diag(self.covariance) * spread)
        overall = float(d * u @ self.covariance @ u / spread)
        p = len(self.names)
        return ProportionalHazardsTest(self.names, statistics, chdtrc(1, statistics), overall, p,
                                       float(chdtrc(p, overall)), transform)


def _transformed(times: np.ndarray, transform: str, all_times: np.ndarray, all_events: np.ndarray) -> np.ndarray:
    if transform == "identity":
        return times
    if transform == "log":
        return np.log(times)
    if transform == "rank":
        # imported here only: scipy.stats takes half a second to import
        from scipy.stats import rankdata

        return rankdata(times)
    km = KaplanMeier.fit(all_times, all_events, time_unit="months")  # the unit does not enter a transform
    before = np.searchsorted(km.times, times, side="left")  # steps strictly before each event time
    return 1.0 - np.concatenate([[1.0], km.survival])[before]


def _partial_likelihood(beta: np.ndarray, time: np.ndarray, event: np.ndarray, x: np.ndarray):
    """Breslow log partial likelihood, score, information, Schoenfeld residuals and event
    times at ``beta``; ``time`` sorted ascending, ``x`` in the same order."""
    risk = np.exp(x @ beta)
    first = np.searchsorted(time, time, side="left")  # a tie's risk set starts at its first member

    def from_here(values: np.ndarray) -> np.ndarray:
        return np.cumsum(values[::-1], axis=0)[::-1][first]

    s0 = from_here(risk)
    s1 = from_here(risk[:, None] * x)
    s2 = from_here(risk[:, None, None] * x[:, :, None] * x[:, None, :])
    dead = event == 1
    mean = s1[dead] / s0[dead, None]
    log_likelihood = float((x[dead] @ beta).sum() - np.log(s0[dead]).sum())
    residuals = x[dead] - mean
    information = (s2[dead] / s0[dead, None, None] - mean[:, :, None] * mean[:, None, :]).sum(axis=0)
    return log_likelihood, residuals.sum(axis=0), information, residuals, time[dead]


def fit_cox(time, event, covariates, names: list[str] | tuple[str, ...]) -> CoxResult:
    """The Cox model of ``covariates`` (``(n, p)``, named ``names``) for right-censored
    data, by Newton–Raphson with step halving from β = 0.

    Raises
    ------
    InputError
        For data that are not right-censored times with 0/1 events, a covariate without
        spread, or a likelihood without a finite maximum (e.g. an arm with no events).
    """
    time = as_float_array(time, "time", ndim=(1,))
    event = as_float_array(event, "event", ndim=(1,))
    x = as_float_array(covariates, "covariates", ndim=(2,))
    names = tuple(names)
    if not (len(event) == len(time) == len(x)) or x.shape[1] != len(names):
        raise InputError(f"time ({len(time)}), event ({len(event)}), covariates {x.shape} and names ({len(names)}): "
                         "need one time, event and covariate row per patient and one name per column")
    if not (time > 0).all() or not np.isin(event, (0.0, 1.0)).all():
        raise InputError("time must be positive and event 1 (event) or 0 (censored)")
    if event.sum() == 0:
        raise InputError("no events: a Cox model needs at least one")
    for j, name in enumerate(names):
        if np.ptp(x[:, j]) == 0:
            raise InputError(f"covariate {name!r} is the same for every patient: its hazard ratio is not defined")
    order = np.argsort(time, kind="stable")
    time, event, x = time[order], event[order], x[order]
    beta = np.zeros(len(names))
    log_likelihood, score, information, _, _ = _partial_likelihood(beta, time, event, x)
    null = log_likelihood
    for iteration in range(1, _MAX_ITERATIONS + 1):
        step = np.linalg.solve(information, score)
        while True:
            trial = beta + step
            new, new_score, new_information, _, _ = _partial_likelihood(trial, time, event, x)
            if np.isfinite(new) and new >= log_likelihood - 1e-12 * abs(log_likelihood):
                break
            step = step / 2
            if np.abs(step).max() < _STEP_TOLERANCE:
                raise InputError("the partial likelihood has no finite maximum (an arm without events, or "
                                 "separated data)")
        beta, log_likelihood, score, information = trial, new, new_score, new_information
        if np.abs(step).max() < _STEP_TOLERANCE:
            break
    else:
        raise InputError(f"Newton–Raphson did not converge in {_MAX_ITERATIONS} iterations: the partial likelihood "
                         "may have no finite maximum (an arm without events)")
    covariance = np.linalg.inv(information)
    if not np.isfinite(covariance).all() or np.abs(beta).max() > 20:
        raise InputError("the partial likelihood has no finite maximum (an arm without events, or separated data)")
    return CoxResult(names, beta, 0.5 * (covariance + covariance.T), log_likelihood, null, len(time),
                     int(event.sum()), iteration, time, event, x)


def fit_arms(time, event, arm, control: str) -> CoxResult:
    """A Cox model of a trial's arms: one indicator per arm other than ``control``, in the
    order the arms first appear; coefficients are log hazard ratios against ``control``."""
    arm = np.asarray(arm).astype(str)
    arms = [str(name) for name in dict.fromkeys(arm)]
    if control not in arms:
        raise InputError(f"control arm {control!r} is not among the arms ({', '.join(arms)})")
    others = [name for name in arms if name != control]
    if not others:
        raise InputError(f"only the control arm {control!r}: a hazard ratio needs a second arm")
    covariates = np.column_stack([(arm == name).astype(float) for name in others])
    return fit_cox(time, event, covariates, others)
