"""The evidence library: one YAML file per source, every number with its citation.

A file in ``params/evidence/`` (or a user's own directory) holds one source — a trial
publication, a price list, an economic evaluation — or the project's list of
assumptions::

    source:
      citation: "Finn RS, et al. Atezolizumab plus bevacizumab ... NEJM 2020;382:1894-905"
      doi: 10.1056/NEJMoa1915745
      kind: trial
    values:
      os_hazard_ratio_atezo_bev_vs_sorafenib:
        value: 0.58
        ci95: [0.42, 0.79]
        unit: hazard_ratio
        where: "Abstract; Figure 2A"
        status: verified

Model files refer to a value as ``"<file stem>.<value name>"``. The unit of a value
decides the rule it must obey (a proportion lies in [0, 1], a utility is at most 1, a
price is not negative) and, unless the value names its own, the distribution it gets in
a probabilistic analysis (:func:`distribution_of`).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .. import uncertainty
from .._validate import InputError, validation_error
from .money import Currency

Unit = Literal[
    "months", "weeks", "days", "years",
    "hazard_ratio", "odds_ratio", "ratio",
    "proportion", "utility", "utility_decrement",
    "money", "mg", "mg_per_kg", "kg", "age_years", "count", "rate_per_year", "coefficient",
    "qalys",
]
Status = Literal["verified", "unverified", "seed", "calculated", "assumption"]
#: What a source is; ``patient_data``: a patient-level data file cited by its path alone;
#: ``evidence_synthesis``: a network meta-analysis of this package (its network file).
SourceKind = Literal["trial", "real_world", "economic_evaluation", "price_list", "cost_collection", "guidance",
                     "assumptions", "patient_data", "evidence_synthesis"]

#: What each status means; printed in the model documentation.
STATUS_MEANING = {
    "verified": "read in the cited source at the stated place",
    "unverified": "the widely reported figure, not yet checked against the primary source",
    "seed": "as printed in the abstract of a paper the project started from",
    "calculated": "computed from cited figures; the calculation is stated",
    "assumption": "a modelling assumption, with a range for sensitivity analysis",
}

_POSITIVE = {"months", "weeks", "days", "years", "hazard_ratio", "odds_ratio", "ratio", "mg", "mg_per_kg", "kg"}
_UNIT_INTERVAL = {"proportion", "utility_decrement", "rate_per_year"}
DURATION_UNITS = ("days", "weeks", "months", "years")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DistributionSpec(_Strict):
    """A distribution named by the source or the modeller, overriding the default rule."""

    type: Literal["fixed", "beta", "gamma", "lognormal", "normal", "uniform", "triangular"]
    alpha: float | None = Field(None, gt=0)
    beta: float | None = Field(None, gt=0)
    mean: float | None = None
    se: float | None = Field(None, gt=0)
    low: float | None = None
    mode: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _parameters_complete(self) -> DistributionSpec:
        needed = {
            "fixed": (), "beta": ("alpha", "beta"), "gamma": ("mean", "se"), "lognormal": ("mean", "se"),
            "normal": ("mean", "se"), "uniform": ("low", "high"), "triangular": ("low", "mode", "high"),
        }[self.type]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.type} distribution needs {', '.join(missing)}")
        return self


class Pack(_Strict):
    """What a drug price buys: ``units`` tablets, capsules or vials of ``strength_mg`` each."""

    strength_mg: float = Field(gt=0)
    units: int = Field(ge=1)


class EvidenceValue(_Strict):
    """One number from a source (or one assumption)."""

    value: float
    unit: Unit
    status: Status
    where: str | None = Field(None, description="table, figure, page or section of the source")
    ci95: tuple[float, float] | None = None
    se: float | None = Field(None, gt=0)
    n: int | None = Field(None, ge=1, description="patients or events behind a proportion")
    range: tuple[float, float] | None = Field(None, description="low and high values for one-way sensitivity analysis")
    distribution: DistributionSpec | None = None
    currency: Currency | None = None
    price_year: int | None = Field(None, ge=1990, le=2100)
    per: str | None = Field(None, description="what a price is for: pack, vial, administration, session, month ...")
    pack: Pack | None = None
    calculation: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _obeys_its_rules(self) -> EvidenceValue:
        value, unit = self.value, self.unit
        if unit in _POSITIVE and not value > 0:
            raise ValueError(f"value {value!r} in {unit}: must be positive")
        if unit in _UNIT_INTERVAL and not 0 <= value <= 1:
            raise ValueError(f"value {value!r} as a {unit}: must lie in [0, 1]")
        if unit == "utility" and not value <= 1:
            raise ValueError(f"utility {value!r}: cannot exceed 1 (full health)")
        if unit in ("money", "count", "age_years") and value < 0:
            raise ValueError(f"value {value!r} in {unit}: must not be negative")
        if unit == "money" and (self.currency is None or self.price_year is None or self.per is None):
            raise ValueError("a money value needs currency, price_year and per (what the price is for)")
        for name in ("ci95", "range"):
            interval = getattr(self, name)
            if interval is not None and not interval[0] <= value <= interval[1]:
                raise ValueError(f"{name} {list(interval)} must satisfy low <= value ({value!r}) <= high")
        if self.status == "assumption" and (self.range is None or not self.note):
            raise ValueError("an assumption needs a range for sensitivity analysis and a note giving its rationale")
        if self.status != "assumption" and not self.where:
            raise ValueError(f"a {self.status} value needs 'where' (table, figure or page of the source)")
        if self.status == "calculated" and not self.calculation:
            raise ValueError("a calculated value needs 'calculation' saying how it was computed")
        return self


class Source(_Strict):
    """Who reported the values of one file."""

    citation: str
    kind: SourceKind
    doi: str | None = None
    url: str | None = None
    population: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _traceable(self) -> Source:
        if self.kind != "assumptions" and not (self.doi or self.url):
            raise ValueError("a source needs a doi or a url so that a reviewer can find it")
        return self


class JointDistribution(_Strict):
    """Values of one file drawn together in a probabilistic analysis: ``dirichlet`` over
    observed counts (the draws keep the counts' total, so a model normalising them gets
    Dirichlet shares), or ``multivariate_normal`` with the values as means and the given
    covariance (e.g. a survival fit's coefficients)."""

    values: list[str] = Field(min_length=2)
    distribution: Literal["dirichlet", "multivariate_normal"]
    covariance: list[list[float]] | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> JointDistribution:
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"values {self.values} repeat")
        k = len(self.values)
        if self.distribution == "multivariate_normal" and (
                self.covariance is None or len(self.covariance) != k or any(len(row) != k for row in self.covariance)):
            raise ValueError(f"a multivariate_normal over {k} values needs a {k} x {k} covariance")
        if self.distribution == "dirichlet" and self.covariance is not None:
            raise ValueError("a dirichlet takes no covariance (its counts set its spread)")
        return self


