"""Frequentist network meta-analysis of log hazard ratios (contrast-based, two-arm and
multi-arm trials), as NICE DSU TSD 2 sets out the model and TSD 18 the anchored
comparison: every treatment is compared through the network's common comparators, never
by reading arms across trials.

:func:`fit_network` fits the fixed-effect and the random-effects model by generalised
least squares on the basic parameters, each treatment against ``reference``
(:mod:`~markov.survival.synthesis.gls`), and returns a :class:`NetworkMetaAnalysis`:

- each model's :class:`NetworkEstimates`: log hazard ratios against the reference with
  their covariance matrix (the joint distribution a probabilistic analysis draws from),
  every pairwise hazard ratio with its confidence interval, and a league table;
- :class:`Heterogeneity`: Cochran's Q of the fixed-effect model with its df and p, τ² (REML
  by default, or DerSimonian–Laird) and I² = max(0, (Q − df)/Q) (Higgins and Thompson 2002);
- :class:`Inconsistency`: the design-by-treatment interaction test (Higgins et al. 2012;
  the decomposition of Q of Krahn, Binder and König 2013). Each design (set of treatments
  a trial compares) gets its own parameters; Q_inconsistency = Q(consistency model) −
  Q(design-by-treatment model) on df = the difference of their ranks, at τ² = 0 (fixed)
  and at the τ² of the design-by-treatment model (random). A network without loops has
  df 0: consistency cannot be tested there, and the test says so.

A star network (every trial against the reference) reduces to inverse-variance pooling
per comparison and to Bucher et al.'s (1997) adjusted indirect comparison between them.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.special import chdtrc, ndtri  # not scipy.stats: half a second to import

from ..._validate import InputError
from ...uncertainty import Z_95
from .contrasts import TrialContrasts
from .gls import Contrasts, estimate_tau2, gls

MODELS = ("fixed", "random")


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise InputError(f"level {level!r}: a confidence level lies strictly between 0 and 1")
    return Z_95 if level == 0.95 else float(ndtri(0.5 + level / 2))


@dataclass(frozen=True)
class NetworkEstimates:
    """One model's estimates: ``log_hazard_ratios[i]`` is log HR(``treatments[i]`` vs
    ``reference``); ``covariance`` is their joint covariance."""

    model: str
    reference: str
    treatments: tuple[str, ...]
    log_hazard_ratios: np.ndarray
    covariance: np.ndarray
    tau2: float

    @property
    def standard_errors(self) -> np.ndarray:
        return np.sqrt(np.diag(self.covariance))

    def _vector(self, treatment: str) -> np.ndarray:
        """The combination of basic parameters that is ``treatment`` vs the reference."""
        if treatment == self.reference:
            return np.zeros(len(self.treatments))
        if treatment not in self.treatments:
            raise InputError(f"treatment {treatment!r} is not in the network "
                             f"({', '.join((self.reference, *self.treatments))})")
        return np.eye(len(self.treatments))[self.treatments.index(treatment)]

    def contrast(self, treatment: str, versus: str | None = None) -> tuple[float, float]:
        """log HR of ``treatment`` vs ``versus`` (default: the reference) and its standard error."""
        c = self._vector(treatment) - self._vector(self.reference if versus is None else versus)
        return float(c @ self.log_hazard_ratios), float(np.sqrt(c @ self.covariance @ c))

    def _rows(self, pairs, level: float) -> pd.DataFrame:
        z = _z(level)
        rows = []
        for treatment, versus in pairs:
            log_hr, se = self.contrast(treatment, versus)
            rows.append({"treatment": treatment, "versus": versus, "log_hr": log_hr, "se": se,
                         "hr": np.exp(log_hr), "lower": np.exp(log_hr - z * se), "upper": np.exp(log_hr + z * se)})
        return pd.DataFrame(rows)

    def hazard_ratios(self, level: float = 0.95) -> pd.DataFrame:
        """Each treatment against the reference: ``log_hr``, ``se``, ``hr``, ``lower``, ``upper``."""
        return self._rows([(t, self.reference) for t in self.treatments], level)

    def pairwise(self, level: float = 0.95) -> pd.DataFrame:
        """Every pair once, the later treatment (reference first) against the earlier."""
        order = (self.reference, *self.treatments)
        return self._rows([(b, a) for a, b in combinations(order, 2)], level)

    def league_table(self, level: float = 0.95, digits: int = 2) -> pd.DataFrame:
        """Square table: the cell in row i, column j is HR (95% CI) of treatment i against
        treatment j; the diagonal names the treatment."""
        order = (self.reference, *self.treatments)
        z = _z(level)
        cells = {}
        for row in order:
            cells[row] = {}
            for column in order:
                if row == column:
                    cells[row][column] = row
                    continue
                log_hr, se = self.contrast(row, column)
                cells[row][column] = (f"{np.exp(log_hr):.{digits}f} ({np.exp(log_hr - z * se):.{digits}f} to "
                                      f"{np.exp(log_hr + z * se):.{digits}f})")
        return pd.DataFrame.from_dict(cells, orient="index")[list(order)]


@dataclass(frozen=True)
class Heterogeneity:
    """Cochran's Q of the fixed-effect model (df, p), τ² by ``tau2_method`` and I²."""

    q: float
    df: int
    p_value: float
    tau2: float
    tau2_method: str
    i2: float

    @property
    def note(self) -> str:
        return ("no residual degrees of freedom: one trial per comparison and no loop, so the data say nothing "
                "about between-trial variance (tau2 = 0)") if self.df == 0 else ""


