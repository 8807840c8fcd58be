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
a probabilistic analysis (:mod:`markov.inputs.draws`). Values may also be drawn
together (``joint:``: a Dirichlet over counts or over shares, a multivariate normal) or
as another value minus a decrement (``decrement_from``); :meth:`EvidenceLibrary.drawn`
gives each value's distribution, and :meth:`EvidenceLibrary.with_changes` keeps such
links consistent when a value changes.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError, model_validator

from .. import uncertainty
from .._reading import read_yaml
from .._validate import InputError, excerpt, validation_error
from .draws import Decrement, JointDraw, check_draws, distribution_of, named, recentred, recentred_spec
from .money import Currency
from .support import value_rule

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

DURATION_UNITS = ("days", "weeks", "months", "years")
_REFERENCE = r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_]+$"
#: The shares of a Dirichlet over shares sum to 1 (or to the share they split) within this.
SHARE_TOLERANCE = 1e-6


class _Strict(BaseModel):
    # numbers are numbers: not booleans or text (``price: true`` is not 1.0), and finite
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


#: A number of a file: an int or a float, never a boolean or text.
Number = StrictFloat


class DistributionSpec(_Strict):
    """A distribution named by the source or the modeller, overriding the default rule."""

    type: Literal["fixed", "beta", "gamma", "lognormal", "normal", "uniform", "triangular"]
    alpha: Number | None = Field(None, gt=0)
    beta: Number | None = Field(None, gt=0)
    mean: Number | None = None
    se: Number | None = Field(None, gt=0)
    low: Number | None = None
    mode: Number | None = None
    high: Number | None = None
    truncate: bool = Field(False, description="a normal restricted to its value's unit's interval")

    @model_validator(mode="after")
    def _parameters_complete(self) -> DistributionSpec:
        by_moments = self.type == "beta" and self.alpha is None and self.beta is None and self.mean is not None
        needed = {
            "fixed": (), "beta": ("mean", "se") if by_moments else ("alpha", "beta"), "gamma": ("mean", "se"),
            "lognormal": ("mean", "se"), "normal": ("mean", "se"), "uniform": ("low", "high"),
            "triangular": ("low", "mode", "high"),
        }[self.type]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            alternative = " (or mean and se)" if self.type == "beta" else ""
            raise ValueError(f"a {self.type} distribution needs {', '.join(missing)}{alternative}")
        if self.truncate and self.type != "normal":
            raise ValueError(f"truncate: a {self.type} distribution is not truncated; truncate applies to a normal")
        if by_moments:
            try:
                uncertainty.Beta.from_mean_se(self.mean, self.se)
            except InputError as error:
                raise ValueError(str(error)) from None
        return self

    @property
    def non_negative(self) -> bool:
        """Every draw is at least 0 (a decrement's distribution must be)."""
        if self.type in ("fixed", "beta", "gamma", "lognormal"):
            return True
        return self.type in ("uniform", "triangular") and self.low is not None and self.low >= 0


class Pack(_Strict):
    """What a drug price buys: ``units`` tablets, capsules or vials of ``strength_mg`` each."""

    strength_mg: Number = Field(gt=0)
    units: StrictInt = Field(ge=1)