class EvidenceFile(_Strict):
    source: Source
    values: dict[str, EvidenceValue]
    joint: dict[str, JointDistribution] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _joint_values_exist(self) -> EvidenceFile:
        seen: set[str] = set()
        for name, group in self.joint.items():
            for value in group.values:
                if value not in self.values:
                    raise ValueError(f"joint.{name}: {value!r} is not a value of this file")
                if value in seen:
                    raise ValueError(f"joint.{name}: {value!r} is already drawn in another joint distribution")
                seen.add(value)
                if group.distribution == "dirichlet" and self.values[value].unit != "count":
                    raise ValueError(f"joint.{name}: {value!r} has unit {self.values[value].unit!r}; a dirichlet "
                                     f"is over counts")
        return self


@dataclass(frozen=True)
class Evidence:
    """One value with the source it came from."""

    reference: str
    value: EvidenceValue
    source: Source



def shipped_evidence_directory() -> Path:
    return Path(str(resources.files("markov.data").joinpath("evidence")))


class EvidenceLibrary:
    """Every evidence file of one or more directories, addressed as ``"<file>.<value>"``."""

    def __init__(self, files: dict[str, EvidenceFile], locations: dict[str, str],
                 derived: frozenset[str] = frozenset()) -> None:
        self.files = files
        self.locations = locations
        #: Files derived while loading (a fit's coefficients), not read from a directory.
        self.derived = derived

    @classmethod
    def load(cls, directories: Iterable[str | Path] = ()) -> EvidenceLibrary:
        """The shipped library, then each directory in turn; a later file with the same
        stem replaces an earlier one (a user's prices replace the shipped ones)."""
        files: dict[str, EvidenceFile] = {}
        locations: dict[str, str] = {}
        for directory in (shipped_evidence_directory(), *map(Path, directories)):
            if not directory.is_dir():
                raise InputError(f"evidence directory {str(directory)!r} does not exist")
            for path in sorted(directory.glob("*.yaml")):
                files[path.stem] = read_evidence_file(path)
                locations[path.stem] = str(path)
        return cls(files, locations)

    def __getitem__(self, reference: str) -> Evidence:
        stem, _, name = reference.partition(".")
        if stem not in self.files:
            raise InputError(f"evidence {reference!r}: there is no evidence file {stem!r} "
                             f"(files: {', '.join(sorted(self.files))})")
        values = self.files[stem].values
        if name not in values:
            raise InputError(f"evidence {reference!r}: {self.locations[stem]} has no value {name!r}")
        return Evidence(reference, values[name], self.files[stem].source)

    def __contains__(self, reference: str) -> bool:
        stem, _, name = reference.partition(".")
        return stem in self.files and name in self.files[stem].values

    def with_files(self, files: dict[str, EvidenceFile], locations: dict[str, str]) -> EvidenceLibrary:
        """The library with evidence derived while loading (e.g. the coefficients of a fit
        to patient data) added; a name already taken by an evidence file is an error."""
        taken = sorted(set(files) & set(self.files))
        if taken:
            raise InputError(f"evidence file {self.locations[taken[0]]}: its name {taken[0]!r} is that of the "
                             f"evidence derived for {locations[taken[0]]}; rename the file")
        return EvidenceLibrary({**self.files, **files}, {**self.locations, **locations}, self.derived | set(files))

    def joint_of(self, reference: str) -> JointDraw | None:
        """The joint distribution ``reference`` is drawn in, if any."""
        stem, _, name = reference.partition(".")
        for group, joint in self.files[stem].joint.items():
            if name in joint.values:
                return JointDraw.of(f"{stem}.{group}", joint, self.files[stem])
        return None

    def with_changes(self, changes: dict[str, float | dict], where: str) -> EvidenceLibrary:
        """The library with some values changed, each validated like an evidence file: a
        number replaces the value and re-centres its uncertainty on it (:func:`recentred`);
        a mapping replaces the fields it gives (``value``, ``ci95``, ``distribution`` …)."""
        files = dict(self.files)
        for reference, change in changes.items():
            stem, _, name = reference.partition(".")
            current = self[reference].value
            try:
                update = change if isinstance(change, dict) else recentred(current, change)
                value = EvidenceValue.model_validate({**current.model_dump(exclude_none=True), **update})
            except (ValidationError, InputError) as error:
                if isinstance(error, InputError):  # the value breaks a rule of its unit, or its spread cannot follow
                    error = _rule_of_value(current, change) or error
                rules = str(error) if isinstance(error, InputError) else "; ".join(
                    problem["msg"].removeprefix("Value error, ") for problem in error.errors())
                raise InputError(f"{where}: {reference} = {change!r}: {rules}") from None
            files[stem] = files[stem].model_copy(update={"values": {**files[stem].values, name: value}})
        return EvidenceLibrary(files, self.locations, self.derived)


