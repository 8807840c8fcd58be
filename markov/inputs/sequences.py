"""Sequence rules as data, and every treatment sequence they allow.

An analysis's ``sequences:`` block (:class:`SequenceRules`) says which agents may be given
at each line, after which predecessor, and with what evidence; and the constraints a
clinician states: no agent twice, no two agents of a named class in a row, an agent only
after a named predecessor, at most ``max_active_lines`` active lines. Best supportive care
(BSC) is always allowed: a sequence may stop after any line, and those who start no
further line, or progress on the last, go to the population's post-progression care.

Each *position* (agent, line, predecessor) names its evidence from the population's
curves: ``overall_survival`` (an option lasting until death: the trial's survival from the
start of that line, whatever followed in the trial) and/or ``progression_free`` with its
``pre_progression_death_share`` (needed when a further line follows). When a position is
the last active line of a sequence it uses ``overall_survival`` if given; when a line
follows it, ``progression_free``. A position with only ``overall_survival`` cannot be
followed by a further line. ``assumption:`` flags a position whose curves are borrowed
from other evidence, with the reason; every sequence carries its flags.

:func:`enumerate_sequences` lists every sequence the rules allow, in a fixed order (by
number of lines, then by the order of the positions); :func:`sequence_strategy` writes one
as a :class:`~markov.inputs.structures.SequencingStrategy` (one option per line), so the
sequencing model evaluates it like any hand-written strategy.
"""
from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field, model_validator

from .._validate import InputError
from .schema import Name, Ref, TimeOnTreatment, _Strict
from .structures import Line, Option, Population, SequencingStrategy, line_name

#: Key prefix of an enumerated sequence's strategy (so it never meets a hand-written strategy's key).
SEQUENCE_PREFIX = "seq__"
#: Where a sequence stops: best supportive care, in labels.
BSC_LABEL = "BSC"
#: Refuse to enumerate (let alone evaluate) more sequences than this unless the rules raise it.
DEFAULT_MAX_SEQUENCES = 2_000


class Position(_Strict):
    """One agent at one line after given predecessors, and its evidence."""

    line: int = Field(ge=1, description="1 = first line")
    treatment: Name
    after: list[Name] | None = Field(
        None, description="the agents of the line before after which this position applies; none: any "
                          "(a first line has no predecessor)")
    share: Ref | None = Field(None, description="share of those progressing on the line before who start this agent "
                                                "(the rest go to best supportive care); needed from the second line")
    overall_survival: Name | None = Field(None, description="curve from the start of the line to death, used when "
                                                            "this is the sequence's last active line")
    progression_free: Name | None = Field(None, description="curve from the start of the line to progression or "
                                                            "death, used when a further line follows (or always, "
                                                            "without overall_survival)")
    pre_progression_death_share: Ref | None = None
    time_on_treatment: TimeOnTreatment = TimeOnTreatment()
    assumption: str | None = Field(None, min_length=1, description="the position has no direct evidence: why the "
                                                                   "curves named are used (flagged in every table)")

    @model_validator(mode="after")
    def _evidence(self) -> Position:
        if (self.progression_free is None) != (self.pre_progression_death_share is None):
            given, missing = (("progression_free", "pre_progression_death_share") if self.progression_free
                              else ("pre_progression_death_share", "progression_free"))
            raise ValueError(f"{given} is given without {missing}: a progression-free curve needs the share of its "
                             f"events that are deaths")
        if self.overall_survival is None and self.progression_free is None:
            raise ValueError(f"{self.treatment} at line {self.line}: no evidence; name overall_survival (last line) "
                             f"and/or progression_free with pre_progression_death_share (a further line follows), "
                             f"with assumption: <why> where the curves are borrowed")
        if self.line == 1:
            if self.after is not None:
                raise ValueError(f"after = {self.after!r}: a first line has no predecessor")
            if self.share is not None:
                raise ValueError(f"share = {self.share!r}: the whole cohort starts the first line; give shares from "
                                 f"the second line")
        elif self.share is None:
            raise ValueError(f"share: needed at line {self.line} (of those progressing on the line before, the share "
                             f"who start {self.treatment}; the rest go to best supportive care)")
        return self

    @property
    def followable(self) -> bool:
        """Whether a further line may follow this position (it has a progression-free curve)."""
        return self.progression_free is not None

    def option(self, last: bool) -> Option:
        """The option of a strategy for this position: its overall survival when it is the
        last active line (if given), else its progression-free curve."""
        evidence = ({"overall_survival": self.overall_survival} if last and self.overall_survival
                    else {"progression_free": self.progression_free,
                          "pre_progression_death_share": self.pre_progression_death_share})
        return Option(treatment=self.treatment, share=self.share, time_on_treatment=self.time_on_treatment,
                      **evidence)