class EvidenceValue(_Strict):
    """One number from a source (or one assumption)."""

    value: Number
    unit: Unit
    status: Status
    label: str | None = Field(None, pattern=r"^[^_]+$", description="the input as a reviewer names it, without unit or "
                                                                  "source: 'PFS HR, Atezo–Bev vs sorafenib'")
    where: str | None = Field(None, description="table, figure, page or section of the source")
    ci95: tuple[Number, Number] | None = None
    se: Number | None = Field(None, gt=0)
    n: StrictInt | None = Field(None, ge=1, description="patients or events behind a proportion")
    range: tuple[Number, Number] | None = Field(None, description="low and high values for one-way sensitivity "
                                                                  "analysis")
    distribution: DistributionSpec | None = None
    currency: Currency | None = None
    price_year: StrictInt | None = Field(None, ge=1990, le=2100)
    per: str | None = Field(None, description="what a price is for: pack, vial, administration, session, month ...")
    pack: Pack | None = None
    calculation: str | None = None
    note: str | None = None
    decrement_from: str | None = Field(
        None, pattern=_REFERENCE, description="drawn as this value (a reference) minus a decrement, so never above it")
    decrement: DistributionSpec | None = Field(
        None, description="the distribution of the decrement (decrement_from's value minus this one at the estimates)")

    @model_validator(mode="after")
    def _obeys_its_rules(self) -> EvidenceValue:
        value, unit = self.value, self.unit
        rule = value_rule(value, unit)
        if rule is not None:
            raise ValueError(rule)
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
        if (self.decrement_from is None) != (self.decrement is None):
            raise ValueError("decrement_from and decrement go together: the value this one is taken from, and the "
                             "distribution of the decrement")
        if self.decrement is not None:
            own = [name for name in ("distribution", "ci95", "se", "n") if getattr(self, name) is not None]
            if own:
                raise ValueError(f"a value drawn as {self.decrement_from} minus a decrement takes no {own[0]} of its "
                                 f"own: its uncertainty is the decrement's (give it under decrement)")
            if not self.decrement.non_negative:
                raise ValueError(f"decrement: a {self.decrement.type} can be negative; a decrement's distribution "
                                 f"must be: fixed, beta, gamma, lognormal, or uniform or triangular from 0 up")
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
    Dirichlet shares); ``dirichlet`` over shares with a ``concentration`` (a count of the
    file: the effective number of patients behind the shares, α = concentration × share),
    whose shares sum to 1 or, with ``of``, split another share (they sum to it in every
    draw); or ``multivariate_normal`` with the values as means and the given covariance
    (e.g. a survival fit's coefficients)."""

    values: list[str] = Field(min_length=2)
    distribution: Literal["dirichlet", "multivariate_normal"]
    covariance: list[list[Number]] | None = None
    concentration: str | None = Field(None, description="dirichlet over shares: a value of this file (unit count), "
                                                        "the effective sample size behind the shares")
    of: str | None = Field(None, pattern=_REFERENCE, description="dirichlet over shares: the share (a reference) "
                                                                 "that the values split; without it they sum to 1")
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
        if self.distribution != "dirichlet" and (self.concentration is not None or self.of is not None):
            raise ValueError("concentration and of belong to a dirichlet over shares")
        if self.of is not None and self.concentration is None:
            raise ValueError("a dirichlet splitting a share (of) is over shares: it needs a concentration")
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
                unit = self.values[value].unit
                if group.distribution == "dirichlet" and group.concentration is None and unit != "count":
                    raise ValueError(f"joint.{name}: {value!r} has unit {unit!r}; a dirichlet is over counts, or "
                                     f"over shares with a concentration")
                if group.concentration is not None and unit != "proportion":
                    raise ValueError(f"joint.{name}: {value!r} has unit {unit!r}; a dirichlet with a concentration "
                                     f"is over shares (unit proportion)")
                if self.values[value].decrement is not None:
                    raise ValueError(f"joint.{name}: {value!r} is drawn as a decrement; it cannot be drawn jointly too")
            if group.concentration is not None:
                self._check_shares(name, group)
        return self

    def _check_shares(self, name: str, group: JointDistribution) -> None:
        concentration = self.values.get(group.concentration)
        if concentration is None or concentration.unit != "count" or not concentration.value > 0:
            raise ValueError(f"joint.{name}: concentration {group.concentration!r} must be a value of this file with "
                             f"unit count, above 0")
        if any(group.concentration in other.values for other in self.joint.values()):
            raise ValueError(f"joint.{name}: concentration {group.concentration!r} is itself drawn jointly")
        total = math.fsum(self.values[value].value for value in group.values)
        if group.of is None and abs(total - 1.0) > SHARE_TOLERANCE:
            raise ValueError(f"joint.{name}: the shares sum to {total!r}; list every share of the group, the rest "
                             f"(e.g. no further treatment) last, so that they sum to 1, or give 'of' (the share "
                             f"they split)")


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
        library = cls(files, locations)
        library.check_links()
        return library

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

    # --- how values are drawn ------------------------------------------------------------
    def _blocks(self):
        """``(stem, name, joint distribution)`` of every joint distribution."""
        return [(stem, name, joint) for stem, file in self.files.items() for name, joint in file.joint.items()]

    def block_of(self, reference: str) -> tuple[str, JointDistribution] | None:
        """``("<file>.<block>", block)`` of the joint distribution ``reference`` is drawn in, if any."""
        stem, _, name = reference.partition(".")
        for group, joint in self.files[stem].joint.items():
            if name in joint.values:
                return f"{stem}.{group}", joint
        return None

    def joint_of(self, reference: str) -> JointDraw | None:
        """The joint distribution ``reference`` is drawn in, if any."""
        found = self.block_of(reference)
        if found is None:
            return None
        name, joint = found
        return JointDraw.of(name, joint, self.files[name.partition(".")[0]])

    def is_concentration(self, reference: str) -> bool:
        """``reference`` sets the spread of a Dirichlet over shares (it is not drawn)."""
        stem, _, name = reference.partition(".")
        return any(joint.concentration == name for joint in self.files[stem].joint.values())

    def drawn(self, reference: str):
        """How ``reference`` is drawn in a probabilistic analysis: its :class:`JointDraw`,
        its :class:`Decrement`, fixed (a Dirichlet's concentration), or on its own
        (:func:`distribution_of`)."""
        joint = self.joint_of(reference)
        if joint is not None:
            return joint
        item = self[reference].value
        if item.decrement is not None:
            base = self[item.decrement_from].value.value - item.value
            return Decrement(reference, item.decrement_from, named(item.decrement, base), base)
        if self.is_concentration(reference):
            return uncertainty.Fixed(item.value)
        return distribution_of(item)

    def dependencies(self, reference: str) -> list[tuple[str, str]]:
        """``(reference, why)`` of every value needed to draw ``reference``: the values of
        its joint distribution (itself among them), the share that distribution splits and
        its concentration, and the value it is a decrement from."""
        found = []
        block = self.block_of(reference)
        if block is not None:
            name, joint = block
            stem = name.partition(".")[0]
            found += [(f"{stem}.{value}", f"joint distribution {name}") for value in joint.values]
            if joint.of is not None:
                found.append((joint.of, f"share split by joint distribution {name}"))
            if joint.concentration is not None:
                found.append((f"{stem}.{joint.concentration}", f"concentration of joint distribution {name}"))
        item = self[reference].value
        if item.decrement_from is not None:
            found.append((item.decrement_from, f"decrement: {reference} is drawn as this minus a decrement"))
        return found

    def check_links(self) -> None:
        """Rules across values: a value drawn as a decrement is taken from a value of its
        unit and not above it; the shares of a Dirichlet splitting a share sum to it; no
        value depends on itself; every value's draws stay within its unit's interval and
        agree with its estimate (:func:`~markov.inputs.draws.check_draws`)."""
        for stem, file in self.files.items():
            where = f"evidence {self.locations.get(stem, stem)}"
            for name, item in file.values.items():
                if item.decrement_from is None:
                    continue
                source = self._linked(item.decrement_from, f"{where}: {name}.decrement_from")
                if source.unit != item.unit:
                    raise InputError(f"{where}: {name}.decrement_from = {item.decrement_from!r}: has unit "
                                     f"{source.unit!r}, this value {item.unit!r}; a decrement is within one unit")
                if item.value > source.value + 1e-12:
                    raise InputError(f"{where}: {name} = {item.value!r} is above {item.decrement_from} "
                                     f"({source.value!r}); drawn as that value minus a decrement, it cannot exceed it")
            for group, joint in file.joint.items():
                if joint.of is None:
                    continue
                parent = self._linked(joint.of, f"{where}: joint.{group}.of")
                if parent.unit != "proportion" or joint.of in (f"{stem}.{value}" for value in joint.values):
                    raise InputError(f"{where}: joint.{group}.of = {joint.of!r}: must be a share (unit proportion) "
                                     f"outside the block")
                total = math.fsum(file.values[value].value for value in joint.values)
                if abs(total - parent.value) > SHARE_TOLERANCE:
                    raise InputError(f"{where}: joint.{group}: the shares sum to {total!r}, but they split "
                                     f"{joint.of} = {parent.value!r}; they must sum to it")
        self._check_acyclic()
        check_draws(self)

    def _linked(self, reference: str, where: str) -> EvidenceValue:
        if reference not in self:
            raise InputError(f"{where} = {reference!r}: no such evidence value")
        return self[reference].value

    def _check_acyclic(self) -> None:
        """Each value is drawn from at most one other (its decrement's, or the share its
        block splits): follow each chain, which must end."""
        needs = {f"{stem}.{name}": item.decrement_from for stem, file in self.files.items()
                 for name, item in file.values.items() if item.decrement_from is not None}
        needs.update({f"{stem}.{value}": joint.of for stem, _, joint in self._blocks() if joint.of is not None
                      for value in joint.values})
        for start in needs:
            path = [start]
            while path[-1] in needs:
                path.append(needs[path[-1]])
                if path[-1] in path[:-1]:
                    raise InputError(f"evidence {' -> '.join(path[path.index(path[-1]):])}: a value cannot be "
                                     f"drawn from itself")

    # --- changes -------------------------------------------------------------------------
    def with_changes(self, changes: dict[str, float | dict], where: str) -> EvidenceLibrary:
        """The library with some values changed, each validated like an evidence file: a
        number replaces the value and re-centres its uncertainty on it (:func:`recentred`);
        a mapping replaces the fields it gives (``value``, ``ci95``, ``distribution`` …).

        Values linked to a changed one follow, so that the estimates stay consistent:
        a Dirichlet's shares sum to 1 through their last share (the rest, e.g. no further
        treatment), which takes up a change of another and cannot be set itself; the
        shares splitting a share scale with it, and it moves with a change of one of
        them; a value drawn as a decrement from a changed value moves with it (the
        decrement kept); a value drawn as a decrement, changed, keeps its decrement's
        spread around the new difference."""
        library = self
        for reference, change in changes.items():
            current = library[reference].value
            try:
                library = library._changed(reference, change)
                library.check_links()
            except (ValidationError, InputError) as error:
                if isinstance(error, InputError) and not isinstance(change, dict):  # a number: the value breaks a
                    error = _rule_of_value(current, change) or error  # rule of its unit, or its spread cannot follow
                rules = str(error) if isinstance(error, InputError) else "; ".join(
                    problem["msg"].removeprefix("Value error, ") for problem in error.errors())
                raise InputError(f"{where}: {reference} = {excerpt(change)}: {rules}") from None
        return library

    def _changed(self, reference: str, change) -> EvidenceLibrary:
        current = self[reference].value
        if isinstance(change, dict):
            update = change
        else:
            update = recentred(current, change)
            if current.decrement is not None and "value" in update:
                update["decrement"] = self._recentred_decrement(reference, current, update["value"])
        self._check_not_rest(reference)
        files = dict(self.files)
        _replace(files, reference, {**current.model_dump(exclude_none=True), **update})
        new = _value(files, reference).value
        if new != current.value:
            self._follow(files, reference, current.value, new, scale_splits=True)
        for stem, file in files.items():  # the rules of a file (shares summing to 1) hold after every change
            if file is not self.files[stem]:
                EvidenceFile.model_validate({"source": file.source, "values": file.values, "joint": file.joint})
        return EvidenceLibrary(files, self.locations, self.derived)

    def _recentred_decrement(self, reference: str, item: EvidenceValue, value) -> dict:
        source = self[item.decrement_from].value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return item.decrement.model_dump(exclude_none=True)  # the value itself is refused
        old, new = source.value - item.value, source.value - float(value)
        if new < 0:
            raise InputError(f"above {item.decrement_from} ({source.value!r}): {reference} is drawn as that value "
                             f"minus a decrement, so it cannot exceed it")
        if item.decrement.type == "fixed":
            return item.decrement.model_dump(exclude_none=True)
        return recentred_spec(item.decrement, old, new)

    def _check_not_rest(self, reference: str) -> None:
        block = self.block_of(reference)
        if block is not None and block[1].concentration is not None and block[1].of is None \
                and reference.partition(".")[2] == block[1].values[-1]:
            raise InputError(f"the rest of joint distribution {block[0]} (1 minus its other shares); change those "
                             f"instead")

    def _follow(self, files: dict[str, EvidenceFile], reference: str, old: float, new: float, *,
                scale_splits: bool) -> None:
        """Move the values linked to ``reference``, whose value went from ``old`` to ``new``."""
        block = self.block_of(reference)
        if block is not None and block[1].concentration is not None:
            name, joint = block
            stem = name.partition(".")[0]
            if joint.of is None:  # the rest takes up the change
                rest = f"{stem}.{joint.values[-1]}"
                moved = _value(files, rest).value + old - new
                if moved < -SHARE_TOLERANCE:
                    raise InputError(f"the shares of joint distribution {name} would sum above 1")
                _move(files, rest, max(moved, 0.0))
            else:  # the share it splits takes up the change; its other shares stay
                before = _value(files, joint.of).value
                _move(files, joint.of, before + new - old)
                self._follow(files, joint.of, before, before + new - old, scale_splits=False)
        if scale_splits:
            for stem, group, joint in self._blocks():
                if joint.of != reference:
                    continue
                if old == 0:
                    raise InputError(f"joint distribution {stem}.{group} splits it: from 0 its shares cannot be "
                                     f"scaled; set them instead")
                for value in joint.values:
                    _move(files, f"{stem}.{value}", _value(files, f"{stem}.{value}").value * new / old)
        for stem, file in self.files.items():
            for name, item in file.values.items():
                if item.decrement_from == reference:
                    dependent = f"{stem}.{name}"
                    before = _value(files, dependent).value
                    _move(files, dependent, before + new - old)
                    self._follow(files, dependent, before, before + new - old, scale_splits=True)


def _value(files: dict[str, EvidenceFile], reference: str) -> EvidenceValue:
    stem, _, name = reference.partition(".")
    return files[stem].values[name]


def _replace(files: dict[str, EvidenceFile], reference: str, fields: dict) -> None:
    """Put the value of ``fields`` into ``files``, validated like a file's."""
    stem, _, name = reference.partition(".")
    files[stem] = files[stem].model_copy(update={"values": {**files[stem].values,
                                                            name: EvidenceValue.model_validate(fields)}})


def _move(files: dict[str, EvidenceFile], reference: str, value: float) -> None:
    """Re-centre a value of ``files`` on ``value`` (:func:`recentred`)."""
    current = _value(files, reference)
    _replace(files, reference, {**current.model_dump(exclude_none=True), **recentred(current, value)})


def _rule_of_value(item: EvidenceValue, value) -> ValidationError | None:
    """The rule ``value`` breaks as the value of ``item`` (its uncertainty aside), if any."""
    try:
        EvidenceValue.model_validate({**item.model_dump(exclude_none=True,
                                                        exclude={"ci95", "distribution", "decrement"}),
                                      "value": value, "decrement_from": None})
    except ValidationError as error:
        return error
    return None


def read_validated(path: Path, schema: type[BaseModel]) -> BaseModel:
    """The YAML file ``path`` validated by ``schema``; errors name the file, the field and the rule."""
    content = read_yaml(path, "file")
    try:
        return schema.model_validate(content)
    except ValidationError as error:
        raise validation_error(str(path), error) from None


def read_evidence_file(path: Path) -> EvidenceFile:
    return read_validated(path, EvidenceFile)
