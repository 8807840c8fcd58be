"""Global sensitivity analysis with SALib: Sobol, Morris, and delta / PAWN on a PSA sample.

SALib designs live on the unit hypercube; each column is an uncertain input's
probability, and the input is its distribution's inverse CDF at it
(:meth:`ModelInputs.transform`), exactly as in the PSA. So the indices describe the
model under the PSA's distributions, not under arbitrary uniform ranges.

* :func:`sobol` — first-order and total Sobol indices from Saltelli's design on a
  scrambled Sobol sequence (SALib ``sample.sobol`` / ``analyze.sobol``), with 95%
  bootstrap intervals. ``groups`` gives one index per named set of inputs (a block
  drawn jointly, or every input of one source); the design then has ``N·(G + 2)``
  rows for ``G`` groups instead of ``N·(D + 2)`` for ``D`` inputs.
* :func:`morris` — elementary effects (SALib ``sample.morris`` / ``analyze.morris``)
  on a grid over each input's 2.5%–97.5% quantiles (the ends of the hypercube are the
  0 and 100% quantiles, infinite for unbounded distributions).
* :func:`delta` and :func:`pawn` — moment-independent indices computed on an existing
  PSA sample: no further model runs.

The outcome is, per population, the incremental net monetary benefit (or incremental
cost or QALYs) of the population's comparison (intervention vs comparator). Generic
versions (:func:`sobol_indices`, :func:`morris_indices`) take any function of the
uniforms, e.g. the Ishigami function in the tests.
"""
from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from .._validate import InputError, check_count
from ..engine.memory import reused_array_memory
from ..inputs.load import ModelInputs
from ..models import build_model
from ..probabilistic.psa import PSAResults, outcomes_table
from .dsa import HIGH_QUANTILE, LOW_QUANTILE

Outcome = Literal["incremental_nmb", "incremental_cost", "incremental_qalys"]
OUTCOMES = ("incremental_nmb", "incremental_cost", "incremental_qalys")
# Keeps a design's points strictly inside (0, 1), where every inverse CDF is finite.
_EDGE = 2.0**-40

Function = Callable[[np.ndarray], Mapping[str, np.ndarray]]

# SALib is imported in the functions that use it: it imports scipy.stats, about half a
# second that every other command (and every PSA worker) would pay for.


def groups_by_source(inputs: ModelInputs) -> dict[str, list[str]]:
    """The uncertain inputs grouped by the evidence file they come from."""
    groups: dict[str, list[str]] = {}
    for ref in inputs.uncertain:
        groups.setdefault(ref.partition(".")[0], []).append(ref)
    return groups


def _problem(names: Sequence[str], groups: Mapping[str, Sequence[str]] | None, bounds=(0.0, 1.0)) -> dict:
    problem = {"num_vars": len(names), "names": list(names), "bounds": [list(bounds)] * len(names)}
    if groups:
        membership: dict[str, str] = {}
        for group, members in groups.items():
            for name in members:
                if name not in names:
                    raise InputError(f"groups.{group}: {name!r} is not an uncertain input")
                if name in membership:
                    raise InputError(f"groups.{group}: {name!r} is already in group {membership[name]!r}")
                membership[name] = group
        missing = [name for name in names if name not in membership]
        if missing:
            raise InputError(f"groups: {missing[0]!r} (and {len(missing) - 1} more) belong to no group; every "
                             "uncertain input must be in one")
        problem["groups"] = [membership[name] for name in names]
    return problem


def _salib_seed(seed: int) -> int:
    """SALib's analyzers ignore a seed of 0 (``if seed:``), so they get ``seed + 1``."""
    return int(seed) + 1


