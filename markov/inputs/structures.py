"""Schemas of populations and of the strategies of each model structure.

A population (``populations.yaml``) is its own evidence set: demographics, named survival
curves, transition matrices, its decision question and its strategies. What a strategy
is depends on the structure the analysis chooses (``structure:``):

``sequencing``
    Lines of treatment, each with one or more options: a treatment with a share of those
    progressing on the line before (the rest go to post-progression care), its own
    progression-free curve from entry (the clock resets) and the share of its events that
    are deaths; then post-progression care until death. Any number of lines.
``partitioned_survival``
    Nested survival curves (e.g. PFS inside OS): the state between two curves holds
    whoever is inside the outer one and outside the inner one.
``markov``
    Transition matrices per cycle, by period (a treatment effect for two years …).

Every state is named from the data, and costs and utilities are looked up by state or
line name (:func:`markov.inputs.schema.lookup`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from .._validate import InputError
from .curves import CurveSpec
from .schema import Name, Ref, Targets, TimeOnTreatment, _Strict, check_periods_end

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def line_name(index: int) -> str:
    """The default name of line ``index`` (0-based): ``first_line``, ``second_line`` …"""
    return f"{_ORDINALS[index]}_line" if index < len(_ORDINALS) else f"line_{index + 1}"


# ---------------------------------------------------------------------------------
# Sequencing
# ---------------------------------------------------------------------------------

class Option(_Strict):
    """One treatment at a line of a sequence."""

    treatment: Name
    share: Ref | None = Field(None, description="share of those progressing on the line before who start this "
                                                "treatment (on the first line: of the cohort; a line's only option "
                                                "on the first line may omit it: everyone)")
    progression_free: Name | None = Field(None, description="curve of time from entry to progression or death")
    pre_progression_death_share: Ref | None = Field(None, description="share of progression-free events that are "
                                                                      "deaths")
    overall_survival: Name | None = Field(
        None, description="instead of progression_free: curve of time from entry to death, for a treatment whose "
                          "evidence is overall survival from its start (a later-line trial's OS, which holds the "
                          "survival after its own progression as the trial observed it); the option is then one "
                          "stay until death, and its time on treatment (e.g. its PFS) costs its drugs")
    time_on_treatment: TimeOnTreatment = TimeOnTreatment()
    post_progression_survival: Name | None = Field(
        None, description="survival from progression on this option for those who start no further line (post-"
                          "progression survival by prior treatment); default: the strategy's post-progression care")

    @model_validator(mode="after")
    def _one_survival(self) -> Option:
        if self.overall_survival is not None:
            given = [name for name in ("progression_free", "pre_progression_death_share", "post_progression_survival")
                     if getattr(self, name) is not None]
            if given:
                raise ValueError(f"overall_survival: the option lasts until death, so it has no progression: "
                                 f"{', '.join(given)} cannot be given with it")
        elif self.progression_free is None or self.pre_progression_death_share is None:
            missing = [name for name in ("progression_free", "pre_progression_death_share") if getattr(self, name) is None]
            raise ValueError(f"{', '.join(missing)}: needed (or overall_survival instead, for an option that lasts "
                             f"until death)")
        return self


class Line(_Strict):
    """A line of treatment: its options, and a name (by default from its position:
    ``first_line``, ``second_line`` …) that names its states, its drug-cost category
    (``<name>_drugs``) and the key its utility and costs of care are looked up by. A line
    with one option may be written as that option (with ``name`` beside it)."""

    name: Name | None = None
    options: list[Option] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _one_option_shorthand(cls, data):
        if isinstance(data, dict) and "options" not in data and "treatment" in data:
            option = {key: value for key, value in data.items() if key != "name"}
            return {"name": data.get("name"), "options": [option]}
        return data


class PostProgression(_Strict):
    """Care after the last line (or for those who start no further line), until death."""

    name: Name = "best_supportive_care"
    survival: Name | None = Field(None, description="curve from entry to death; default: the population's "
                                                    "post_progression_survival")
    calibrated_to: Name | None = Field(
        None, description="a strategy of the population whose reported OS median the survival is calibrated to "
                          "(exponential, its rate solved per sample): a labelled choice, never silent")


class SequencingStrategy(_Strict):
    label: str
    lines: list[Line] = Field(min_length=1)
    post_progression: PostProgression = PostProgression()
    targets: Targets | None = None

    def line_names(self) -> list[str]:
        return [line.name or line_name(k) for k, line in enumerate(self.lines)]

    @model_validator(mode="after")
    def _consistent(self) -> SequencingStrategy:
        names = self.line_names()
        if len(set(names)) != len(names):
            raise ValueError(f"lines: names {names} repeat; every line needs its own name")
        if names and self.post_progression.name in names:
            raise ValueError(f"post_progression.name {self.post_progression.name!r} is also a line's name")
        for k, line in enumerate(self.lines):
            treatments = [option.treatment for option in line.options]
            if len(set(treatments)) != len(treatments):
                raise ValueError(f"lines[{k}]: a treatment appears twice; combine its shares")
            if (k > 0 or len(line.options) > 1) and any(option.share is None for option in line.options):
                raise ValueError(f"lines[{k}]: every option needs a share (only a first line's single option may "
                                 f"omit it)")
            if k < len(self.lines) - 1 and all(option.overall_survival for option in line.options):
                raise ValueError(f"lines[{k + 1}]: no one reaches it: every option of lines[{k}] has "
                                 f"overall_survival (lasts until death); give them progression_free instead")
            for j, option in enumerate(line.options):
                tot = option.time_on_treatment
                beyond = any(tot.for_drug(drug).beyond_progression for drug in (None, *tot.by_drug))
                if beyond and (k > 0 or option.share is not None):
                    raise ValueError(f"lines[{k}].options[{j}].time_on_treatment: beyond_progression is capped by "
                                     f"survival since the start of the line, which this structure knows only for a "
                                     f"first line with one option and no share (the whole cohort from t = 0); give "
                                     f"it there, or leave it out")
        return self


# ---------------------------------------------------------------------------------
# Partitioned survival
# ---------------------------------------------------------------------------------

class SubsequentTreatment(_Strict):
    """A treatment started on entry to a state, costed once at entry: its share of those
    entering alive, times its cost per year, times its mean duration (the restricted
    mean of ``duration`` over the horizon, undiscounted), plus its share of the costs at
    its start and of its adverse events."""

    treatment: Name
    share: Ref
    duration: Name = Field(description="curve of time on this treatment")


class Partition(_Strict):
    """A state of a partitioned survival model and the curve that bounds it from above:
    the state holds those inside ``survival`` and outside the curve before it (the first
    state: everyone inside its curve). The first state with its own ``time_on_treatment``
    is two states, ``<state>_on_treatment`` and ``<state>_off_treatment``, looked up by
    their own name, then ``<state>``."""

    state: Name
    survival: Name
    treatment: Name | None = Field(None, description="costed while in this state (and on treatment)")
    time_on_treatment: TimeOnTreatment = TimeOnTreatment()
    death_share: Ref | None = Field(None, description="share of this state's exits that are deaths: the others "
                                                      "enter the next state alive (for one-off costs on entry)")
    subsequent_treatments: list[SubsequentTreatment] = Field(
        default_factory=list, description="treatments started on entry to this state")

    def states(self) -> list[tuple[str, tuple[str, ...]]]:
        """``(name, keys)`` of this partition's states, keys most specific first."""
        if not self.time_on_treatment.given:
            return [(self.state, (self.state,))]
        return [(f"{self.state}_{part}", (f"{self.state}_{part}", self.state))
                for part in ("on_treatment", "off_treatment")]


