"""How an evidence value is drawn in a probabilistic analysis.

* On its own (:func:`distribution_of`): the distribution its entry names, or the one that
  follows from what its source reports (a CI, a standard error, ``n``, a range).
* Jointly with other values of its file (:class:`JointDraw`): a Dirichlet over observed
  counts, a Dirichlet over shares with a concentration (an effective sample size), possibly
  splitting another share (``of``), or a multivariate normal.
* As another value minus a decrement with its own distribution (:class:`Decrement`), so
  that it never exceeds that value (a utility after progression never above the one
  before).

Every one is a transform of independent U(0, 1) draws, so that a PSA and a SALib design
feed the same function (:meth:`markov.inputs.ModelInputs.transform`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .. import uncertainty
from .._validate import InputError

if TYPE_CHECKING:  # the schemas of evidence files, which use this module's functions
    from .evidence import DistributionSpec, EvidenceFile, EvidenceValue, JointDistribution

_POSITIVE = {"months", "weeks", "days", "years", "hazard_ratio", "odds_ratio", "ratio", "mg", "mg_per_kg", "kg"}


def distribution_of(item: EvidenceValue):
    """The distribution of a value drawn on its own.

    The value's own ``distribution`` if it names one; otherwise, by what the source
    reports: a 95% CI gives a log-normal for positive quantities (ratios, durations,
    doses, weights), a beta for proportions and utilities (standard error = CI width /
    3.92) and a gamma for money; a standard error gives a beta, gamma or normal likewise;
    a proportion with ``n`` gives Beta(value·n, (1 − value)·n). An assumption is triangular
    over its ``range`` with its value as the mode; a price with a ``range`` (e.g. a
    published ±20%) is a gamma whose 95% interval has the range's width. Otherwise the
    value is fixed (a list price, a dose). A value drawn jointly or as a decrement gets
    its distribution from the library (:meth:`markov.inputs.EvidenceLibrary.drawn`).
    """
    spec, unit = item.distribution, item.unit
    if spec is not None:
        return named(spec, item.value)
    bounded = unit in ("proportion", "utility", "utility_decrement")
    if item.ci95 is not None:
        low, high = item.ci95
        if unit in _POSITIVE and low > 0:
            return uncertainty.LogNormal.from_ci(item.value, low, high)
        se = (high - low) / (2 * uncertainty.Z_95)
    else:
        se = item.se
    if se is not None:
        if bounded:
            return uncertainty.Beta.from_mean_se(item.value, se)
        if unit == "money" or unit in _POSITIVE:
            return uncertainty.Gamma.from_mean_se(item.value, se)
        return uncertainty.Normal(item.value, se)
    if bounded and item.n is not None and 0 < item.value < 1:
        return uncertainty.Beta(item.value * item.n, (1 - item.value) * item.n)
    if item.range is not None and item.range[0] < item.range[1]:
        if item.status == "assumption":
            return uncertainty.Triangular(item.range[0], item.value, item.range[1])
        if unit == "money":
            return uncertainty.Gamma.from_mean_se(item.value, (item.range[1] - item.range[0]) / (2 * uncertainty.Z_95))
    return uncertainty.Fixed(item.value)


def named(spec: DistributionSpec, value: float):
    """The distribution ``spec`` names (``value``: the estimate, for ``fixed``); a beta is
    given by alpha and beta or by mean and se (method of moments)."""
    if spec.type == "fixed":
        return uncertainty.Fixed(value)
    if spec.type == "beta":
        if spec.alpha is not None:
            return uncertainty.Beta(spec.alpha, spec.beta)
        return uncertainty.Beta.from_mean_se(spec.mean, spec.se)
    if spec.type == "gamma":
        return uncertainty.Gamma.from_mean_se(spec.mean, spec.se)
    if spec.type == "lognormal":
        return uncertainty.LogNormal.from_mean_se(spec.mean, spec.se)
    if spec.type == "normal":
        return uncertainty.Normal(spec.mean, spec.se)
    if spec.type == "uniform":
        return uncertainty.Uniform(spec.low, spec.high)
    return uncertainty.Triangular(spec.low, spec.mode, spec.high)


def recentred_spec(spec: DistributionSpec, old: float, value: float) -> dict:
    """The fields of a named distribution centred on ``value`` instead of ``old`` with its
    spread kept: its standard error (beta, gamma, log-normal, normal; a beta re-fitted by
    mean and SE) or its width around the new value (uniform, triangular)."""
    if spec.type == "beta":
        moved = uncertainty.Beta.from_mean_se(value, float(named(spec, old).sd))
        return {"type": "beta", "alpha": moved.alpha, "beta": moved.beta}
    if spec.type in ("gamma", "lognormal", "normal"):
        return {**spec.model_dump(exclude_none=True), "mean": value}
    if spec.type in ("uniform", "triangular"):
        shift = value - (old if spec.mode is None else spec.mode)
        return {**spec.model_dump(exclude_none=True), "low": spec.low + shift, "high": spec.high + shift,
                **({"mode": value} if spec.mode is not None else {})}
    return spec.model_dump(exclude_none=True)


def recentred(item: EvidenceValue, value) -> dict:
    """The fields of ``item`` that change when its point estimate becomes ``value`` and its
    uncertainty keeps its spread: a 95% CI of a positive quantity (log-normal) is scaled by
    the ratio of the values, any other CI shifted by their difference; a named
    distribution keeps its standard error (beta, gamma, log-normal, normal) or its width
    around the new mode (uniform, triangular); a standard error, ``n`` or a range stay as
    they are (the range must still hold the value). A decrement's distribution is
    re-centred by the library, which knows the value it is taken from."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return {"value": value}  # validated, and refused, as the value itself
    old, value = item.value, float(value)
    update: dict = {"value": value}
    if item.ci95 is not None:
        low, high = item.ci95
        if item.unit in _POSITIVE and low > 0 and old > 0 and value > 0:
            update["ci95"] = (low * value / old, high * value / old)
        else:
            update["ci95"] = (low + value - old, high + value - old)
    if item.distribution is not None and item.distribution.type != "fixed":
        update["distribution"] = recentred_spec(item.distribution, old, value)
    return update