def sobol_indices(function: Function, names: Sequence[str], n: int, *, seed: int = 1,
                  groups: Mapping[str, Sequence[str]] | None = None, resamples: int = 1000) -> pd.DataFrame:
    """First-order and total Sobol indices of each output of ``function``.

    Parameters
    ----------
    function : callable
        Maps uniforms ``(m, len(names))`` strictly inside (0, 1) to named outputs,
        each ``(m,)``.
    names : sequence of str
        One per column.
    n : int
        Base samples (a power of 2 keeps the Sobol sequence balanced); the design has
        ``n·(D + 2)`` rows (``D`` inputs or groups).
    groups : mapping, optional
        Group name -> its members; indices are then per group.
    resamples : int
        Bootstrap resamples for the 95% intervals.

    Returns
    -------
    DataFrame
        ``output``, ``parameter`` (input or group), ``S1``, ``S1_conf``, ``ST``,
        ``ST_conf`` (half-widths of 95% intervals); ``attrs["evaluations"]``.
    """
    n = check_count("n", n, 2)
    if not names:
        raise InputError("no uncertain inputs: every input is fixed, so there is no variance to apportion")
    from SALib.analyze import sobol as salib_sobol_analyze
    from SALib.sample import sobol as salib_sobol_sample

    problem = _problem(names, groups)
    design = salib_sobol_sample.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)
    outputs = function(np.clip(design, _EDGE, 1.0 - _EDGE))
    labels = list(dict.fromkeys(problem["groups"])) if groups else list(names)
    frames = []
    for output, values in outputs.items():
        values = np.asarray(values, dtype=float)
        if not np.all(np.isfinite(values)):
            raise InputError(f"output {output!r}: {int(np.sum(~np.isfinite(values)))} non-finite values")
        indices = salib_sobol_analyze.analyze(problem, values, calc_second_order=False, num_resamples=resamples,
                                              conf_level=0.95, seed=_salib_seed(seed))
        frames.append(pd.DataFrame({"output": output, "parameter": labels, **{
            key: np.asarray(indices[key]) for key in ("S1", "S1_conf", "ST", "ST_conf")}}))
    table = pd.concat(frames, ignore_index=True)
    table.attrs.update(evaluations=len(design), base_samples=n, method="Sobol (Saltelli design, SALib)")
    return table


def morris_indices(function: Function, names: Sequence[str], trajectories: int, *, levels: int = 4, seed: int = 1,
                   groups: Mapping[str, Sequence[str]] | None = None, resamples: int = 1000) -> pd.DataFrame:
    """Morris elementary-effect screening of each output of ``function`` (as in
    :func:`sobol_indices`), on a ``levels``-level grid over [2.5%, 97.5%] of each
    uniform. Returns ``output``, ``parameter``, ``mu``, ``mu_star``, ``mu_star_conf``,
    ``sigma``."""
    trajectories = check_count("trajectories", trajectories, 2)
    levels = check_count("levels", levels, 2)
    if not names:
        raise InputError("no uncertain inputs: every input is fixed, so there is nothing to screen")
    if groups:
        raise InputError("Morris with groups gives no σ (SALib); screen inputs one by one, or use Sobol for groups")
    from SALib.analyze import morris as salib_morris_analyze
    from SALib.sample import morris as salib_morris_sample

    problem = _problem(names, groups, bounds=(LOW_QUANTILE, HIGH_QUANTILE))
    design = salib_morris_sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    outputs = function(design)
    labels = list(dict.fromkeys(problem["groups"])) if groups else list(names)
    frames = []
    for output, values in outputs.items():
        indices = salib_morris_analyze.analyze(problem, design, np.asarray(values, dtype=float),
                                               num_resamples=resamples, conf_level=0.95, num_levels=levels,
                                               seed=_salib_seed(seed))
        frames.append(pd.DataFrame({"output": output, "parameter": labels, **{
            key: np.asarray(indices[key], dtype=float) for key in ("mu", "mu_star", "mu_star_conf", "sigma")}}))
    table = pd.concat(frames, ignore_index=True)
    table.attrs.update(evaluations=len(design), method="Morris elementary effects (SALib)")
    return table


# --- a model ------------------------------------------------------------------

