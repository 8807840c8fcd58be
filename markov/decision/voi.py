"""Value of information: EVPI, population EVPI and EVPPI from a PSA sample.

Net benefit ``NB`` (e.g. from :func:`markov.cea.net_benefit`) comes as one value per
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
    Strong et al. Each parameter gets a cubic B-spline basis with knots at quantiles
    of its distinct sampled values (:data:`GAM_BASIS_SIZE` basis functions: 30, i.e. 26
    interior knots, for a single parameter; 8, 6 or 5 per parameter in a tensor
    product of 2, 3 or 4; fewer, down to a plain cubic, when ``(n/2)^(1/p)`` is
    smaller) and the penalty ``∫ f''(x)² dx`` over the sampled range, computed
    exactly. A group uses the tensor product of
    its members' bases with one penalty per member (the marginal penalty, Kronecker
    multiplied by identities), as in ``te()``. Smoothing parameters minimise the
    generalised cross-validation score ``n·RSS / (n - edf)²``: one is found on a grid
    and refined with a bounded scalar search, using a generalised eigendecomposition
    so that each trial value costs O(k²) for k basis functions; for a group, the
    member penalties start from a shared value and are then refined one member at a
    time (two passes, or one when the tensor basis has more than 300 functions).
    The unpenalised part of each basis is linear in each member, so with heavy
    smoothing the fit falls back to a (multi)linear regression. A jitter of 1e-7 of
    the mean diagonal of X'X keeps the normal equations solvable when some basis
    functions see (almost) no data, e.g. for discrete or correlated parameters.
``"gp"`` (any number of parameters; the default above four)
    Gaussian-process regression as in Strong et al.: inputs standardised,
    squared-exponential covariance ``σ² exp(-Σ_k (x_k - x'_k)² / δ_k²)`` with one
    length-scale per parameter, noise variance ``τσ²`` and a linear mean with a flat
    prior on its coefficients. ``δ`` and ``τ`` maximise the marginal likelihood (the
    mean coefficients integrated out, ``σ²`` profiled out) with L-BFGS-B and an
    analytic gradient, started from the best point of a coarse grid, on a seeded
    random subset of at most :data:`GP_HYPER_SAMPLES` samples.
    The posterior mean is then conditioned on at most :data:`GP_MAX_SAMPLES` samples
    (a seeded random subset: the covariance matrix takes ``8·m²`` bytes) and
    evaluated at every sample.

The estimate is never negative (the mean of a maximum is at least the maximum of
the means). It carries Monte-Carlo error, of order ``sd(INB)/√n``, and a small upward
bias from fitting noise, so an irrelevant parameter gets a small positive value and
a group holding every uncertain input can come out a little above the EVPI (the
regression's fitting error); compare EVPPIs with their EVPI, and use more samples
when the values of interest are small.
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import linalg, optimize
from scipy.interpolate import BSpline
from scipy.linalg import lapack

from .._validate import InputError, _first, _number, as_float_array
from .cea import net_benefit as _net_benefit

#: Fewest PSA samples :func:`evppi` accepts: the regressions need data to smooth.
MIN_EVPPI_SAMPLES = 50

#: Largest group the GAM fits (a tensor basis grows as the power of the group size).
GAM_MAX_PARAMETERS = 4

#: B-spline basis functions per parameter, by the number of parameters fitted together.
GAM_BASIS_SIZE = {1: 30, 2: 8, 3: 6, 4: 5}

#: Default cap on the samples the GP posterior is conditioned on (memory ``8·m²`` bytes).
GP_MAX_SAMPLES = 3000

#: Default cap on the samples used to estimate the GP hyperparameters.
GP_HYPER_SAMPLES = 500

Method = Literal["auto", "gam", "gp"]

_CITATION = "Strong, Oakley & Brennan 2014"

# log smoothing parameter (penalties scaled to the size of X'X): beyond these the fit
# no longer changes; narrower for tensor products, whose refinement needs a Cholesky
# factor of X'X plus the other penalties, to keep that factor well conditioned
_LOG_LAMBDA_RANGE = (np.log(1e-9), np.log(1e9))
_LOG_LAMBDA_RANGE_TENSOR = (np.log(1e-7), np.log(1e6))
_GRID_STEP = 0.25
# jitter on X'X (relative to its mean diagonal) for basis functions with little data
_RIDGE = 1e-7
# bounds on the GP's standardised length-scales and noise-to-signal variance ratio
_GP_LOG_DELTA = (np.log(0.05), np.log(100.0))
_GP_LOG_TAU = (np.log(1e-6), np.log(1e3))
_GP_PREDICT_ROWS = 2000


@dataclass(frozen=True, eq=False)
class EVPPIResult:
    """EVPPI of one parameter or group, with the regression behind it.

    Attributes
    ----------
    evppi : float
        Per-patient EVPPI, in the units of the net benefit.
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
        Per strategy, effective degrees of freedom of the GAM fit (including the
        intercept); NaN for the reference, a constant INB and the GP.
    diagnostics : pandas.DataFrame
        One row per non-reference strategy: ``strategy``, ``r_squared``, ``edf`` and,
        for the GAM, ``log10_lambda`` (the smoothing parameters, one per regressed
        parameter, penalties scaled to X'X) or, for the GP, ``length_scales`` (in the
        parameters' own units) and ``noise_ratio`` (noise over signal variance).
    """

    evppi: float
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
        :func:`markov.cea.net_benefit` (which puts a wtp axis first).
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
        lam = as_float_array(wtp, "wtp", ndim=(0,) if nb.ndim == 2 else (1,))
        if nb.ndim == 3 and lam.size != nb.shape[0]:
            raise InputError(
                f"wtp has {lam.size} values but net_benefit has {nb.shape[0]} along its first (wtp) axis: "
                "one willingness to pay per slice"
            )
        if (lam < 0).any():
            index = _first(lam < 0)
            raise InputError(
                f"wtp{list(index) if index else ''} is {_number(lam[index])}: willingness to pay must be 0 or more"
            )
    best = nb.mean(axis=-2).argmax(axis=-1)
    chosen = np.take_along_axis(nb, np.asarray(best)[..., None, None], axis=-1)[..., 0]
    value = (nb.max(axis=-1) - chosen).mean(axis=-1)
    return float(value) if nb.ndim == 2 else value


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
    lam = as_float_array(wtp, "wtp", ndim=(1,))
    values = np.empty(lam.size)
    # a few wtp values at a time, so memory stays at a few net-benefit matrices
    n_cells = max(int(np.size(costs)), 1)
    step = max(1, 4_000_000 // n_cells)
    for start in range(0, lam.size, step):
        values[start:start + step] = evpi(_net_benefit(costs, effects, lam[start:start + step]))
    return pd.DataFrame({"wtp": lam, "evpi": values})


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

def evppi(net_benefit, parameters, *, method: Method = "auto", gp_max_samples: int = GP_MAX_SAMPLES,
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
        ``"auto"``: the GAM for up to :data:`GAM_MAX_PARAMETERS` varying parameters,
        the GP beyond.
    gp_max_samples : int
        GP only: at most this many samples (a seeded random subset) condition the
        posterior mean, which is then evaluated at every sample.
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
        :data:`GAM_MAX_PARAMETERS` varying parameters.
    """
    nb, strategies = _net_benefit_matrix(net_benefit)
    values, names = _parameter_matrix(parameters, nb.shape[0])
    if method not in ("auto", "gam", "gp"):
        raise InputError(f"method is {method!r}: must be 'auto', 'gam' or 'gp'")
    for name, count in (("gp_max_samples", gp_max_samples), ("gp_hyper_samples", gp_hyper_samples)):
        if int(count) != count or count < 10:
            raise InputError(f"{name} is {count!r}: must be a whole number, 10 or more")
    return _evppi(nb, strategies, values, names, method, int(gp_max_samples), int(gp_hyper_samples), seed)


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
        columns), ``evppi``, ``method``, ``description``, ``n_samples`` (and ``wtp``),
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
    for label, members in rows:
        result = _evppi(nb, strategies, values[:, [column[m] for m in members]], tuple(members), method,
                        GP_MAX_SAMPLES, GP_HYPER_SAMPLES, 0)
        records.append((label, ", ".join(members), result.evppi, result.method, result.description,
                        result.n_samples))
    table = pd.DataFrame.from_records(
        records, columns=["parameter", "members", "evppi", "method", "description", "n_samples"])
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