class PartitionedSurvivalStrategy(_Strict):
    label: str
    partitions: list[Partition] = Field(min_length=1, description="states from the innermost curve out; "
                                                                 "dead is above the last")
    targets: Targets | None = None

    def states(self) -> list[tuple[str, tuple[str, ...]]]:
        """``(name, keys)`` of every state alive, innermost first (dead follows)."""
        return [state for partition in self.partitions for state in partition.states()]

    @model_validator(mode="after")
    def _consistent(self) -> PartitionedSurvivalStrategy:
        names = [name for name, _ in self.states()]
        if len(set(names)) != len(names) or "dead" in names:
            raise ValueError(f"partitions: states {names} must be distinct and not 'dead'")
        first, last = self.partitions[0], self.partitions[-1]
        if first.subsequent_treatments:
            raise ValueError("partitions[0]: the first state is entered at the start; subsequent treatments start "
                             "on entry to a later state")
        for k, partition in enumerate(self.partitions[1:], start=1):
            if partition.time_on_treatment.given:
                raise ValueError(f"partitions[{k}].time_on_treatment: only the first state can be split on and off "
                                 f"treatment (a later state is entered at different times, so time on treatment "
                                 f"since entry is not a curve of model time)")
        if first.time_on_treatment.given and first.treatment is None:
            raise ValueError("partitions[0].time_on_treatment: needs the state's treatment")
        if last.death_share is not None:
            raise ValueError(f"partitions[{len(self.partitions) - 1}].death_share: the last state's exits are all "
                             f"deaths; remove it")
        for k, partition in enumerate(self.partitions[:-1]):
            entered = self.partitions[k + 1]
            if (entered.treatment or entered.subsequent_treatments) and partition.death_share is None:
                raise ValueError(f"partitions[{k}]: needs death_share, to count who enters {entered.state!r} alive "
                                 f"(its treatments are costed on entry)")
        return self