def model_function(inputs: ModelInputs, *, outcome: Outcome = "incremental_nmb", wtp: float | None = None,
                   chunk_size: int = 500, progress: Callable[[int, int], None] | None = None) -> Function:
    """The model as a function of uniforms over the uncertain inputs: per population,
    the chosen incremental outcome of its comparison, evaluated ``chunk_size`` rows at a
    time."""
    if outcome not in OUTCOMES:
        raise InputError(f"outcome is {outcome!r}: must be one of {', '.join(OUTCOMES)}")
    if outcome == "incremental_nmb" and (wtp is None or not np.isfinite(wtp) or wtp < 0):
        raise InputError(f"wtp is {wtp!r}: incremental NMB needs a willingness to pay of 0 or more")
    model = build_model(inputs)

    def function(uniforms: np.ndarray) -> dict[str, np.ndarray]:
        pieces: dict[str, list[np.ndarray]] = {p: [] for p in inputs.populations}
        with reused_array_memory():  # each chunk's arrays in the memory of the chunk before
            for start in range(0, len(uniforms), chunk_size):
                params = inputs.transform(uniforms[start:start + chunk_size])
                table = outcomes_table(model.evaluate(params, keep_traces=False))
                for p, population in inputs.populations.items():
                    a, b = table[p][population.comparison.intervention], table[p][population.comparison.comparator]
                    d_cost, d_qalys = (a["cost"] - b["cost"]).to_numpy(), (a["qalys"] - b["qalys"]).to_numpy()
                    pieces[p].append({"incremental_cost": d_cost, "incremental_qalys": d_qalys,
                                      "incremental_nmb": (wtp or 0.0) * d_qalys - d_cost}[outcome])
                if progress is not None:
                    progress(min(start + chunk_size, len(uniforms)), len(uniforms))
        return {p: np.concatenate(values) for p, values in pieces.items()}

    return function


def _labelled(table: pd.DataFrame, inputs: ModelInputs, outcome: str, wtp: float | None) -> pd.DataFrame:
    table = table.rename(columns={"output": "population"})
    table.insert(1, "outcome", outcome)
    table.insert(2, "wtp", wtp)
    table["label"] = [inputs.label(p) if p in inputs.uses else f"{inputs.source_label(p)} (all its inputs)"
                      for p in table["parameter"]]
    return table


def sobol(inputs: ModelInputs, n: int = 1024, *, seed: int = 1, outcome: Outcome = "incremental_nmb",
          wtp: float | None = None, groups: Mapping[str, Sequence[str]] | None = None, chunk_size: int = 500,
          progress=None) -> pd.DataFrame:
    """Sobol indices of each population's comparison (see :func:`sobol_indices`).
    Columns: ``population``, ``outcome``, ``wtp``, ``parameter``, ``S1``, ``S1_conf``,
    ``ST``, ``ST_conf``, ``label``."""
    function = model_function(inputs, outcome=outcome, wtp=wtp, chunk_size=chunk_size, progress=progress)
    table = sobol_indices(function, inputs.uncertain, n, seed=seed, groups=groups)
    attrs = table.attrs
    table = _labelled(table, inputs, outcome, wtp)
    table.attrs.update(attrs)
    return table


def morris(inputs: ModelInputs, trajectories: int = 50, *, levels: int = 4, seed: int = 1,
           outcome: Outcome = "incremental_nmb", wtp: float | None = None,
           groups: Mapping[str, Sequence[str]] | None = None, chunk_size: int = 500, progress=None) -> pd.DataFrame:
    """Morris screening of each population's comparison (see :func:`morris_indices`)."""
    function = model_function(inputs, outcome=outcome, wtp=wtp, chunk_size=chunk_size, progress=progress)
    table = morris_indices(function, inputs.uncertain, trajectories, levels=levels, seed=seed, groups=groups)
    attrs = table.attrs
    table = _labelled(table, inputs, outcome, wtp)
    table.attrs.update(attrs)
    return table


#: Fewest PSA samples for delta and PAWN: PAWN's 10 slices need at least 10 samples each.
MIN_PSA_SAMPLES = 100