def _rule_of_value(item: EvidenceValue, value) -> ValidationError | None:
    """The rule ``value`` breaks as the value of ``item`` (its uncertainty aside), if any."""
    try:
        EvidenceValue.model_validate({**item.model_dump(exclude_none=True, exclude={"ci95", "distribution"}),
                                      "value": value})
    except ValidationError as error:
        return error
    return None


def recentred(item: EvidenceValue, value) -> dict:
    """The fields of ``item`` that change when its point estimate becomes ``value`` and its
    uncertainty keeps its spread: a 95% CI of a positive quantity (log-normal) is scaled by
    the ratio of the values, any other CI shifted by their difference; a named
    distribution keeps its standard error (beta, gamma, log-normal, normal) or its width
    around the new mode (uniform, triangular); a standard error, ``n`` or a range stay as
    they are (the range must still hold the value)."""
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
    spec = item.distribution
    if spec is not None:
        if spec.type == "beta":
            moved = uncertainty.Beta.from_mean_se(value, float(uncertainty.Beta(spec.alpha, spec.beta).sd))
            update["distribution"] = {"type": "beta", "alpha": moved.alpha, "beta": moved.beta}
        elif spec.type in ("gamma", "lognormal", "normal"):
            update["distribution"] = {**spec.model_dump(exclude_none=True), "mean": value}
        elif spec.type in ("uniform", "triangular"):
            shift = value - (old if spec.mode is None else spec.mode)
            update["distribution"] = {**spec.model_dump(exclude_none=True), "low": spec.low + shift,
                                      "high": spec.high + shift, **({"mode": value} if spec.mode is not None else {})}
    return update