@dataclass(frozen=True)
class Inconsistency:
    """The design-by-treatment interaction test: Q, df and p at τ² = 0 (fixed) and at the
    within-design τ² (random); ``n_designs`` designs."""

    q_fixed: float
    q_random: float
    df: int
    p_fixed: float
    p_random: float
    tau2_within_designs: float
    n_designs: int

    method: ClassVar[str] = "design-by-treatment interaction (Higgins et al. 2012; Q decomposed as Krahn et al. 2013)"

    @property
    def note(self) -> str:
        return "no loops in the network: consistency cannot be tested (df = 0)" if self.df == 0 else ""


@dataclass(frozen=True)
class NetworkMetaAnalysis:
    """A fitted network: its trials, both models, heterogeneity and inconsistency."""

    reference: str
    treatments: tuple[str, ...]
    trials: tuple[TrialContrasts, ...]
    fixed: NetworkEstimates
    random: NetworkEstimates
    heterogeneity: Heterogeneity
    inconsistency: Inconsistency

    def estimates(self, model: str) -> NetworkEstimates:
        """The ``fixed`` or ``random`` model's estimates."""
        if model not in MODELS:
            raise InputError(f"model {model!r}: must be one of {', '.join(MODELS)}")
        return self.fixed if model == "fixed" else self.random

    def direct_trials(self, treatment: str) -> list[str]:
        """The trials that compare ``treatment`` with the reference directly."""
        return [trial.name for trial in self.trials if {treatment, self.reference} <= set(trial.arms)]

    def table(self, level: float = 0.95) -> pd.DataFrame:
        """Each treatment against the reference under each model, with the trials that
        compare them directly."""
        frames = []
        for model in MODELS:
            frame = self.estimates(model).hazard_ratios(level)
            frame.insert(0, "model", model)
            frame["tau2"] = self.estimates(model).tau2
            frame["direct_trials"] = ["; ".join(self.direct_trials(t)) for t in frame["treatment"]]
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def trial_table(self, level: float = 0.95) -> pd.DataFrame:
        """Every trial's contrasts as they entered the network, each beside the test of
        proportional hazards of the Cox fit it came from (where there is one)."""
        z = _z(level)
        rows = []
        for trial in self.trials:
            test = trial.proportional_hazards
            for i, treatment in enumerate(trial.treatments):
                log_hr, se = trial.log_hazard_ratios[i], float(np.sqrt(trial.covariance[i, i]))
                rows.append({
                    "trial": trial.name, "treatment": treatment, "versus": trial.control, "source": trial.source,
                    "log_hr": log_hr, "se": se, "hr": np.exp(log_hr), "lower": np.exp(log_hr - z * se),
                    "upper": np.exp(log_hr + z * se),
                    "ph_test": f"Grambsch-Therneau, {test.transform} time" if test else "",
                    "ph_chisq": test.statistics[i] if test else np.nan, "ph_p": test.p_values[i] if test else np.nan,
                    "ph_global_p": test.global_p_value if test else np.nan})
        return pd.DataFrame(rows)

    def forest_table(self, level: float = 0.95) -> pd.DataFrame:
        """The rows of a forest plot against the reference: for each treatment, every trial
        that compares it with the reference directly (that trial's own estimate), then the
        fixed- and random-effects network estimates. Columns ``treatment``, ``label``,
        ``kind`` (``trial``, ``fixed`` or ``random``), ``hr``, ``lower``, ``upper``."""
        z = _z(level)
        rows = []
        for treatment in self.treatments[1:]:
            for trial in self.trials:
                if not {treatment, self.reference} <= set(trial.arms):
                    continue
                # each arm's log hazard against the trial's control (0 for the control), and their covariance
                effect = np.concatenate([[0.0], trial.log_hazard_ratios])
                covariance = np.pad(trial.covariance, ((1, 0), (1, 0)))
                c = np.zeros(len(trial.arms))
                c[trial.arms.index(treatment)] += 1.0
                c[trial.arms.index(self.reference)] -= 1.0
                log_hr, se = float(c @ effect), float(np.sqrt(c @ covariance @ c))
                rows.append({"treatment": treatment, "label": trial.name, "kind": "trial", "hr": np.exp(log_hr),
                             "lower": np.exp(log_hr - z * se), "upper": np.exp(log_hr + z * se)})
            for model in MODELS:
                log_hr, se = self.estimates(model).contrast(treatment)
                rows.append({"treatment": treatment, "label": f"network, {model} effect{'s' * (model == 'random')}",
                             "kind": model, "hr": np.exp(log_hr), "lower": np.exp(log_hr - z * se),
                             "upper": np.exp(log_hr + z * se)})
        return pd.DataFrame(rows)

    def statistics(self) -> pd.DataFrame:
        """Heterogeneity and inconsistency, one row per test and model."""
        h, c = self.heterogeneity, self.inconsistency
        return pd.DataFrame([
            {"test": "heterogeneity (Cochran's Q)", "model": "fixed", "q": h.q, "df": h.df, "p": h.p_value,
             "tau2": h.tau2, "tau2_method": h.tau2_method, "i2": h.i2, "method": "generalised Cochran's Q",
             "note": h.note},
            {"test": "inconsistency", "model": "fixed", "q": c.q_fixed, "df": c.df, "p": c.p_fixed, "tau2": 0.0,
             "tau2_method": "", "i2": np.nan, "method": c.method, "note": c.note},
            {"test": "inconsistency", "model": "random", "q": c.q_random, "df": c.df, "p": c.p_random,
             "tau2": c.tau2_within_designs, "tau2_method": h.tau2_method, "i2": np.nan, "method": c.method,
             "note": c.note},
        ])