class SequenceRules(_Strict):
    """The sequences of one population: positions with their evidence, and the rules."""

    population: Name
    max_active_lines: int = Field(ge=1, le=10)
    positions: list[Position] = Field(min_length=1)
    no_repeat: bool = Field(True, description="an agent is given at most once in a sequence")
    classes: dict[Name, Name] = Field(default_factory=dict, description="agent -> its class")
    not_in_a_row: list[Name] = Field(default_factory=list, description="classes of which two agents may not be "
                                                                       "given in consecutive lines")
    only_after: dict[Name, list[Name]] = Field(
        default_factory=dict, description="agent -> agents one of which must have been given at an earlier line")
    labels: dict[Name, str] = Field(default_factory=dict, description="short label of an agent in tables and figures")
    max_sequences: int = Field(DEFAULT_MAX_SEQUENCES, ge=1, description="refuse to evaluate more sequences")

    @model_validator(mode="after")
    def _consistent(self) -> SequenceRules:
        agents = {position.treatment for position in self.positions}
        for k, position in enumerate(self.positions):
            if position.line > self.max_active_lines:
                raise ValueError(f"positions[{k}].line = {position.line}: above max_active_lines = "
                                 f"{self.max_active_lines}")
            for name in position.after or ():
                if name not in agents:
                    raise ValueError(f"positions[{k}].after: {name!r} is not the treatment of any position")
        if not any(position.line == 1 for position in self.positions):
            raise ValueError("positions: none at line 1; every sequence starts with a first line")
        for k, position in enumerate(self.positions):
            for j, other in enumerate(self.positions[:k]):
                if (other.line, other.treatment) != (position.line, position.treatment):
                    continue
                both = None if position.after is None or other.after is None else set(position.after) & set(other.after)
                if both is None or both:
                    after = f" after {min(both)}" if both else ""
                    raise ValueError(f"positions[{k}]: {position.treatment} at line {position.line}{after} is also "
                                     f"positions[{j}]; each (agent, line, predecessor) needs one position")
        for name in self.not_in_a_row:
            if name not in self.classes.values():
                raise ValueError(f"not_in_a_row: {name!r} is not a class of classes (known: "
                                 f"{', '.join(sorted(set(self.classes.values()))) or 'none'})")
        for field in ("classes", "only_after", "labels"):
            for agent in getattr(self, field):
                if agent not in agents:
                    raise ValueError(f"{field}.{agent}: not the treatment of any position")
        for agent, before in self.only_after.items():
            unknown = [name for name in before if name not in agents]
            if unknown:
                raise ValueError(f"only_after.{agent}: {unknown[0]!r} is not the treatment of any position")
        return self


@dataclass(frozen=True)
class Sequence:
    """One sequence: its positions, line by line, then best supportive care."""

    positions: tuple[Position, ...]

    @property
    def treatments(self) -> tuple[str, ...]:
        return tuple(position.treatment for position in self.positions)

    @property
    def key(self) -> str:
        return SEQUENCE_PREFIX + "__".join(self.treatments)

    def label(self, labels: dict[str, str]) -> str:
        return " → ".join([*(labels.get(t, t) for t in self.treatments), BSC_LABEL])

    @property
    def assumptions(self) -> tuple[str, ...]:
        """``"<line name> <agent>: <why>"`` for each position resting on an assumption."""
        return tuple(f"{line_name(k)} {p.treatment}: {p.assumption}" for k, p in enumerate(self.positions)
                     if p.assumption)