@dataclass(frozen=True)
class JointDraw:
    """Values drawn together: ``transform`` maps uniforms ``(n, len(references))`` to
    their values, in the order of ``references``."""

    name: str
    references: tuple[str, ...]
    distribution: uncertainty.Dirichlet | uncertainty.MultivariateNormal
    scale: float = 1.0

    @classmethod
    def of(cls, name: str, joint: JointDistribution, file: EvidenceFile) -> JointDraw:
        stem = name.partition(".")[0]
        references = tuple(f"{stem}.{value}" for value in joint.values)
        estimates = np.array([file.values[value].value for value in joint.values])
        try:
            if joint.distribution == "dirichlet":
                return cls(name, references, uncertainty.Dirichlet(estimates), float(estimates.sum()))
            return cls(name, references, uncertainty.MultivariateNormal(estimates, np.array(joint.covariance)))
        except InputError as error:  # name the file and the block, not only the rule
            raise InputError(f"evidence {stem!r}: joint.{name.partition('.')[2]}: {error}") from None

    @property
    def n_uniforms(self) -> int:
        return len(self.references)

    def transform(self, u) -> np.ndarray:
        return self.distribution.transform(u) * self.scale

    def one_at_a_time(self, reference: str, quantiles) -> np.ndarray:
        """Values of ``reference`` at ``quantiles`` of its marginal distribution, the block's
        other values at their estimates (for a one-way sensitivity analysis): for a
        Dirichlet over counts, the count that makes its share of the row that quantile of
        its Beta(α_j, Σα − α_j) marginal; for a multivariate normal, its normal quantile."""
        j = self.references.index(reference)
        u = np.asarray(quantiles, dtype=float)
        block = self.distribution
        if isinstance(block, uncertainty.MultivariateNormal):
            return uncertainty.Normal(float(block.mean[j]), float(block.sd[j])).ppf(u)
        own, others = float(block.alpha[j]), float(block.alpha.sum() - block.alpha[j])
        if own == 0 or others == 0:  # a share fixed at 0 or 1
            return np.full(u.shape, own)
        share = uncertainty.Beta(own, others).ppf(u)
        return share * others / (1.0 - share)

    def __str__(self) -> str:
        total = f" x {self.scale:g}" if self.distribution.__class__ is uncertainty.Dirichlet else ""
        return f"{self.distribution}{total}, jointly ({self.name})"



def read_validated(path: Path, schema: type[BaseModel]) -> BaseModel:
    """The YAML file ``path`` validated by ``schema``; errors name the file, the field and the rule."""
    try:
        content = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise InputError(f"{path}: not valid YAML ({error})") from None
    try:
        return schema.model_validate(content)
    except ValidationError as error:
        raise validation_error(str(path), error) from None


def read_evidence_file(path: Path) -> EvidenceFile:
    return read_validated(path, EvidenceFile)


def distribution_of(item: EvidenceValue):
    """The distribution of a value in a probabilistic analysis.

    The value's own ``distribution`` if it names one; otherwise, by what the source
    reports: a 95% CI gives a log-normal for positive quantities (ratios, durations,
    doses, weights), a beta for proportions and utilities (standard error = CI width /
    3.92) and a gamma for money; a standard error gives a beta, gamma or normal likewise;
    a proportion with ``n`` gives Beta(value·n, (1 − value)·n). An assumption is triangular
    over its ``range`` with its value as the mode; a price with a ``range`` (e.g. a
    published ±20%) is a gamma whose 95% interval has the range's width. Otherwise the
    value is fixed (a list price, a dose).
    """
    spec, unit = item.distribution, item.unit
    if spec is not None:
        return _named(spec, item.value)
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


def _named(spec: DistributionSpec, value: float):
    if spec.type == "fixed":
        return uncertainty.Fixed(value)
    if spec.type == "beta":
        return uncertainty.Beta(spec.alpha, spec.beta)
    if spec.type == "gamma":
        return uncertainty.Gamma.from_mean_se(spec.mean, spec.se)
    if spec.type == "lognormal":
        return uncertainty.LogNormal.from_mean_se(spec.mean, spec.se)
    if spec.type == "normal":
        return uncertainty.Normal(spec.mean, spec.se)
    if spec.type == "uniform":
        return uncertainty.Uniform(spec.low, spec.high)
    return uncertainty.Triangular(spec.low, spec.mode, spec.high)