def _stack(trials: Sequence[TrialContrasts]) -> Contrasts:
    blocks_s, blocks_p, rows = [], [], []
    for trial in trials:
        k = len(trial.treatments)
        blocks_s.append(trial.covariance)
        blocks_p.append(0.5 * (np.eye(k) + np.ones((k, k))))
        rows += [(trial.name, treatment, trial.control) for treatment in trial.treatments]
    size = len(rows)
    S, P = np.zeros((size, size)), np.zeros((size, size))
    start = 0
    for s, p in zip(blocks_s, blocks_p, strict=True):
        stop = start + len(s)
        S[start:stop, start:stop], P[start:stop, start:stop] = s, p
        start = stop
    y = np.concatenate([trial.log_hazard_ratios for trial in trials])
    trial, treatment, control = (tuple(column) for column in zip(*rows, strict=True))
    return Contrasts(y, S, P, trial, treatment, control)


def _check_connected(trials: Sequence[TrialContrasts], treatments: tuple[str, ...]) -> None:
    """Every treatment is linked to the reference (``treatments[0]``) through trials."""
    linked, frontier = {treatments[0]}, [treatments[0]]
    while frontier:
        node = frontier.pop()
        for trial in trials:
            if node in trial.arms:
                for arm in trial.arms:
                    if arm not in linked:
                        linked.add(arm)
                        frontier.append(arm)
    apart = [t for t in treatments if t not in linked]
    if apart:
        raise InputError(f"the network is not connected: {', '.join(apart)} share no chain of trials with the "
                         f"reference {treatments[0]!r}")