def rule_broken(rules: SequenceRules, sequence: tuple[Position, ...], candidate: Position) -> str | None:
    """The rule that forbids ``candidate`` after ``sequence`` (None: allowed)."""
    given = [p.treatment for p in sequence]
    previous = given[-1] if given else None
    if candidate.line != len(sequence) + 1:
        return "line"
    if candidate.after is not None and previous not in candidate.after:
        return "after"
    if rules.no_repeat and candidate.treatment in given:
        return "no_repeat"
    kind = rules.classes.get(candidate.treatment)
    if previous is not None and kind in rules.not_in_a_row and rules.classes.get(previous) == kind:
        return "not_in_a_row"
    needed = rules.only_after.get(candidate.treatment)
    if needed is not None and not set(needed) & set(given):
        return "only_after"
    return None


def enumerate_sequences(rules: SequenceRules, limit: int | None = None) -> list[Sequence]:
    """Every sequence the rules allow: one to ``max_active_lines`` lines, each line a
    position matching the line before, a line followed only where its position has a
    progression-free curve. Ordered by number of lines, then by position order. Stops
    with an error naming the count once more than ``limit`` (default: the rules'
    ``max_sequences``) are found."""
    limit = rules.max_sequences if limit is None else limit
    found: list[Sequence] = []
    frontier: list[tuple[Position, ...]] = [()]
    for line in range(1, rules.max_active_lines + 1):
        grown = []
        for partial in frontier:
            if partial and not partial[-1].followable:
                continue
            for candidate in rules.positions:
                if rule_broken(rules, partial, candidate) is None:
                    grown.append((*partial, candidate))
        found += [Sequence(positions) for positions in grown]
        if len(found) > limit:
            raise InputError(f"sequences: more than {limit:,} sequences allowed by the rules (found {len(found):,} "
                             f"up to line {line}); add rules, lower max_active_lines, or raise max_sequences")
        frontier = grown
    return found


def sequence_strategy(sequence: Sequence, labels: dict[str, str]) -> SequencingStrategy:
    """The sequencing strategy of ``sequence``: one option per line, the last active line
    on its overall survival where given, then best supportive care."""
    last = len(sequence.positions) - 1
    lines = [Line(options=[position.option(k == last)]) for k, position in enumerate(sequence.positions)]
    return SequencingStrategy(label=sequence.label(labels), lines=lines)


def check_rules(rules: SequenceRules, population: Population, where: str) -> None:
    """The rules' curves exist in their population (errors name the position, the field and the curve)."""
    for k, position in enumerate(rules.positions):
        named = [("overall_survival", position.overall_survival), ("progression_free", position.progression_free),
                 ("time_on_treatment.curve", position.time_on_treatment.curve),
                 *((f"time_on_treatment.by_drug.{d}.curve", own.curve)
                   for d, own in position.time_on_treatment.by_drug.items())]
        for field, curve in named:
            if curve is not None and curve not in population.curves:
                raise InputError(f"{where}: positions[{k}].{field} = {curve!r}: no curve of that name in population "
                                 f"{rules.population!r} (known: {', '.join(population.curves)})")


def labels_of(rules: SequenceRules, treatments: dict) -> dict[str, str]:
    """Each agent's label: the rules' own, else the treatment's."""
    agents = dict.fromkeys(position.treatment for position in rules.positions)
    return {agent: rules.labels.get(agent) or getattr(treatments.get(agent), "label", agent) for agent in agents}


def sequence_rules(inputs) -> SequenceRules:
    """The sequence rules of an analysis (``inputs``: :class:`~markov.inputs.ModelInputs`),
    checked when it was loaded."""
    if inputs.analysis.sequences is None:
        raise InputError(f"{inputs.source}: has no sequences: block; a search over sequences needs its rules "
                         f"(docs/sequences.md)")
    return SequenceRules.model_validate(inputs.analysis.sequences)
