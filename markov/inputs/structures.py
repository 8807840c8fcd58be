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

from typing import Literal

from pydantic import Field, model_validator

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
    progression_free: Name = Field(description="curve of time from entry to progression or death")
    pre_progression_death_share: Ref = Field(description="share of progression-free events that are deaths")
    time_on_treatment: TimeOnTreatment = TimeOnTreatment()


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
        return self


# ---------------------------------------------------------------------------------
# Partitioned survival
# ---------------------------------------------------------------------------------

class SubsequentTreatment(_Strict):
    """A treatment started on entry to a state, costed once at entry: its share of those
    entering alive, times its cost per year, times its mean duration (the restricted
    mean of ``duration`` over the horizon, undiscounted)."""

    treatment: Name
    share: Ref
    duration: Name = Field(description="curve of time on this treatment")


class Partition(_Strict):
    """A state of a partitioned survival model and the curve that bounds it from above:
    the state holds those inside ``survival`` and outside the curve before it (the first
    state: everyone inside its curve)."""

    state: Name
    survival: Name
    treatment: Name | None = Field(None, description="costed while in this state (and on treatment)")
    time_on_treatment: TimeOnTreatment = TimeOnTreatment()
    death_share: Ref | None = Field(None, description="share of this state's exits that are deaths: the others "
                                                      "enter the next state alive (for one-off costs on entry)")
    subsequent_treatments: list[SubsequentTreatment] = Field(
        default_factory=list, description="treatments started on entry to this state")


class PartitionedSurvivalStrategy(_Strict):
    label: str
    partitions: list[Partition] = Field(min_length=1, description="states from the innermost curve out; "
                                                                 "dead is above the last")
    targets: Targets | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PartitionedSurvivalStrategy:
        states = [p.state for p in self.partitions]
        if len(set(states)) != len(states) or "dead" in states:
            raise ValueError(f"partitions: states {states} must be distinct and not 'dead'")
        if self.partitions[0].subsequent_treatments:
            raise ValueError("partitions[0]: the first state is entered at the start; subsequent treatments start "
                             "on entry to a later state")
        for k, partition in enumerate(self.partitions[:-1]):
            if self.partitions[k + 1].subsequent_treatments and partition.death_share is None:
                raise ValueError(f"partitions[{k}]: needs death_share, to count who enters "
                                 f"{self.partitions[k + 1].state!r} alive")
        return self


# ---------------------------------------------------------------------------------
# Markov
# ---------------------------------------------------------------------------------

class TransitionMatrix(_Strict):
    """Transition probabilities per cycle of ``cycle_length_years``, given as observed
    counts (each row normalised: Dirichlet in a PSA when the counts are a joint
    distribution in their evidence file) or as probabilities with at most one ``rest`` per
    row. A state without a row stays where it is (absorbing)."""

    cycle_length_years: float = Field(gt=0)
    counts: dict[Name, dict[Name, Ref]] | None = None
    probabilities: dict[Name, dict[Name, Ref | Literal["rest"]]] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> TransitionMatrix:
        if (self.counts is None) == (self.probabilities is None):
            raise ValueError("give the rows as counts or as probabilities (one of the two)")
        for origin, row in (self.probabilities or {}).items():
            if list(row.values()).count("rest") > 1:
                raise ValueError(f"probabilities.{origin}: at most one 'rest' per row")
        return self


class Period(_Strict):
    """The matrix used from the end of the period before until ``until`` (years since the
    start; the last period has none), optionally with a relative risk on every transition
    out of a state (the rest stay)."""

    transitions: Name
    until: Ref | None = None
    relative_risk: Ref | None = None


class StateTreatment(_Strict):
    """A treatment costed in ``states`` (per year of membership) until ``until``."""

    treatment: Name
    states: list[Name] = Field(min_length=1)
    until: Ref | None = None


class MarkovStrategy(_Strict):
    label: str
    periods: list[Period] = Field(min_length=1)
    treatments: list[StateTreatment] = Field(default_factory=list)
    initial: dict[Name, Ref] | None = Field(None, description="initial occupancy; default: everyone in the first "
                                                              "state")
    targets: Targets | None = None

    @model_validator(mode="after")
    def _periods_end(self) -> MarkovStrategy:
        check_periods_end(self.periods)
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
        found = [(f"lines[{k}].options[{j}].progression_free", option.progression_free)
                 for k, line in enumerate(strategy.lines) for j, option in enumerate(line.options)]
        found += [(f"lines[{k}].options[{j}].time_on_treatment.curve", option.time_on_treatment.curve)
                  for k, line in enumerate(strategy.lines) for j, option in enumerate(line.options)
                  if option.time_on_treatment.curve]
        if strategy.post_progression.survival:
            found.append(("post_progression.survival", strategy.post_progression.survival))
        return found
    if isinstance(strategy, PartitionedSurvivalStrategy):
        found = [(f"partitions[{k}].survival", p.survival) for k, p in enumerate(strategy.partitions)]
        found += [(f"partitions[{k}].time_on_treatment.curve", p.time_on_treatment.curve)
                  for k, p in enumerate(strategy.partitions) if p.time_on_treatment.curve]
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