def fit_network(trials: Sequence[TrialContrasts], reference: str, tau2_method: str = "reml") -> NetworkMetaAnalysis:
    """Fixed-effect and random-effects network meta-analysis of ``trials``.

    Parameters
    ----------
    trials : sequence of TrialContrasts
        Each trial's log hazard ratios against its control, with their covariance.
    reference : str
        The treatment every basic parameter is against (e.g. sorafenib).
    tau2_method : {"reml", "dl"}
        The estimator of the between-trial variance τ²
        (:mod:`~markov.survival.synthesis.gls`).

    Returns
    -------
    NetworkMetaAnalysis
        Treatments in the order: the reference, then as they first appear in ``trials``.
    """
    trials = tuple(trials)
    names = [trial.name for trial in trials]
    if not trials:
        raise InputError("a network meta-analysis needs at least one trial")
    if len(set(names)) != len(names):
        raise InputError(f"trials {names}: each trial may appear once")
    treatments = tuple(dict.fromkeys([reference, *(arm for trial in trials for arm in trial.arms)]))
    if not any(reference in trial.arms for trial in trials):
        raise InputError(f"reference {reference!r} is in no trial")
    _check_connected(trials, treatments)
    data = _stack(trials)
    X = data.design({t: i for i, t in enumerate(treatments[1:])}, lambda row, t: t)
    fixed = gls(data, X)
    tau2 = estimate_tau2(data, X, tau2_method)
    random = gls(data, X, tau2)
    others = treatments[1:]
    estimates = {model: NetworkEstimates(model, reference, others, f.estimates, f.covariance, f.tau2)
                 for model, f in (("fixed", fixed), ("random", random))}
    p_value = float(chdtrc(fixed.df, fixed.q)) if fixed.df else np.nan
    i2 = max(0.0, (fixed.q - fixed.df) / fixed.q) if fixed.df and fixed.q > 0 else (0.0 if fixed.df else np.nan)
    heterogeneity = Heterogeneity(fixed.q, fixed.df, p_value, tau2, tau2_method, i2)
    return NetworkMetaAnalysis(reference, treatments, trials, estimates["fixed"], estimates["random"],
                               heterogeneity, _inconsistency(data, X, trials, treatments, tau2_method))


def _inconsistency(data: Contrasts, X: np.ndarray, trials: Sequence[TrialContrasts], treatments: tuple[str, ...],
                   tau2_method: str) -> Inconsistency:
    """The design-by-treatment interaction test (module docstring)."""
    order = {t: i for i, t in enumerate(treatments)}
    design_of = {trial.name: tuple(sorted(trial.arms, key=order.get)) for trial in trials}
    columns: dict[tuple, int] = {}
    for design in dict.fromkeys(design_of.values()):
        for treatment in design[1:]:  # the design's first treatment is its baseline
            columns[(design, treatment)] = len(columns)
    interaction = data.design(columns, lambda row, t: (design_of[data.trial[row]], t))
    df = int(np.linalg.matrix_rank(interaction)) - int(np.linalg.matrix_rank(X))
    within = estimate_tau2(data, interaction, tau2_method)
    q = {}
    for model, tau2 in (("fixed", 0.0), ("random", within)):
        q[model] = max(0.0, gls(data, X, tau2).q - gls(data, interaction, tau2).q) if df else 0.0
    p = {model: float(chdtrc(df, value)) if df else np.nan for model, value in q.items()}
    return Inconsistency(q["fixed"], q["random"], df, p["fixed"], p["random"], within,
                         len(set(design_of.values())))