def _evppi(nb: np.ndarray, strategies: tuple, values: np.ndarray, names: tuple[str, ...], method: str,
           gp_max_samples: int, gp_hyper_samples: int, seed: int) -> EVPPIResult:
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
    reference = int(nb.mean(axis=0).argmax())
    incremental = nb - nb[:, [reference]]
    fitted = np.zeros_like(nb)
    r_squared = np.full(s, np.nan)
    edf = np.full(s, np.nan)
    details: list[dict] = []
    if chosen == "gam":
        smoother = _TensorSpline(x)
        description = _describe_gam(smoother.sizes)
    elif chosen == "gp":
        gp = _GaussianProcess(x, gp_max_samples, gp_hyper_samples, seed)
        description = _describe_gp(gp.hyper.size, gp.train.size, n)
    else:
        description = "constant: no parameter of the group varies, so learning it is worth nothing"
    for d in range(s):
        if d == reference:
            continue
        y = incremental[:, d]
        row = {"strategy": strategies[d]}
        centre = y.mean()
        scale = y.std()
        if chosen == "constant" or scale == 0 or not np.isfinite(scale):
            # nothing to regress: the conditional expectation is the mean
            fitted[:, d] = centre
        else:
            standard = (y - centre) / scale
            if chosen == "gam":
                g, row["edf"], row["log10_lambda"] = smoother.fit(standard)
                edf[d] = row["edf"]
            else:
                g, row["length_scales"], row["noise_ratio"] = gp.fit(standard)
            fitted[:, d] = centre + scale * g
            r_squared[d] = 1.0 - np.sum((standard - g) ** 2) / np.sum(standard ** 2)
        row["r_squared"] = r_squared[d]
        details.append(row)
    best = int(fitted.mean(axis=0).argmax())
    value = float((fitted.max(axis=1) - fitted[:, best]).mean())
    columns = ["strategy", "r_squared", "edf"] + (
        ["log10_lambda"] if chosen == "gam" else ["length_scales", "noise_ratio"] if chosen == "gp" else [])
    diagnostics = pd.DataFrame(details, columns=columns)
    return EVPPIResult(
        evppi=value, method=chosen, description=description, parameters=tuple(names), constant=constant,
        n_samples=n, strategies=tuple(strategies), reference=reference, fitted=fitted,
        r_squared=tuple(float(r) for r in r_squared), edf=tuple(float(e) for e in edf), diagnostics=diagnostics,
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


def _describe_gam(sizes: tuple[int, ...]) -> str:
    if len(sizes) == 1:
        return (f"GAM: penalised cubic regression spline ({sizes[0]} B-spline basis functions, knots at quantiles, "
                f"penalty ∫f''²), smoothing parameter by GCV ({_CITATION})")
    return (f"GAM: tensor product of penalised cubic regression splines ({' × '.join(map(str, sizes))} B-spline "
            f"basis functions, knots at quantiles, one penalty ∫f''² per parameter), smoothing parameters by GCV "
            f"({_CITATION})")


def _describe_gp(hyper: int, train: int, n: int) -> str:
    return ("GP: Gaussian-process regression, squared-exponential covariance with one length-scale per parameter, "
            f"linear mean, hyperparameters by maximum marginal likelihood on {hyper} samples, posterior mean "
            f"conditioned on {train} and evaluated at all {n} ({_CITATION})")


# --- penalised regression splines -----------------------------------------------------

def _spline_margin(x: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Cubic B-spline design matrix (n, k) on knots at quantiles of the distinct values
    of ``x`` and the penalty matrix ``S_ij = ∫ B_i''(x) B_j''(x) dx`` over their range."""
    distinct = np.unique(x)
    lo, hi = distinct[0], distinct[-1]
    # knots on sampled values, evenly spaced in rank, so a discrete parameter gets
    # no knot between its values (and a binary one a plain cubic)
    ranks = np.round(np.linspace(0, distinct.size - 1, size - 2)[1:-1]).astype(int)
    interior = np.unique(distinct[ranks])
    interior = interior[(interior > lo) & (interior < hi)]
    knots = np.concatenate([[lo] * 4, interior, [hi] * 4])
    k = knots.size - 4
    design = BSpline.design_matrix(x, knots, 3).toarray()
    # B'' is linear between knots, so two Gauss-Legendre points per interval are exact
    breaks = np.unique(knots)
    middle, half = (breaks[1:] + breaks[:-1]) / 2, (breaks[1:] - breaks[:-1]) / 2
    nodes = np.concatenate([middle - half / np.sqrt(3), middle + half / np.sqrt(3)])
    weights = np.concatenate([half, half])
    second = BSpline(knots, np.eye(k), 3).derivative(2)(nodes)
    return design, second.T @ (weights[:, None] * second)


class _TensorSpline:
    """Penalised (tensor-product) cubic regression spline on the columns of ``x``,
    with GCV smoothing; :meth:`fit` takes a standardised response."""

    def __init__(self, x: np.ndarray):
        n, p = x.shape
        size = GAM_BASIS_SIZE[p]
        # keep the basis well below the sample size (each margin at least a cubic)
        size = max(4, min(size, int((n / 2) ** (1 / p))))
        design = None
        margins = []
        for j in range(p):
            b, penalty = _spline_margin(x[:, j], size)
            margins.append(penalty)
            design = b if design is None else (design[:, :, None] * b[:, None, :]).reshape(n, -1)
        self.design = design
        self.xtx = design.T @ design
        sizes = [m.shape[0] for m in margins]
        scale = np.linalg.norm(self.xtx)
        self.penalties = []
        for j, margin in enumerate(margins):
            full = np.kron(np.kron(np.eye(int(np.prod(sizes[:j]))), margin), np.eye(int(np.prod(sizes[j + 1:]))))
            self.penalties.append(full * (scale / np.linalg.norm(full)))
        self.base = self.xtx + _RIDGE * np.mean(np.diag(self.xtx)) * np.eye(self.xtx.shape[0])
        self.sizes = tuple(sizes)
        self.range = _LOG_LAMBDA_RANGE if p == 1 else _LOG_LAMBDA_RANGE_TENSOR
        self.sweeps = 0 if p == 1 else 2 if design.shape[1] <= 300 else 1
        # with one shared smoothing parameter the decomposition does not depend on y
        self._shared = _GCVProblem(self.base, sum(self.penalties), self.xtx)

    def fit(self, y: np.ndarray) -> tuple[np.ndarray, float, tuple[float, ...]]:
        """Fitted values, effective degrees of freedom and log10 smoothing parameters."""
        xty = self.design.T @ y
        rho, fitted, edf = self._shared.select(self.design, xty, y, self.range)
        rhos = [rho] * len(self.penalties)
        for _ in range(self.sweeps):
            moved = 0.0
            for j in range(len(self.penalties)):
                others = sum(np.exp(rhos[i]) * self.penalties[i] for i in range(len(rhos)) if i != j)
                new, fitted, edf = _GCVProblem(self.base + others, self.penalties[j], self.xtx).select(
                    self.design, xty, y, self.range)
                moved = max(moved, abs(new - rhos[j]))
                rhos[j] = new
            if moved < 0.1:
                break
        return fitted, edf, tuple(float(r / np.log(10)) for r in rhos)


class _GCVProblem:
    """``min ||y - Xβ||² + β'(B - X'X)β + λ β'Sβ`` over λ by GCV, for one base matrix B
    (X'X, a small ridge and any fixed penalties) and one penalty S.

    With ``B = LL'`` and ``L⁻¹SL⁻ᵀ = UDU'``, ``W = L⁻ᵀU`` turns ``B + λS`` into
    ``W⁻ᵀ(I + λD)W⁻¹``: β = W (I + λD)⁻¹ W'X'y and edf = Σ_i M_ii / (1 + λd_i) with
    ``M = W'X'XW``, so each trial λ costs O(k²).
    """

    def __init__(self, base: np.ndarray, penalty: np.ndarray, xtx: np.ndarray):
        factor = _cholesky(base)
        half = linalg.solve_triangular(factor, penalty, lower=True)
        whitened = linalg.solve_triangular(factor, half.T, lower=True)
        d, u = np.linalg.eigh((whitened + whitened.T) / 2)
        self.d = np.clip(d, 0.0, None)
        self.w = linalg.solve_triangular(factor.T, u, lower=False)
        self.m = self.w.T @ xtx @ self.w

    def select(self, design: np.ndarray, xty: np.ndarray, y: np.ndarray,
               bounds: tuple[float, float]) -> tuple[float, np.ndarray, float]:
        """The log smoothing parameter minimising GCV, with the fitted values and edf."""
        n = y.size
        z = self.w.T @ xty
        # RSS(c) = RSS(z) - 2 g'(c - z) + (c - z)'M(c - z) with g = W'X'(y - XWz): exact, and
        # free of the cancellation in ||y||² - 2c'z + c'Mc when the fit is nearly perfect
        residual = y - design @ (self.w @ z)
        rss_z = residual @ residual
        g = z - self.m @ z
        diag_m = np.diag(self.m)

        def gcv(rho: np.ndarray) -> np.ndarray:
            shrink = 1.0 / (1.0 + np.exp(rho)[None, :] * self.d[:, None])
            delta = z[:, None] * (shrink - 1.0)
            rss = rss_z - 2 * g @ delta + np.einsum("ij,ij->j", delta, self.m @ delta)
            edf = diag_m @ shrink
            slack = n - edf
            return np.where(slack >= 1.0, n * np.maximum(rss, 0.0) / np.maximum(slack, 1.0) ** 2, np.inf)

        grid = np.arange(bounds[0], bounds[1] + _GRID_STEP / 2, _GRID_STEP)
        scores = gcv(grid)
        best = int(np.argmin(scores))
        lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
        refined = optimize.minimize_scalar(lambda r: float(gcv(np.array([r]))[0]), bounds=(lo, hi),
                                           method="bounded", options={"xatol": 1e-3})
        rho = float(refined.x) if refined.fun <= scores[best] else float(grid[best])
        shrink = 1.0 / (1.0 + np.exp(rho) * self.d)
        return rho, design @ (self.w @ (z * shrink)), float(diag_m @ shrink)


def _cholesky(matrix: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor, with growing jitter if rounding leaves the matrix indefinite."""
    jitter = 0.0
    scale = np.mean(np.diag(matrix))
    for _ in range(6):
        try:
            return np.linalg.cholesky(matrix + jitter * np.eye(matrix.shape[0]))
        except np.linalg.LinAlgError:
            jitter = scale * 1e-8 if jitter == 0 else jitter * 100
    raise np.linalg.LinAlgError("could not factor the penalised normal equations")


# --- Gaussian-process regression ------------------------------------------------------

class _GaussianProcess:
    """GP regression (Strong, Oakley & Brennan 2014) on standardised inputs; :meth:`fit`
    takes a standardised response and returns the posterior mean at every sample."""

    def __init__(self, x: np.ndarray, max_samples: int, hyper_samples: int, seed: int):
        n, p = x.shape
        self.sd = x.std(axis=0)
        self.x = (x - x.mean(axis=0)) / self.sd
        order = np.random.default_rng(seed).permutation(n)
        self.train = np.sort(order[:min(n, max_samples)])
        self.hyper = np.sort(order[:min(n, hyper_samples, max_samples)])
        hx = self.x[self.hyper]
        # squared differences per input, one row per pair: (m², p)
        self.differences = ((hx[:, None, :] - hx[None, :, :]) ** 2).reshape(-1, p)
        self.h_hyper = np.column_stack([np.ones(hx.shape[0]), hx])

    def fit(self, y: np.ndarray) -> tuple[np.ndarray, tuple[float, ...], float]:
        p = self.x.shape[1]
        y_hyper = y[self.hyper]
        bounds = [_GP_LOG_DELTA] * p + [_GP_LOG_TAU]
        # the likelihood has local optima (e.g. all noise, linear mean only), so start
        # the search from the best of a coarse grid of common length-scales and noise
        starts = [np.concatenate([np.full(p, np.log(delta)), [np.log(tau)]])
                  for delta in (0.5, 1.0, 2.0, 4.0, 8.0) for tau in (0.01, 0.1, 1.0)]
        start = min(starts, key=lambda phi: self._objective(phi, y_hyper, gradient=False))
        found = optimize.minimize(self._objective, start, args=(y_hyper,), jac=True, method="L-BFGS-B",
                                  bounds=bounds, options={"maxiter": 200})
        log_delta, log_tau = found.x[:p], found.x[p]
        delta, tau = np.exp(log_delta), float(np.exp(log_tau))
        xt = self.x[self.train] / delta
        h = np.column_stack([np.ones(xt.shape[0]), self.x[self.train]])
        sigma = _squared_exponential(xt, xt)
        sigma[np.diag_indices_from(sigma)] += tau
        factor = linalg.cho_factor(sigma, lower=True, overwrite_a=True)
        inv_h = linalg.cho_solve(factor, h)
        beta = np.linalg.solve(h.T @ inv_h, inv_h.T @ y[self.train])
        alpha = linalg.cho_solve(factor, y[self.train] - h @ beta)
        fitted = np.empty(self.x.shape[0])
        for first in range(0, fitted.size, _GP_PREDICT_ROWS):
            rows = self.x[first:first + _GP_PREDICT_ROWS]
            mean = beta[0] + rows @ beta[1:]
            fitted[first:first + rows.shape[0]] = mean + _squared_exponential(rows / delta, xt) @ alpha
        return fitted, tuple(float(v) for v in delta * self.sd), tau

    def _objective(self, phi: np.ndarray, y: np.ndarray, gradient: bool = True):
        """Minus the log marginal likelihood per sample, σ² profiled out and the mean's
        coefficients integrated out under a flat prior, and its gradient in (log δ, log τ)."""
        p = self.x.shape[1]
        inverse_delta2, tau = np.exp(-2 * phi[:p]), np.exp(phi[p])
        m, q = y.size, self.h_hyper.shape[1]
        correlation = np.exp(-(self.differences @ inverse_delta2)).reshape(m, m)
        sigma = correlation + tau * np.eye(m)
        failed = (np.inf, np.zeros_like(phi)) if gradient else np.inf
        try:
            factor = linalg.cho_factor(sigma, lower=True)
        except linalg.LinAlgError:
            return failed
        inv_h = linalg.cho_solve(factor, self.h_hyper)
        gram_factor = linalg.cho_factor(self.h_hyper.T @ inv_h, lower=True)
        inv_y = linalg.cho_solve(factor, y)
        # a = Qy with Q = Σ⁻¹ - Σ⁻¹H (H'Σ⁻¹H)⁻¹ H'Σ⁻¹, which annihilates the mean; y'Qy / (m - q) is σ²'s estimate
        a = inv_y - inv_h @ linalg.cho_solve(gram_factor, self.h_hyper.T @ inv_y)
        yqy = float(y @ a)
        if yqy <= 0:
            return failed
        log_det = 2 * np.log(np.diag(factor[0])).sum() + 2 * np.log(np.diag(gram_factor[0])).sum()
        value = (0.5 * (m - q) * np.log(yqy) + 0.5 * log_det) / m
        if not gradient:
            return value
        # d/dφ = -½ tr((aa'/s - Q) dΣ/dφ), s = y'Qy / (m - q); dΣ/dlog δ_k = Σ ⊙ 2 D_k / δ_k²
        inverse, info = lapack.dpotri(factor[0], lower=1)
        if info != 0:
            return failed
        inverse = np.tril(inverse) + np.tril(inverse, -1).T
        q_matrix = inverse - inv_h @ linalg.cho_solve(gram_factor, inv_h.T)
        r = np.outer(a, a) * ((m - q) / yqy) - q_matrix
        grad = np.empty_like(phi)
        grad[:p] = -((r * correlation).reshape(-1) @ self.differences) * inverse_delta2
        grad[p] = -0.5 * tau * np.trace(r)
        return value, grad / m


def _squared_exponential(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``exp(-||a_i - b_j||²)`` for rows already divided by their length-scales."""
    distance = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2 * a @ b.T
    return np.exp(-np.maximum(distance, 0.0))
