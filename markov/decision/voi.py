"""Value of information: EVPI, population EVPI and EVPPI from a PSA sample.

Net benefit ``NB`` (e.g. from :func:`markov.decision.cea.net_benefit`) comes as one value per
PSA sample and strategy. With the expectation taken over the samples,

* the **expected value of perfect information** is what removing all uncertainty
  would gain a decision maker, per patient:
  ``EVPI = E[max_d NB_d] - max_d E[NB_d]``;
* the **expected value of partial perfect information** of a parameter (or a group of
  parameters) θ is what learning θ alone would gain:
  ``EVPPI(θ) = E_θ[max_d E[NB_d | θ]] - max_d E[NB_d]``.

Both are computed as mean regrets, ``mean_i (max_d NB_id - NB_i,d*)`` with ``d*`` the
strategy best on average, which is 0 exactly when ``d*`` wins in every sample and
avoids subtracting two large, nearly equal means.

EVPPI needs ``E[NB_d | θ]`` for every sampled θ; :func:`evppi` estimates it from the
PSA sample alone by the non-parametric regression method of Strong, Oakley & Brennan
(2014), *Estimating multiparameter partial expected value of perfect information from
a probabilistic sensitivity analysis sample: a nonparametric regression approach*,
Medical Decision Making 34(3):311-326. The incremental net benefit of each strategy
against a reference (here the strategy best on average) is regressed on θ; the fitted
values ``g_d(θ_i)`` estimate ``E[INB_d | θ_i]`` and, with ``g_ref = 0``,
``EVPPI = mean_i max_d g_d(θ_i) - max_d mean_i g_d(θ_i)``. Two regressions are offered:

``"gam"`` (one to four parameters)
    A penalised regression spline, the analogue of mgcv's ``s()``/``te()`` used by
    Strong et al.: a cubic B-spline basis per parameter, tensor products for a group,
    the smoothing parameter by generalised cross-validation, on every sample.
``"gp"`` (any number of parameters; the default above four)
    Gaussian-process regression as in Strong et al.: squared-exponential covariance
    with one length-scale per parameter and a linear mean, hyperparameters by maximum
    marginal likelihood on :data:`GP_HYPER_SAMPLES` samples, the posterior mean on
    every sample through :data:`GP_INDUCING_POINTS` inducing points.

:mod:`markov.decision.regression` describes both in full. Each costs time linear in
the number of samples, so every sample of a PSA of tens of thousands can be used.
They do many small matrix products, which a multi-threaded BLAS on a busy machine makes
many times slower (15 times, measured on a shared 2-core machine), so :func:`evppi` and
:func:`evppi_table` run them on one BLAS thread.

The estimate is never negative (the mean of a maximum is at least the maximum of
the means). Its **standard error** combines the two sources of error, as independent:

* Monte-Carlo error of the mean over samples: ``sd_i(r_i) / √n`` for the regrets
  ``r_i = max_d g_d(θ_i) - g_best(θ_i)``;
* the regression's error: Strong et al. draw the fitted values from the regression's
  posterior and take the spread of the EVPPIs they give. The EVPPI is, to first order
  in the fitted values, ``Σ_d Σ_i a_id g_d(θ_i)`` with ``a_id = (1[d best at θ_i] -
  1[d = best]) / n``, so its posterior variance is that of a linear combination of the
  coefficients, computed exactly from their posterior covariance (a delta method: the
  same variance, without the draws). Where no sample's choice differs from the
  overall best, it is 0, as is the EVPPI.

There is also a small upward bias from fitting noise, which the standard error does
not cover, so an irrelevant parameter gets a small positive value and a group holding
every uncertain input can come out a little above the EVPI (the regression's fitting
error); compare EVPPIs with their EVPI, and use more samples when the values of
interest are small.
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import linalg
from threadpoolctl import threadpool_limits

from .._validate import InputError, _first, _number, as_float_array
from ..engine import mean_regret
from . import cea
from .regression import GAM_MAX_PARAMETERS, GaussianProcess, TensorSpline

#: Fewest PSA samples :func:`evppi` accepts: the regressions need data to smooth.
MIN_EVPPI_SAMPLES = 50

#: Default number of inducing points of the GP (time ``n·m²``, memory ``8·m²`` bytes).
GP_INDUCING_POINTS = 200

#: Default number of samples used to estimate the GP hyperparameters (time ``m³`` per step).
GP_HYPER_SAMPLES = 200

#: Seconds the EVPPI regressions of a PSA may take by default, as estimated by
#: :func:`evppi_seconds`: :func:`evppi_sample_size` uses every draw while they fit.
EVPPI_TIME_BUDGET = 20.0

# CPU seconds to regress one strategy's incremental net benefit, (fixed, per 10,000
# samples), by the number of parameters regressed together (a GAM up to 4, then the GP
# with the default subsets); measured by benchmarks/bench_evppi.py on a 2-core machine
_SECONDS = {1: (0.002, 0.003), 2: (0.002, 0.005), 3: (0.004, 0.007), 4: (0.02, 0.03), "gp": (0.04, 0.15)}

Method = Literal["auto", "gam", "gp"]


@dataclass(frozen=True, eq=False)
class EVPPIResult:
    """EVPPI of one parameter or group, with the regression behind it.

    Attributes
    ----------
    evppi : float
        Per-patient EVPPI, in the units of the net benefit.
    standard_error : float
        Its standard error: Monte-Carlo error of the mean over samples and the
        regression's error, combined (module docstring).
    method : str
        ``"gam"``, ``"gp"``, or ``"constant"`` when no parameter varies (EVPPI 0).
    description : str
        The regression, in words, citing Strong, Oakley & Brennan (2014).
    parameters : tuple of str
        The parameters of the group, as given.
    constant : tuple of str
        Those left out of the regression because they take one value in every sample.
    n_samples : int
    strategies : tuple
        Strategy names (the columns of a DataFrame ``net_benefit``, else positions).
    reference : int
        Position of the reference strategy (the best on average).
    fitted : numpy.ndarray, shape (n_samples, n_strategies)
        Fitted ``E[NB_d - NB_ref | θ_i]``; the reference column is zeros.
    r_squared : tuple of float
        Per strategy, R² of its regression (NaN for the reference and for a strategy
        whose incremental net benefit does not vary).
    edf : tuple of float
        Per strategy, effective degrees of freedom of the regression (including the
        intercept); NaN for the reference and a constant INB.
    diagnostics : pandas.DataFrame
        One row per non-reference strategy: ``strategy``, ``r_squared``, ``edf`` and,
        for the GAM, ``log10_lambda`` (the smoothing parameter, penalties scaled to
        X'X) or, for the GP, ``length_scales`` (in the parameters' own units) and
        ``noise_ratio`` (noise over signal variance).
    """

    evppi: float
    standard_error: float
    method: str
    description: str
    parameters: tuple[str, ...]
    constant: tuple[str, ...]
    n_samples: int
    strategies: tuple
    reference: int
    fitted: np.ndarray
    r_squared: tuple[float, ...]
    edf: tuple[float, ...]
    diagnostics: pd.DataFrame


# --- EVPI -----------------------------------------------------------------------------

def evpi(net_benefit, wtp=None) -> float | np.ndarray:
    """Per-patient expected value of perfect information.

    ``EVPI = mean_i max_d NB_id - max_d mean_i NB_id``, computed as the mean regret
    ``mean_i (max_d NB_id - NB_i,d*)`` where ``d*`` has the largest mean: exactly 0
    when ``d*`` is best in every sample, and never negative.

    Parameters
    ----------
    net_benefit : array_like, shape (n_samples, n_strategies) or (n_wtp, n_samples, n_strategies)
        Net benefit of each strategy in each PSA sample, e.g. from
        :func:`markov.decision.cea.net_benefit` (which puts a wtp axis first).
    wtp : float or array_like, shape (n_wtp,), optional
        The willingness to pay of a 2-D ``net_benefit`` (a number), or the values along
        the first axis of a 3-D one. Only checked (finite, 0 or more, one per slice),
        so that a grid and the net benefits computed on it cannot be mismatched.

    Returns
    -------
    float or ndarray, shape (n_wtp,)

    Raises
    ------
    InputError
        For a wrong number of dimensions, no samples or strategies, a non-finite
        value, or a ``wtp`` not matching the first axis.
    """
    nb = as_float_array(net_benefit, "net_benefit", ndim=(2, 3))
    if 0 in nb.shape:
        raise InputError(f"net_benefit has shape {nb.shape}: at least one sample and one strategy are needed")
    if wtp is not None:
        lam = cea.check_wtp(wtp, ndim=(0,) if nb.ndim == 2 else (1,))
        if nb.ndim == 3 and lam.size != nb.shape[0]:
            raise InputError(
                f"wtp has {lam.size} values but net_benefit has {nb.shape[0]} along its first (wtp) axis: "
                "one willingness to pay per slice"
            )
    value = _mean_regret(nb)
    return float(value) if nb.ndim == 2 else value


def _mean_regret(nb: np.ndarray) -> np.ndarray:
    """:func:`evpi` of checked net benefits."""
    best = nb.mean(axis=-2).argmax(axis=-1)
    chosen = np.take_along_axis(nb, np.asarray(best)[..., None, None], axis=-1)[..., 0]
    regret = nb[..., 0].copy()  # the largest over strategies, one strategy at a time: numpy's max
    for j in range(1, nb.shape[-1]):  # over a short last axis is many times slower
        np.maximum(regret, nb[..., j], out=regret)
    regret -= chosen
    return regret.mean(axis=-1)


def evpi_curve(costs, effects, wtp) -> pd.DataFrame:
    """Per-patient EVPI of net monetary benefit ``wtp · E − C`` at each willingness to pay.

    Parameters
    ----------
    costs, effects : array_like, shape (n_samples, n_strategies)
        PSA samples of each strategy's cost and effect (e.g. QALYs).
    wtp : array_like, shape (n_wtp,)
        Willingness to pay per unit of effect, each 0 or more.

    Returns
    -------
    pandas.DataFrame
        Columns ``wtp`` and ``evpi``, one row per ``wtp`` in the order given.
    """
    for name, value in (("costs", costs), ("effects", effects)):
        if np.ndim(value) != 2:
            raise InputError(
                f"{name} has shape {np.shape(value)}: expected (n_samples, n_strategies), one row per PSA sample"
            )
    lam = cea.check_wtp(as_float_array(wtp, "wtp", ndim=(1,)))
    cost, effect, _ = cea.check_outcomes(costs, effects, None, ndim=(2,))
    # the mean regret against the decision on expected net benefit, in one compiled pass
    # over the samples: no net benefits of size wtp × samples
    chosen = cea.optimal_strategy(cost, effect, lam)
    return pd.DataFrame({"wtp": lam, "evpi": mean_regret(cost, effect, lam, chosen)})


def population_evpi(per_patient, annual_population: float, horizon_years: float,
                    discount_rate: float) -> float | np.ndarray:
    """Scale a per-patient EVPI (or EVPPI) to the population whose decisions it informs.

    ``population = per_patient × Σ_{t=0}^{H-1} N / (1 + r)^t`` for a whole number of
    years ``H``: ``N`` patients a year, each year's cohort discounted to the start of
    that year (the first year undiscounted). A fractional horizon ``H = h + f``
    (``h`` whole years, ``0 < f < 1``) adds the part-year pro rata, ``f · N / (1 + r)^h``,
    so the result grows continuously with ``H``.

    Parameters
    ----------
    per_patient : float or array_like
        Per-patient value(s), 0 or more (e.g. one per willingness to pay).
    annual_population : float
        Patients facing the decision each year, 0 or more.
    horizon_years : float
        Years over which the decision applies, above 0.
    discount_rate : float
        Annual discount rate, 0 or more (0.035 for 3.5%).

    Returns
    -------
    float, or ndarray of the shape of ``per_patient``
    """
    value = as_float_array(per_patient, "per_patient", ndim=None)
    if (value < 0).any():
        index = _first(value < 0)
        raise InputError(
            f"per_patient{list(index) if index else ''} is {_number(value[index])}: "
            "a value of information is 0 or more"
        )
    population = _scalar(annual_population, "annual_population")
    horizon = _scalar(horizon_years, "horizon_years")
    rate = _scalar(discount_rate, "discount_rate")
    if population < 0:
        raise InputError(f"annual_population is {_number(population)}: must be 0 or more")
    if horizon <= 0:
        raise InputError(f"horizon_years is {_number(horizon)}: must be above 0")
    if rate < 0:
        raise InputError(f"discount_rate is {_number(rate)}: must be 0 or more")
    whole = np.floor(horizon)
    v = 1.0 / (1.0 + rate)
    # Σ_{t<h} v^t in closed form, so a long horizon needs no array of years
    years = whole if rate == 0 else (1.0 - v ** whole) / (1.0 - v)
    years += (horizon - whole) * v ** whole
    result = value * population * years
    return float(result) if result.ndim == 0 else result


def _scalar(value, name: str) -> float:
    array = as_float_array(value, name, ndim=(0,))
    return float(array)


# --- EVPPI ----------------------------------------------------------------------------

def evppi_seconds(n_samples: int, group_sizes: Sequence[int], regressions: int) -> float:
    """Estimated seconds of EVPPI by the default regressions (``method="auto"``).

    Parameters
    ----------
    n_samples : int
        Samples regressed on.
    group_sizes : sequence of int
        The number of parameters of each row of the table (1 for a single parameter).
    regressions : int
        Strategies regressed per row, summed over the tables (one fewer than the
        strategies of each population: the reference is not regressed).
    """
    fixed = per_sample = 0.0
    for size in group_sizes:
        cost = _SECONDS[size if size <= GAM_MAX_PARAMETERS else "gp"]
        fixed += cost[0]
        per_sample += cost[1] / 10_000
    return regressions * (fixed + per_sample * n_samples)


def evppi_sample_size(n_draws: int, group_sizes: Sequence[int], regressions: int,
                      budget: float = EVPPI_TIME_BUDGET) -> int:
    """How many draws the EVPPI regressions use: all ``n_draws`` while their estimated
    time (:func:`evppi_seconds`) is within ``budget`` seconds, else as many as fit in it,
    but at least :data:`MIN_EVPPI_SAMPLES` (or all draws, if fewer).

    The estimate, not a measurement, decides, so the same PSA gives the same EVPPI on
    any machine.
    """
    fixed = evppi_seconds(0, group_sizes, regressions)
    per_sample = evppi_seconds(1, group_sizes, regressions) - fixed
    affordable = int((budget - fixed) / per_sample) if per_sample > 0 else n_draws
    return int(min(n_draws, max(affordable, MIN_EVPPI_SAMPLES)))


def evppi(net_benefit, parameters, *, method: Method = "auto", gp_inducing_points: int = GP_INDUCING_POINTS,
          gp_hyper_samples: int = GP_HYPER_SAMPLES, seed: int = 0) -> EVPPIResult:
    """Per-patient EVPPI of one parameter or one group, by non-parametric regression.

    The method of Strong, Oakley & Brennan (2014): with the strategy best on average
    as reference, each other strategy's incremental net benefit is regressed on the
    parameter(s); the fitted values ``g_d(θ_i)`` estimate ``E[INB_d | θ_i]`` and
    ``EVPPI = mean_i max_d g_d(θ_i) - max_d mean_i g_d(θ_i)`` (``g_ref = 0``).
    See the module docstring for the regressions.

    Parameters
    ----------
    net_benefit : array_like or pandas.DataFrame, shape (n_samples, n_strategies)
        Net benefit per PSA sample and strategy (a DataFrame's columns name the
        strategies).
    parameters : array_like, shape (n_samples,) or (n_samples, p), or pandas Series / DataFrame
        The sampled values of the parameter(s) of interest, row ``i`` from the same
        PSA sample as row ``i`` of ``net_benefit``. Names come from a Series' name or
        a DataFrame's columns, else ``x0, x1, …``. Parameters that never vary are
        left out (learning them is worth nothing); if none varies the EVPPI is 0.
    method : {"auto", "gam", "gp"}
        ``"auto"``: the GAM for up to
        :data:`~markov.decision.regression.GAM_MAX_PARAMETERS` (4) varying parameters,
        the GP beyond.
    gp_inducing_points : int
        GP only: at most this many samples (a seeded random subset) are the inducing
        points through which every sample informs the posterior mean.
    gp_hyper_samples : int
        GP only: at most this many of those samples estimate the hyperparameters.
    seed : int
        Seed of the GP's subsets (the GAM uses every sample and no randomness).

    Returns
    -------
    EVPPIResult

    Raises
    ------
    InputError
        For shapes that do not match, fewer than :data:`MIN_EVPPI_SAMPLES` samples,
        non-finite values, an unknown method, or the GAM asked for more than
        :data:`~markov.decision.regression.GAM_MAX_PARAMETERS` varying parameters.
    """
    nb, strategies = _net_benefit_matrix(net_benefit)
    values, names = _parameter_matrix(parameters, nb.shape[0])
    if method not in ("auto", "gam", "gp"):
        raise InputError(f"method is {method!r}: must be 'auto', 'gam' or 'gp'")
    for name, count in (("gp_inducing_points", gp_inducing_points), ("gp_hyper_samples", gp_hyper_samples)):
        if int(count) != count or count < 10:
            raise InputError(f"{name} is {count!r}: must be a whole number, 10 or more")
    with threadpool_limits(limits=1, user_api="blas"):
        return _evppi(nb, _Responses.of(nb), strategies, values, names, method, int(gp_inducing_points),
                      int(gp_hyper_samples), seed)


def evppi_table(net_benefit, parameters: pd.DataFrame, groups: Mapping[str, Sequence[str]] | None = None,
                *, method: Method = "auto", wtp_label=None) -> pd.DataFrame:
    """EVPPI of every parameter on its own and of each named group.

    Parameters
    ----------
    net_benefit : array_like or pandas.DataFrame, shape (n_samples, n_strategies)
    parameters : pandas.DataFrame, shape (n_samples, n_parameters)
        One column per uncertain input, named.
    groups : mapping of str to sequence of str, optional
        Group name → the columns of ``parameters`` learnt together.
    method : {"auto", "gam", "gp"}
        As for :func:`evppi`, for every row.
    wtp_label : optional
        If given, a column ``wtp`` holding it, to tell apart tables at several
        willingness-to-pay values.

    Returns
    -------
    pandas.DataFrame
        Columns ``parameter`` (name, or group name), ``members`` (comma-joined
        columns), ``evppi``, ``standard_error``, ``method``, ``description``,
        ``n_samples`` (and ``wtp``),
        one row per parameter then per group, sorted by ``evppi`` descending (ties in
        that order). A parameter that never varies gets 0 and method ``"constant"``.
    """
    if not isinstance(parameters, pd.DataFrame):
        raise InputError(
            f"parameters is a {type(parameters).__name__}: evppi_table needs a pandas DataFrame, one named column "
            "per parameter"
        )
    if method not in ("auto", "gam", "gp"):
        raise InputError(f"method is {method!r}: must be 'auto', 'gam' or 'gp'")
    nb, strategies = _net_benefit_matrix(net_benefit)
    values, names = _parameter_matrix(parameters, nb.shape[0])
    if len(set(names)) != len(names):
        repeated = sorted({name for name in names if names.count(name) > 1})
        raise InputError(f"parameters: columns {repeated} repeat: each parameter needs a unique name")
    column = {name: j for j, name in enumerate(names)}
    rows: list[tuple[str, list[str]]] = [(name, [name]) for name in names]
    for group, members in (groups or {}).items():
        if isinstance(members, str):
            raise InputError(f"groups[{group!r}] is the string {members!r}: give a list of parameter names")
        members = [str(member) for member in members]
        missing = [member for member in members if member not in column]
        if missing:
            raise InputError(f"groups[{group!r}] names {missing}, not columns of parameters: "
                             "a group lists columns of parameters")
        if not members or len(set(members)) != len(members):
            raise InputError(f"groups[{group!r}] is {members}: a group needs at least one parameter, each once")
        rows.append((str(group), members))
    records = []
    responses = _Responses.of(nb)
    with threadpool_limits(limits=1, user_api="blas"):
        for label, members in rows:
            result = _evppi(nb, responses, strategies, values[:, [column[m] for m in members]], tuple(members),
                            method, GP_INDUCING_POINTS, GP_HYPER_SAMPLES, 0)
            records.append((label, ", ".join(members), result.evppi, result.standard_error, result.method,
                            result.description, result.n_samples))
    table = pd.DataFrame.from_records(
        records, columns=["parameter", "members", "evppi", "standard_error", "method", "description", "n_samples"])
    if wtp_label is not None:
        table["wtp"] = [wtp_label] * len(table)
    return table.sort_values("evppi", ascending=False, kind="stable").reset_index(drop=True)


def _net_benefit_matrix(net_benefit) -> tuple[np.ndarray, tuple[Hashable, ...]]:
    if isinstance(net_benefit, pd.DataFrame):
        strategies = tuple(net_benefit.columns)
        net_benefit = net_benefit.to_numpy()
    else:
        strategies = None
    nb = as_float_array(net_benefit, "net_benefit", ndim=(2,))
    n, s = nb.shape
    if s < 1:
        raise InputError(f"net_benefit has shape {nb.shape}: at least one strategy (column) is needed")
    if n < MIN_EVPPI_SAMPLES:
        raise InputError(
            f"net_benefit has {n} samples (shape {nb.shape}): EVPPI by regression needs at least "
            f"{MIN_EVPPI_SAMPLES} PSA samples, one per row"
        )
    return nb, strategies if strategies is not None else tuple(range(s))


def _parameter_matrix(parameters, n_samples: int) -> tuple[np.ndarray, tuple[str, ...]]:
    if isinstance(parameters, pd.DataFrame):
        names = tuple(str(c) for c in parameters.columns)
        parameters = parameters.to_numpy()
    elif isinstance(parameters, pd.Series):
        names = (str(parameters.name) if parameters.name is not None else "x0",)
        parameters = parameters.to_numpy()
    else:
        names = None
    values = as_float_array(parameters, "parameters", ndim=(1, 2), finite=False)
    if values.ndim == 1:
        values = values[:, None]
    if names is None:
        names = tuple(f"x{j}" for j in range(values.shape[1]))
    if values.shape[0] != n_samples:
        raise InputError(
            f"parameters has {values.shape[0]} rows (shape {values.shape}) but net_benefit has {n_samples} samples: "
            "one row of parameter values per PSA sample"
        )
    if values.shape[1] < 1:
        raise InputError(f"parameters has shape {values.shape}: at least one parameter (column) is needed")
    bad = ~np.isfinite(values)
    if bad.any():
        i, j = _first(bad)
        raise InputError(
            f"parameters [sample {i}, parameter {names[j]!r}] is {_number(values[i, j])}: "
            "every value must be a finite number"
        )
    return values, names


@dataclass(frozen=True, eq=False)
class _Responses:
    """What every row of a table regresses: each strategy's incremental net benefit
    against the reference (the strategy best on average), standardised where it varies."""

    reference: int
    centre: np.ndarray
    scale: np.ndarray
    varying: list[int]
    standard: np.ndarray

    @classmethod
    def of(cls, nb: np.ndarray) -> _Responses:
        reference = int(nb.mean(axis=0).argmax())
        incremental = nb - nb[:, [reference]]
        centre, scale = incremental.mean(axis=0), incremental.std(axis=0)
        varying = [d for d in range(nb.shape[1]) if d != reference and 0 < scale[d] < np.inf]
        return cls(reference, centre, scale, varying, (incremental[:, varying] - centre[varying]) / scale[varying])


def _evppi(nb: np.ndarray, responses: _Responses, strategies: tuple, values: np.ndarray, names: tuple[str, ...],
           method: str, gp_inducing_points: int, gp_hyper_samples: int, seed: int) -> EVPPIResult:
    n, s = nb.shape
    varies = np.ptp(values, axis=0) > 0
    constant = tuple(name for name, v in zip(names, varies, strict=True) if not v)
    x = _independent_columns(values[:, varies])
    p = x.shape[1]
    if p == 0:
        chosen = "constant"
    elif method == "auto":
        chosen = "gam" if p <= GAM_MAX_PARAMETERS else "gp"
    else:
        chosen = method
    if chosen == "gam" and p > GAM_MAX_PARAMETERS:
        raise InputError(
            f"method is 'gam' but {p} parameters vary ({', '.join(np.asarray(names)[varies])}): "
            f"the GAM fits at most {GAM_MAX_PARAMETERS} together; use method='gp' or 'auto'"
        )
    # nothing to regress for the reference, a constant INB or a constant group: the
    # conditional expectation is the mean
    regressed = responses.varying if chosen != "constant" else []
    centre, scale = responses.centre, responses.scale
    fitted = np.tile(centre, (n, 1))
    r_squared, edf = np.full(s, np.nan), np.full(s, np.nan)
    details = {d: {} for d in range(s)}
    if chosen == "gam":
        regression = TensorSpline(x)
    elif chosen == "gp":
        regression = GaussianProcess(x, gp_inducing_points, gp_hyper_samples, seed)
    description = (regression.description if chosen != "constant" else
                   "constant: no parameter of the group varies, so learning it is worth nothing")
    if regressed:
        fit = regression.fit(responses.standard)
        fitted[:, regressed] = centre[regressed] + scale[regressed] * fit.fitted
        residual = responses.standard - fit.fitted
        r_squared[regressed] = 1.0 - np.einsum("ij,ij->j", residual, residual) / n  # the responses have variance 1
        edf[regressed] = fit.edf
        details.update(zip(regressed, fit.details, strict=True))
    best = int(fitted.mean(axis=0).argmax())
    # the best strategy at each sample (the first, on ties), column by column: s is small
    choice, top = np.zeros(n, dtype=np.intp), fitted[:, 0].copy()
    for d in range(1, s):
        better = fitted[:, d] > top
        choice[better] = d
        np.maximum(top, fitted[:, d], out=top)
    regret = top - fitted[:, best]
    variance = regret.var(ddof=1) / n
    if regressed:
        # d EVPPI / d g_d(θ_i) = (1[d best at θ_i] - 1[d best on average]) / n, in standardised units
        columns = np.asarray(regressed)
        weights = ((choice[:, None] == columns).astype(float) - (best == columns)) * (scale[regressed] / n)
        variance += float(np.sum(fit.variance(weights)))
    rows = [{"strategy": strategies[d], "r_squared": r_squared[d], "edf": edf[d], **details[d]}
            for d in range(s) if d != responses.reference]
    columns = ["strategy", "r_squared", "edf"] + (
        ["log10_lambda"] if chosen == "gam" else ["length_scales", "noise_ratio"] if chosen == "gp" else [])
    return EVPPIResult(
        evppi=float(regret.mean()), standard_error=float(np.sqrt(variance)), method=chosen, description=description,
        parameters=tuple(names), constant=constant, n_samples=n, strategies=tuple(strategies),
        reference=responses.reference, fitted=fitted, r_squared=tuple(float(r) for r in r_squared),
        edf=tuple(float(e) for e in edf), diagnostics=pd.DataFrame(rows, columns=columns),
    )


def _independent_columns(x: np.ndarray) -> np.ndarray:
    """``x`` without the columns that are linear combinations of the others and a constant
    (the counts of a Dirichlet row always sum to the same total): learning them adds
    nothing, and they would make the regression's design singular. Columns in order."""
    if x.shape[1] < 2:
        return x
    standard = (x - x.mean(axis=0)) / x.std(axis=0)
    r, pivots = linalg.qr(standard, mode="r", pivoting=True)
    diagonal = np.abs(np.diag(r))
    rank = int(np.count_nonzero(diagonal > 1e-8 * diagonal[0]))
    return x if rank == x.shape[1] else x[:, np.sort(pivots[:rank])]