@dataclass(frozen=True)
class JointDraw:
    """Values drawn together: ``transform`` maps uniforms ``(n, len(references))`` to
    their values, in the order of ``references``.

    A Dirichlet over counts draws counts with the observed total (``scale``); a Dirichlet
    over shares draws shares summing to 1 or, when the block splits another share
    (``parent``), to that share's drawn value in each sample (``scale``: its estimate).
    """

    name: str
    references: tuple[str, ...]
    distribution: uncertainty.Dirichlet | uncertainty.MultivariateNormal
    scale: float = 1.0
    #: The share the block's shares split (they sum to it), drawn before them.
    parent: str | None = None
    #: The value setting a Dirichlet's spread over shares (α = concentration × share).
    concentration: str | None = None
    #: Shares rather than counts: a Dirichlet with a concentration.
    shares: bool = False

    @classmethod
    def of(cls, name: str, joint: JointDistribution, file: EvidenceFile) -> JointDraw:
        stem = name.partition(".")[0]
        references = tuple(f"{stem}.{value}" for value in joint.values)
        estimates = np.array([file.values[value].value for value in joint.values])
        try:
            if joint.distribution == "multivariate_normal":
                return cls(name, references, uncertainty.MultivariateNormal(estimates, np.array(joint.covariance)))
            if joint.concentration is None:
                return cls(name, references, uncertainty.Dirichlet(estimates), float(estimates.sum()))
            # the shares sum to 1, or to the share they split: α is the concentration times
            # each one's part of that sum, and the draws are scaled back to it
            total = float(estimates.sum())
            alpha = file.values[joint.concentration].value * estimates / (total if total > 0 else 1.0)
            return cls(name, references, uncertainty.Dirichlet(alpha), total, joint.of,
                       f"{stem}.{joint.concentration}", True)
        except InputError as error:  # name the file and the block, not only the rule
            raise InputError(f"evidence {stem!r}: joint.{name.partition('.')[2]}: {error}") from None

    @property
    def n_uniforms(self) -> int:
        return len(self.references)

    @property
    def needs(self) -> tuple[str, ...]:
        """Values drawn before this block that its draws depend on."""
        return () if self.parent is None else (self.parent,)

    def transform(self, u, parent: np.ndarray | None = None) -> np.ndarray:
        """The block's values for uniforms ``u`` ``(n, k)``; ``parent``: the drawn values of
        the share the block splits (one per row), when it splits one."""
        drawn = self.distribution.transform(u)
        if self.parent is None:
            return drawn * self.scale
        return drawn * np.asarray(parent, dtype=float)[:, None]

    def one_at_a_time(self, reference: str, quantiles) -> np.ndarray:
        """Values of ``reference`` at ``quantiles`` of its marginal distribution, the block's
        other values at their estimates (for a one-way sensitivity analysis): for a
        Dirichlet over counts, the count that makes its share of the row that quantile of
        its Beta(α_j, Σα − α_j) marginal; over shares, that quantile itself (times the
        share the block splits, at its estimate); for a multivariate normal, its normal
        quantile."""
        j = self.references.index(reference)
        u = np.asarray(quantiles, dtype=float)
        block = self.distribution
        if isinstance(block, uncertainty.MultivariateNormal):
            return uncertainty.Normal(float(block.mean[j]), float(block.sd[j])).ppf(u)
        own, others = float(block.alpha[j]), float(block.alpha.sum() - block.alpha[j])
        if own == 0 or others == 0:  # a share fixed at 0 or 1
            return np.full(u.shape, float(own > 0) * self.scale if self.shares else own)
        share = uncertainty.Beta(own, others).ppf(u)
        if self.shares:
            return share * self.scale
        return share * others / (1.0 - share)

    def __str__(self) -> str:
        if self.shares:
            within = f"{self.parent} x " if self.parent else ""
            return f"{within}{self.distribution} (concentration {self.concentration}), jointly ({self.name})"
        total = f" x {self.scale:g}" if self.distribution.__class__ is uncertainty.Dirichlet else ""
        return f"{self.distribution}{total}, jointly ({self.name})"


@dataclass(frozen=True)
class Decrement:
    """A value drawn as another value (``source``) minus a decrement with its own
    distribution, so that it never exceeds that value in any draw: ``source − d`` with
    ``d`` from ``decrement``. ``base`` is the decrement at the point estimates (the
    source's value minus this one's), which a deterministic analysis keeps when only the
    source changes."""

    name: str
    source: str
    decrement: object
    base: float

    @property
    def needs(self) -> tuple[str, ...]:
        return (self.source,)

    @property
    def fixed(self) -> bool:
        """The decrement does not vary (the value still moves with its source)."""
        return isinstance(self.decrement, uncertainty.Fixed)

    def transform(self, u, source: np.ndarray) -> np.ndarray:
        """The value for uniforms ``u`` ``(n,)`` of the decrement and the source's drawn values."""
        return np.asarray(source, dtype=float) - self.decrement.ppf(u)

    def __str__(self) -> str:
        return f"{self.source} - {self.decrement}"