# ---------------------------------------------------------------------------------
# Markov
# ---------------------------------------------------------------------------------

#: Rows of transition probabilities (and an initial occupancy) must sum to 1 within this.
ROW_TOLERANCE = 1e-9


class CurveProbability(_Strict):
    """A transition probability per cycle from a survival curve of the population: the
    probability of an event in the cycle, ``1 − S(t + Δ)/S(t)`` with t the time since the
    start of the model (1 once the curve has reached 0), times ``share`` when given (the
    share of the curve's events that go to this state, e.g. the deaths among
    progression-free events; ``rest``: what the curve's other shares in the row leave)."""

    curve: Name
    share: Ref | Literal["rest"] | None = None


RowEntry = Ref | Literal["rest"] | CurveProbability


class TransitionMatrix(_Strict):
    """Transition probabilities per cycle of ``cycle_length_years`` (which must be the
    analysis's: probabilities are never converted between cycle lengths), given as
    observed counts (each row normalised: Dirichlet in a PSA when the counts are a joint
    distribution in their evidence file) or as probabilities: references, survival curves
    (:class:`CurveProbability`) and at most one ``rest`` per row. A state without a row
    stays where it is (absorbing)."""

    cycle_length_years: float = Field(gt=0)
    counts: dict[Name, dict[Name, Ref]] | None = None
    probabilities: dict[Name, dict[Name, RowEntry]] | None = None

    @property
    def rows(self) -> dict[str, dict[str, RowEntry]]:
        return self.counts if self.counts is not None else self.probabilities

    @property
    def form(self) -> str:
        return "counts" if self.counts is not None else "probabilities"

    @model_validator(mode="after")
    def _one_form(self) -> TransitionMatrix:
        if (self.counts is None) == (self.probabilities is None):
            raise ValueError("give the rows as counts or as probabilities (one of the two)")
        for origin, row in self.rows.items():
            if not row:
                raise ValueError(f"{self.form}.{origin}: an empty row; leave a state without a row to make it "
                                 f"absorbing")
            entries = list(row.values())
            if entries.count("rest") > 1:
                raise ValueError(f"probabilities.{origin}: at most one 'rest' per row")
            curves = [entry for entry in entries if isinstance(entry, CurveProbability)]
            if curves and "rest" not in entries:
                raise ValueError(f"probabilities.{origin}: a row with a curve needs one target 'rest' (a curve's "
                                 f"probability changes from cycle to cycle)")
            for name in {entry.curve for entry in curves}:
                if [entry.share for entry in curves if entry.curve == name].count("rest") > 1:
                    raise ValueError(f"probabilities.{origin}: curve {name!r} has more than one share 'rest'")
        return self

    def probabilities_by_row(self, value: Callable[[str], np.ndarray],
                             events: Callable[[str], np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
        """Each row's probabilities by target, for values per sample (``value(ref)``,
        ``(n,)``) and curves' event probabilities per cycle (``events(curve)``,
        ``(n, n_cycles)``): ``(n, 1)`` arrays, or ``(n, n_cycles)`` where a curve is used.
        Counts are normalised; an error names the row, the sample and the rule."""
        rows = {}
        for origin, row in self.rows.items():
            if self.counts is not None:
                counts = {target: value(ref)[:, None] for target, ref in row.items()}
                total = sum(counts.values())
                if (total <= 0).any():
                    raise InputError(f"counts.{origin}: the counts sum to 0{_first(total <= 0)[1]}; a row needs "
                                     f"at least one positive count")
                rows[origin] = {target: count / total for target, count in counts.items()}
            else:
                rows[origin] = _resolve(row, value, events, f"probabilities.{origin}")
        return rows


def initial_occupancy(initial: Mapping[str, str], value: Callable[[str], np.ndarray]) -> dict[str, np.ndarray]:
    """A strategy's initial occupancy by state (references and at most one ``rest``),
    ``(n, 1)`` arrays summing to 1 in every sample."""
    return _resolve(initial, value, None, "initial")


def _first(bad: np.ndarray) -> tuple[tuple[int, int], str]:
    """The first True of ``bad`` ``(n, 1 or n_cycles)`` and where it is, for an error."""
    sample, cycle = (int(i) for i in np.unravel_index(int(np.argmax(bad)), bad.shape))
    where = f" in sample {sample}" if bad.shape[0] > 1 else ""
    return (sample, cycle), where + (f", cycle {cycle}" if bad.shape[1] > 1 else "")


def _at(array: np.ndarray, index: tuple[int, int]) -> float:
    """One value of an ``(n or 1, n_cycles or 1)`` array at ``index``, broadcasting."""
    return float(array[min(index[0], array.shape[0] - 1), min(index[1], array.shape[1] - 1)])


def _resolve(row: Mapping[str, RowEntry], value: Callable[[str], np.ndarray],
             events: Callable[[str], np.ndarray] | None, where: str) -> dict[str, np.ndarray]:
    """Probabilities of one row by target: references as given, curves' events times their
    shares, ``rest`` (of the row, or of a curve's shares) what the others leave."""
    curves = [entry for entry in row.values() if isinstance(entry, CurveProbability)]
    rest_of_curve: dict[str, np.ndarray] = {}
    for name in dict.fromkeys(entry.curve for entry in curves):
        taken = sum((value(entry.share)[:, None] for entry in curves
                     if entry.curve == name and entry.share not in (None, "rest")), np.zeros((1, 1)))
        bad = taken > 1 + ROW_TOLERANCE
        if bad.any():
            index, place = _first(bad)
            raise InputError(f"{where}: the shares of curve {name!r} sum to {_at(taken, index)!r}{place}; the "
                             f"shares of one curve's events cannot exceed 1")
        rest_of_curve[name] = np.clip(1.0 - taken, 0.0, 1.0)
    found: dict[str, np.ndarray] = {}
    for target, entry in row.items():
        if isinstance(entry, CurveProbability):
            share = (rest_of_curve[entry.curve] if entry.share == "rest" else
                     np.ones((1, 1)) if entry.share is None else value(entry.share)[:, None])
            found[target] = events(entry.curve) * share
        elif entry != "rest":
            found[target] = value(entry)[:, None]
    total = sum(found.values(), np.zeros((1, 1)))
    rest = [target for target, entry in row.items() if entry == "rest"]
    bad = total > 1 + ROW_TOLERANCE if rest else np.abs(total - 1.0) > ROW_TOLERANCE
    if bad.any():
        index, place = _first(bad)
        listed = " + ".join(f"{target} {_at(p, index):.6g}" for target, p in found.items())
        rule = ("the probabilities besides 'rest' cannot exceed 1" if rest else
                f"a row must sum to 1 within {ROW_TOLERANCE:g}, or give one target 'rest'")
        raise InputError(f"{where}: sums to {_at(total, index)!r}{place} ({listed}); {rule}")
    if rest:
        found[rest[0]] = np.clip(1.0 - total, 0.0, 1.0)
    return found


class Period(_Strict):
    """The matrix used from the end of the period before until ``until`` (a duration since
    the start; the last period has none), optionally with a relative risk on every
    transition out of a state (the rest stay)."""

    transitions: Name
    until: Ref | None = None
    relative_risk: Ref | None = None


class StateTreatment(_Strict):
    """A treatment costed in ``states`` (per year of membership) from the start until
    ``until`` (a duration since the start; by default throughout)."""

    treatment: Name
    states: list[Name] = Field(min_length=1)
    until: Ref | None = None


class MarkovStrategy(_Strict):
    label: str
    periods: list[Period] = Field(min_length=1)
    treatments: list[StateTreatment] = Field(default_factory=list)
    initial: dict[Name, Ref | Literal["rest"]] | None = Field(
        None, description="initial occupancy (references, at most one 'rest'); default: everyone in the first state")
    targets: Targets | None = None

    @model_validator(mode="after")
    def _periods_end(self) -> MarkovStrategy:
        check_periods_end(self.periods)
        if self.initial is not None and (not self.initial or list(self.initial.values()).count("rest") > 1):
            raise ValueError("initial: give at least one state, and at most one 'rest'")
        return self


# ---------------------------------------------------------------------------------
# Populations
# ---------------------------------------------------------------------------------

class BodyWeight(_Strict):
    mean: Ref
    sd: Ref


class Comparison(_Strict):
    """The decision question of a population: the tornado, threshold price, CE plane
    and global sensitivity analyses compare ``intervention`` with ``comparator``."""

    intervention: Name
    comparator: Name


class Population(_Strict):
    """A population and its evidence; its ``strategies`` take the shape of the analysis's
    structure (:func:`population_schema`)."""

    label: str
    source: str
    comparison: Comparison
    start_age: Ref | None = Field(None, description="needed for general-population mortality and utility norms")
    share_female: Ref | None = None
    body_weight_kg: BodyWeight | None = Field(None, description="needed for weight-based doses")
    curves: dict[Name, CurveSpec] = Field(default_factory=dict)
    post_progression_survival: Name | None = Field(None, description="sequencing: curve from entry into "
                                                                     "post-progression care to death")
    states: list[Name] = Field(default_factory=list, description="markov: the states, 'dead' among them")
    transitions: dict[Name, TransitionMatrix] = Field(default_factory=dict)
    strategies: dict[Name, _Strict]


class SequencingPopulation(Population):
    strategies: dict[Name, SequencingStrategy]


class PartitionedSurvivalPopulation(Population):
    strategies: dict[Name, PartitionedSurvivalStrategy]


class MarkovPopulation(Population):
    strategies: dict[Name, MarkovStrategy]


_POPULATIONS = {"sequencing": SequencingPopulation, "partitioned_survival": PartitionedSurvivalPopulation,
                "markov": MarkovPopulation}


def population_schema(structure: str) -> type[Population]:
    """The population schema whose strategies have the shape of ``structure``."""
    return _POPULATIONS[structure]


def strategy_treatments(strategy) -> list[str]:
    """The treatments a strategy of any structure uses, in order of use."""
    if isinstance(strategy, SequencingStrategy):
        return [option.treatment for line in strategy.lines for option in line.options]
    if isinstance(strategy, PartitionedSurvivalStrategy):
        return [name for p in strategy.partitions
                for name in ([p.treatment] if p.treatment else []) + [s.treatment for s in p.subsequent_treatments]]
    return [item.treatment for item in strategy.treatments]


def first_treatments(strategy) -> list[str]:
    """The treatments a strategy starts with: its first line's options, its first state's
    treatment, or (Markov) the treatments it gives."""
    if isinstance(strategy, SequencingStrategy):
        return [option.treatment for option in strategy.lines[0].options]
    if isinstance(strategy, PartitionedSurvivalStrategy):
        return [strategy.partitions[0].treatment] if strategy.partitions[0].treatment else []
    return [item.treatment for item in strategy.treatments]


def strategy_curves(strategy) -> list[tuple[str, str]]:
    """``(field, curve name)`` of every curve a strategy names directly."""
    if isinstance(strategy, SequencingStrategy):
        found = [(f"lines[{k}].options[{j}].{field}", getattr(option, field))
                 for k, line in enumerate(strategy.lines) for j, option in enumerate(line.options)
                 for field in ("progression_free", "overall_survival") if getattr(option, field)]
        found += [(f"lines[{k}].options[{j}].time_on_treatment.curve", option.time_on_treatment.curve)
                  for k, line in enumerate(strategy.lines) for j, option in enumerate(line.options)
                  if option.time_on_treatment.curve]
        found += [(f"lines[{k}].options[{j}].time_on_treatment.by_drug.{drug}.curve", own.curve)
                  for k, line in enumerate(strategy.lines) for j, option in enumerate(line.options)
                  for drug, own in option.time_on_treatment.by_drug.items() if own.curve]
        found += [(f"lines[{k}].options[{j}].post_progression_survival", option.post_progression_survival)
                  for k, line in enumerate(strategy.lines) for j, option in enumerate(line.options)
                  if option.post_progression_survival]
        if strategy.post_progression.survival:
            found.append(("post_progression.survival", strategy.post_progression.survival))
        return found
    if isinstance(strategy, PartitionedSurvivalStrategy):
        found = [(f"partitions[{k}].survival", p.survival) for k, p in enumerate(strategy.partitions)]
        found += [(f"partitions[{k}].time_on_treatment.curve", p.time_on_treatment.curve)
                  for k, p in enumerate(strategy.partitions) if p.time_on_treatment.curve]
        found += [(f"partitions[{k}].time_on_treatment.by_drug.{drug}.curve", own.curve)
                  for k, p in enumerate(strategy.partitions)
                  for drug, own in p.time_on_treatment.by_drug.items() if own.curve]
        found += [(f"partitions[{k}].subsequent_treatments[{j}].duration", s.duration)
                  for k, p in enumerate(strategy.partitions) for j, s in enumerate(p.subsequent_treatments)]
        return found
    return []


def share_groups(strategy) -> list[list[str]]:
    """The shares of a strategy that split one group of patients, so may not sum above 1:
    the options of each line (of those progressing on the line before) and the treatments
    started on entry to each state."""
    if isinstance(strategy, SequencingStrategy):
        return [[option.share for option in line.options if option.share] for line in strategy.lines
                if any(option.share for option in line.options)]
    if isinstance(strategy, PartitionedSurvivalStrategy):
        return [[s.share for s in p.subsequent_treatments] for p in strategy.partitions if p.subsequent_treatments]
    return []
