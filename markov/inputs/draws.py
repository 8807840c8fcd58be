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

Every draw must lie where its unit's values lie (:data:`markov.inputs.support.SUPPORT`),
but for a chance of at most :data:`OUTSIDE_PROBABILITY` on each side. A distribution is
checked by its quantiles, not by a sample (:func:`draw_range`): Normal(0.9, 0.5) on a
utility is refused (39% of its draws lie above 1), and so is a normal on a price, unless
its ``distribution:`` says ``truncate: true``: a normal restricted to the unit's interval
(:class:`~markov.uncertainty.TruncatedNormal`). A normal of small spread (7 standard
deviations inside the unit's bounds), a beta on a utility and a gamma decrement from one
pass. A distribution must also agree with the value beside it, which the base case uses:
its mean may lie at most :data:`CONSISTENCY_SDS` standard deviations from the value (so
Beta(1, 99), mean 0.01, cannot stand beside 0.68). A value at the mode or the median of
any distribution markov draws passes, a triangular or uniform with the value at one end
included (:func:`draws_rule`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .. import uncertainty
from .._validate import InputError
from .support import FIELD_RANGES, POSITIVE, SUPPORT

if TYPE_CHECKING:  # the schemas of evidence files, which use this module's functions
    from .evidence import DistributionSpec, EvidenceFile, EvidenceValue, JointDistribution

#: How many standard deviations a distribution's mean may lie from its value.
CONSISTENCY_SDS = 2.0
#: The largest chance that a draw falls below (or above) its unit's interval: one in a
#: million million, so that no PSA draws one in practice (a normal reaches 7 SDs).
OUTSIDE_PROBABILITY = 1e-12


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
        return named(spec, item.value, SUPPORT[unit])
    bounded = unit in ("proportion", "utility", "utility_decrement")
    if item.ci95 is not None:
        low, high = item.ci95
        if unit in POSITIVE and low > 0:
            return uncertainty.LogNormal.from_ci(item.value, low, high)
        se = (high - low) / (2 * uncertainty.Z_95)
    else:
        se = item.se
    if se is not None:
        if bounded:
            return uncertainty.Beta.from_mean_se(item.value, se)
        if unit == "money" or unit in POSITIVE:
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


def named(spec: DistributionSpec, value: float, support: tuple[float, float] = (-np.inf, np.inf)):
    """The distribution ``spec`` names (``value``: the estimate, for ``fixed``); a beta is
    given by alpha and beta or by mean and se (method of moments); a normal with
    ``truncate`` is restricted to ``support`` (its value's unit's interval)."""
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
        return uncertainty.TruncatedNormal(spec.mean, spec.se, *support) if spec.truncate else \
            uncertainty.Normal(spec.mean, spec.se)
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
        if item.unit in POSITIVE and low > 0 and old > 0 and value > 0:
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


# ---------------------------------------------------------------------------------
# Whether the draws stay where their unit's values lie
# ---------------------------------------------------------------------------------

def draw_range(reference: str, library, probability: float = OUTSIDE_PROBABILITY) -> tuple[float, float]:
    """Bounds that the draws of ``reference`` fall below, or above, with a chance of at most
    ``probability`` each, however it is drawn (:meth:`~markov.inputs.EvidenceLibrary.drawn`
    of ``library``): the quantiles at ``probability`` and 1 - ``probability``; for a value
    drawn as another minus a decrement, the extremes of the two at half that chance each;
    a Dirichlet share lies between 0 and its block's total."""
    drawn = library.drawn(reference)
    if isinstance(drawn, Decrement):
        source = draw_range(drawn.source, library, probability / 2)
        decrement = drawn.decrement.ppf([probability / 2, 1 - probability / 2])
        return source[0] - float(decrement[1]), source[1] - float(decrement[0])
    if isinstance(drawn, JointDraw) and isinstance(drawn.distribution, uncertainty.Dirichlet):
        return 0.0, (draw_range(drawn.parent, library)[1] if drawn.parent is not None else drawn.scale)
    if isinstance(drawn, JointDraw):  # a multivariate normal: the value's marginal
        j = drawn.references.index(reference)
        drawn = uncertainty.Normal(float(drawn.distribution.mean[j]), float(drawn.distribution.sd[j]))
    low, high = drawn.ppf([probability, 1 - probability])
    return float(low), float(high)


def draws_rule(reference: str, library) -> str | None:
    """Why the draws of ``reference`` cannot stand beside its value, if they cannot: some
    leave its unit's interval, or their distribution is centred elsewhere."""
    item = library[reference].value
    drawn, (low, high) = library.drawn(reference), SUPPORT[item.unit]
    first, last = draw_range(reference, library)
    if first < low or last > high:
        if isinstance(drawn, Decrement):
            fix = "give the decrement a distribution of shorter reach (a beta)"
        else:
            fix = ("give a distribution that stays there (beta for a proportion or utility, gamma or log-normal for a "
                   "cost or another positive quantity)")
            if isinstance(drawn, uncertainty.Normal):
                fix += "; or give the normal truncate: true to keep its draws there"
        return (f"drawn as {drawn}, whose draws reach [{first:g}, {last:g}] (all but {OUTSIDE_PROBABILITY:g} of them "
                f"each side), beyond [{low:g}, {high:g}] where a {item.unit} value must lie; {fix}")
    if isinstance(drawn, Decrement):
        value, distribution = drawn.base, drawn.decrement
        what = f"decrement {drawn.source} - {reference} = {value:g}"
    elif isinstance(drawn, JointDraw):
        return None  # a block's distribution is built from its values
    else:
        value, distribution, what = item.value, drawn, f"value {item.value!r}"
    return consistency_rule(value, distribution, what)


def consistency_rule(value: float, distribution, what: str) -> str | None:
    """Why ``distribution`` cannot describe the estimate ``value`` (``what`` names it), if
    its mean lies more than :data:`CONSISTENCY_SDS` standard deviations from it."""
    mean, sd = float(distribution.mean), float(distribution.sd)
    if abs(mean - value) <= CONSISTENCY_SDS * sd + 1e-9 * max(1.0, abs(value)):
        return None
    return (f"drawn as {distribution}, with mean {mean:.6g} and SD {sd:.6g}: the {what} lies more than "
            f"{CONSISTENCY_SDS:g} SDs from that mean; the base case uses the value and the PSA the distribution, so "
            f"they must describe the same estimate")


def check_draws(library) -> None:
    """Raise for the first value of ``library`` whose draws break a rule (:func:`draws_rule`)."""
    for stem, file in library.files.items():
        for name in file.values:
            rule = draws_rule(f"{stem}.{name}", library)
            if rule is not None:
                raise InputError(f"evidence {library.locations.get(stem, stem)}: {name}: {rule}")


def field_rule(field: str, reference: str, library) -> str | None:
    """Why ``reference`` cannot fill ``field`` of a model file (:data:`FIELD_RANGES`), if
    its value or some draw lies outside the field's range."""
    if field not in FIELD_RANGES:
        return None
    what, low, high = FIELD_RANGES[field]
    value = library[reference].value.value
    first, last = draw_range(reference, library)
    if not low <= min(value, first) <= max(value, last) <= high:
        return (f"value {value!r}, drawn within [{first:g}, {last:g}]: {what} must lie in [{low:g}, {high:g}] in the "
                f"base case and in every draw")
    return None