def _psa_outcome(psa: PSAResults, population: str, wtp: float) -> tuple[pd.DataFrame, np.ndarray]:
    if psa.n_samples < MIN_PSA_SAMPLES:
        raise InputError(f"the PSA has {psa.n_samples} samples: delta and PAWN need at least {MIN_PSA_SAMPLES}")
    parameters = psa.parameters  # the inputs of the first len(parameters) samples
    varying = [c for c in parameters.columns if parameters[c].nunique() > 1]
    return parameters[varying], psa.incremental_net_benefit(population, wtp)[:len(parameters)]


def delta(psa: PSAResults, population: str, wtp: float, *, seed: int = 1, resamples: int = 20,
          max_samples: int | None = 2000) -> pd.DataFrame:
    """Borgonovo's moment-independent delta of each uncertain input for the population's
    incremental NMB at ``wtp``, from the PSA sample itself (SALib ``analyze.delta``).

    SALib's kernel estimator is slow (about a second per input for 2,000 samples with
    20 bootstrap resamples), so by default it runs on a seeded random subset of
    ``max_samples`` samples (``None``: all); :func:`pawn` is the fast alternative.

    Columns ``parameter``, ``label``, ``delta`` and ``delta_conf`` (SALib's raw
    estimate), ``delta_balanced`` and ``delta_balanced_conf`` (its bias-reduced
    variant), ``S1`` and ``S1_conf`` (first-order Sobol estimated from the same sample).
    SALib's notices on bin merging are kept in ``attrs["notes"]``.
    """
    x, y = _psa_outcome(psa, population, wtp)
    if max_samples is not None and len(y) > check_count("max_samples", max_samples, 50):
        keep = np.sort(np.random.default_rng(seed).choice(len(y), max_samples, replace=False))
        x, y = x.iloc[keep], y[keep]
    from SALib.analyze import delta as salib_delta

    problem = _problem(list(x.columns), None)
    notices = io.StringIO()
    with contextlib.redirect_stdout(notices), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        indices = salib_delta.analyze(problem, x.to_numpy(), y, num_resamples=resamples, conf_level=0.95,
                                      seed=_salib_seed(seed))
    columns = {"delta": "delta_raw", "delta_conf": "delta_raw_conf", "delta_balanced": "delta_balanced",
               "delta_balanced_conf": "delta_balanced_conf", "S1": "S1", "S1_conf": "S1_conf"}
    table = pd.DataFrame({"parameter": list(x.columns), "label": [psa.input_labels[c] for c in x.columns],
                          **{ours: np.asarray(indices[theirs]) for ours, theirs in columns.items()}})
    table.attrs.update(method="Borgonovo delta (SALib), on the PSA sample", n_samples=len(y),
                       notes=notices.getvalue().splitlines() + [str(w.message) for w in caught])
    return table.sort_values("delta", ascending=False, ignore_index=True)


def pawn(psa: PSAResults, population: str, wtp: float, *, slices: int = 10, seed: int = 1) -> pd.DataFrame:
    """PAWN indices (Kolmogorov–Smirnov distance between the unconditional and the
    conditional output distributions over ``slices`` slices of each input) from the PSA
    sample (SALib ``analyze.pawn``). Columns ``parameter``, ``label``, ``minimum``,
    ``mean``, ``median``, ``maximum``, ``CV``."""
    x, y = _psa_outcome(psa, population, wtp)
    from SALib.analyze import pawn as salib_pawn

    problem = _problem(list(x.columns), None)
    indices = salib_pawn.analyze(problem, x.to_numpy(), y, S=check_count("slices", slices, 2),
                                seed=_salib_seed(seed))
    table = pd.DataFrame({"parameter": list(x.columns), "label": [psa.input_labels[c] for c in x.columns],
                          **{key: np.asarray(indices[key]) for key in ("minimum", "mean", "median", "maximum", "CV")}})
    table.attrs.update(method=f"PAWN (SALib, {slices} slices), on the PSA sample", n_samples=len(y))
    return table.sort_values("median", ascending=False, ignore_index=True)
