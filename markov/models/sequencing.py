"""The treatment-sequencing structure: any number of lines, each with any number of options.

For each population and strategy: lines of treatment, each option of a line started by
its share of those progressing on the line before (on the first line, of the cohort), the
rest going to post-progression care (best supportive care, BSC); after the last line, BSC
until death. Each line's clock restarts when a patient enters it: an option's occupancy
is the convolution of its entries with its progression-free curve
(:func:`markov.engine.add_line`), whose events split into deaths and progressions by the
option's pre-progression death share. Progressions from every option of a line are pooled
and split between the next line's options. The model is linear in the cohort, so BSC is
one state fed by every line: one convolution of all its entries.

Survival in BSC can depend on the treatment a patient progressed on: an option that
names its own ``post_progression_survival`` sends those of its progressors who start no
further line to a BSC state of that survival, ``best_supportive_care_<curve>`` (looked up
as itself, then as ``best_supportive_care``); options naming the same curve share the
state. Then a second-line share changes overall survival through the difference between
the second line's survival and survival without it.

An option is one state, named ``<line>`` when it is its line's only option and
``<line>_<treatment>`` otherwise; with its own time on treatment it is two,
``…_on_treatment`` and ``…_off_treatment`` (drug costs in the first only). Its drug
acquisition is costed in ``<line>_drugs``; its utility and costs of care are looked up by
state name, then line name (an off-treatment state by its own name, its option's, then
``<line>_off_treatment``, then the line's).

An option whose evidence is overall survival from its start (a later-line trial's OS)
names ``overall_survival`` instead of a progression-free curve: its state lasts until
death, so the survival after its own progression is the trial's, and its time on
treatment (its PFS, say) splits it into on and off treatment.

General-population mortality is a floor on every cycle's probability of death: the
per-cycle event probability of each option and of BSC is raised to the life table's if
lower, and the share of events that are deaths is raised so that deaths alone reach it.
Later lines use the table from the cohort's starting age (their clocks restart), which
understates the floor there.

A strategy whose ``post_progression.calibrated_to`` names a strategy gets an exponential
BSC death rate solved, per sample, so that the named strategy's model OS median equals its
reported median (:func:`markov.engine.exit_rate_for_median`): a labelled choice, reported
in the calibration table.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

import numpy as np

from .._validate import InputError
from ..engine import (
    CohortTrace,
    Convolutions,
    LineToCare,
    StateSums,
    add_line,
    add_post_progression,
    add_scaled_rows,
    add_starting_line,
    add_terminal_state,
    care_occupancy_by_recursion,
    death_probabilities,
    exit_rate_for_median,
    floor_survival,
)
from ..inputs import ParameterSet
from ..inputs.structures import Option, Population, SequencingStrategy
from .base import CohortModel, DrugCourses, Prepared
from .protocol import StrategyResult
from .shared import SharedWork
from .valuation import State, dead_state, value_trace


@dataclass
class _Prepared(Prepared):
    # what the populations of an evaluation share: floored curves, times on treatment and
    # the convolutions, which reuse what they compute from a shared curve across strategies
    shared_work: SharedWork
    convolutions: Convolutions
    calibrated: dict = field(default_factory=dict)  # anchor -> (BSC curve, floored cycles, unreachable per sample)


@dataclass
class _Lines:
    """A strategy's trace up to BSC: every line filled in, BSC and dead not yet."""

    states: list[State]
    occupancy: np.ndarray  # (n_samples, n_time_points, n_states)
    entries: np.ndarray  # as occupancy, or of the first time point only
    post: dict[str | None, np.ndarray]  # entries into post-progression care by its survival (None: the strategy's)
    deaths: np.ndarray  # (n_samples, n_time_points), so far
    floored: int  # cycles floored by general-population mortality
    own: dict = field(default_factory=dict)  # state index -> (drug courses, occupancy of a curve, entries)
    sums: StateSums | None = None  # each state's sums for valuing, written with it
    to_care: list[LineToCare] | None = None  # what each line sends to care, where all of it goes to one care


def _floor(prepared: _Prepared, curve: np.ndarray, death_share: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`~markov.engine.floor_survival` against the population's general population,
    whose probabilities of death by cycle are computed once for every curve floored."""
    population = prepared.general_population
    dying = prepared.shared_work.for_objects("death_probabilities", (population,), death_probabilities)
    return floor_survival(curve, death_share, population, dying)


def _post_progression_groups(strategy: SequencingStrategy) -> list[str | None]:
    """The survivals of post-progression care: each option's own (by curve, in order of
    appearance), then the strategy's (None), each one state."""
    own = [option.post_progression_survival for line in strategy.lines for option in line.options
           if option.post_progression_survival]
    return [*dict.fromkeys(own), None]


def _occupancy_of(share: np.ndarray, line_entries: np.ndarray | None, n_times: int, convolutions: Convolutions):
    """How a curve since entry into a line becomes occupancy (the first line: its share of
    the cohort at t = 0; a later line: the convolution with its entries), and the entries."""
    if line_entries is None:
        entries = np.zeros((share.shape[0], n_times))
        entries[:, 0] = share
        whole = (share == 1.0).all()  # the whole cohort: a curve per sample is its occupancy (1.0 times it)
        return (lambda curve: curve if whole and curve.shape[0] == share.shape[0] else share[:, None] * curve,
                entries)
    return (lambda curve: convolutions.occupancy(line_entries, np.ascontiguousarray(curve))), line_entries


def _option_states(line: str, option: Option, alone: bool) -> list[State]:
    """The state(s) of an option: on and off treatment when it has its own time on
    treatment, else one."""
    base = line if alone else f"{line}_{option.treatment}"
    keys = (base,) if alone else (base, line)
    on = dict(treatment=option.treatment, drug_category=f"{line}_drugs", entered_treatment=option.treatment)
    if not option.time_on_treatment.given:
        return [State(base, keys, **on)]
    off_keys = dict.fromkeys((f"{base}_off_treatment", *keys[:-1], f"{line}_off_treatment", line))
    return [State(f"{base}_on_treatment", (f"{base}_on_treatment", *keys), **on),
            State(f"{base}_off_treatment", tuple(off_keys))]


class SequencingModel(CohortModel):
    """The sequencing structure of an analysis (see the module docstring)."""

    def drug_categories(self, strategy: SequencingStrategy) -> list[str]:
        return [f"{name}_drugs" for name in strategy.line_names()]

    def population(self, name: str, population: Population, params: ParameterSet,
                   shared: SharedWork | None = None) -> _Prepared:
        shared = SharedWork() if shared is None else shared
        n_times = self.grid.n_cycles + 1
        return self._prepared(_Prepared, name, population, params, shared, shared_work=shared,
                              convolutions=shared.get(("convolutions", n_times), lambda: Convolutions(n_times)))

    @staticmethod
    def _floored(prepared: _Prepared, curve: str, death_share: str | None = None) -> tuple[np.ndarray, np.ndarray, int]:
        """Curve ``curve`` on the grid and the share of its events that are deaths (the
        parameter ``death_share``; None: all), floored by general-population mortality
        (:func:`~markov.engine.floor_survival`): computed once per population, shared
        read-only by its strategies and by populations with the same curve and general
        population."""
        def floored(on_grid: np.ndarray, population: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
            share = np.ones(prepared.params.n_samples) if death_share is None else prepared.params[death_share]
            found = _floor(prepared, on_grid, share)
            for array in found[:2]:
                array.flags.writeable = False
            return found

        objects = (prepared.on_grid[curve], prepared.general_population)
        return prepared.shared_work.for_objects("floored", objects, floored, death_share)

    def strategy(self, prepared: _Prepared, name: str, strategy: SequencingStrategy, keep_trace: bool = True
                 ) -> StrategyResult:
        weights = prepared.values.state_sum_weights
        # valued from the sums, a trace that is not kept needs its entries at t = 0 only (its exits')
        lines = self._lines(prepared, name, strategy, weights, all_entries=keep_trace or weights is None)
        bsc, floored, unreachable = self._post_progression(prepared, name, strategy, lines)
        care = strategy.post_progression.name
        extra = [group for group in lines.post if group is not None]
        convolutions = prepared.convolutions
        for column, group in enumerate(extra, start=len(lines.states)):  # care after an option with its own survival
            survival, _, more = self._floored(prepared, group)
            floored += more
            add_terminal_state(lines.occupancy, lines.entries, column, lines.post[group], survival, lines.deaths,
                               convolutions, lines.sums)
        known = None
        if lines.to_care is not None:  # where care's entries are not one geometric series either
            # care's occupancy by recursions over the lines whose curves are, not a convolution
            known = functools.partial(care_occupancy_by_recursion, lines.to_care, bsc, convolutions)
        add_post_progression(lines.occupancy, lines.entries, lines.post[None], lines.deaths, bsc, convolutions,
                             lines.sums, known)
        # those alive cap a course that goes on beyond progression (dead is the last state)
        beyond = any(found.beyond_progression for found, *_ in lines.own.values())
        alive = 1.0 - lines.occupancy[:, :, -1] if beyond else None
        for j, (found, occupancy_of, entries) in lines.own.items():  # drugs costed on their own time on treatment
            state = lines.states[j]
            courses = self.own_courses(found, state.treatment, state.drug_category, occupancy_of, entries, alive)
            lines.states[j] = dataclasses.replace(state, treatment=None, courses=courses)
        states = [*lines.states, *(State(f"{care}_{group}", (f"{care}_{group}", care)) for group in extra),
                  State(care, (care,)), dead_state()]
        names = tuple(state.name for state in states)
        trace = CohortTrace(lines.occupancy, lines.entries, names)
        costs, life_years, qalys = value_trace(prepared.values, trace, states, self.categories, lines.sums)
        first = strategy.line_names()[0]
        progression_free = tuple(s.name for s in lines.states if s.keys[-1] == first)
        return StrategyResult(prepared.name, name, strategy.label, trace, costs, life_years, qalys, names,
                              progression_free, floored + lines.floored, unreachable)

    # --- lines ------------------------------------------------------------------------
    def _option_curve(self, prepared: _Prepared, option: Option) -> tuple[np.ndarray, np.ndarray, int]:
        """An option's progression-free curve since entry and death share by cycle, floored;
        an option with overall survival instead has only deaths."""
        if option.overall_survival is not None:
            return self._floored(prepared, option.overall_survival)
        return self._floored(prepared, option.progression_free, option.pre_progression_death_share)

    def _treated(self, prepared: _Prepared, option: Option, curve: np.ndarray) -> DrugCourses | np.ndarray:
        """An option's time on treatment since entry: its drug courses where its drugs are
        costed on their own (:meth:`drug_courses`), else the on-treatment curve
        (:meth:`time_on_treatment`). ``curve`` is its floored curve (:meth:`_option_curve`).
        Computed once per population and shared read-only by its strategies and by other
        populations with the same curves (as a read-only array, its convolutions reuse
        what they compute from it)."""
        tot = option.time_on_treatment

        def treated(curve: np.ndarray, *_) -> DrugCourses | np.ndarray:
            if tot.own_courses:
                found = self.drug_courses(option.treatment, tot, curve, prepared.on_grid, prepared.params)
                arrays = [found.on_state, found.treated, *found.drugs.values()]
            else:
                found = self.time_on_treatment(tot, curve, prepared.on_grid, prepared.params)
                arrays = [found]
            for array in arrays:
                array.flags.writeable = False
            return found

        # the same for another population with the same curves (these very arrays)
        own = dict.fromkeys(course.curve for course in (tot, *tot.by_drug.values()) if course.curve)
        objects = (curve, *(prepared.on_grid[name] for name in own))
        return prepared.shared_work.for_objects("treated", objects, treated, option.treatment, tot.model_dump_json())

    def _shares(self, prepared: _Prepared, strategy_name: str, k: int, options: list[Option]
                ) -> tuple[list[np.ndarray], np.ndarray]:
        """Each option's share and the share that starts none of them, per sample."""
        n = prepared.params.n_samples
        shares = [np.ones(n) if option.share is None else prepared.params[option.share] for option in options]
        rest = 1.0 - sum(shares, np.zeros(n))
        if (rest < -1e-12).any():
            i = int(np.argmin(rest))
            raise InputError(f"{prepared.name}.{strategy_name}.lines[{k}]: shares sum to {float(1 - rest[i])!r} in "
                             f"sample {i}; shares of one group of patients cannot exceed 1")
        return shares, rest

    def _lines(self, prepared: _Prepared, strategy_name: str, strategy: SequencingStrategy,
               weights: tuple[np.ndarray, np.ndarray] | None = None, all_entries: bool = True) -> _Lines:
        """Every line of the strategy, and what they send to post-progression care (by the
        survival each option's progressors follow there) and to death; with ``weights``
        (on occupancy and on entries), each state's :class:`~markov.engine.StateSums`, written
        with it. Without ``all_entries`` the states' entries are kept at t = 0 only."""
        n, n_times = prepared.params.n_samples, self.grid.n_cycles + 1
        names = strategy.line_names()
        layout = [[_option_states(name, option, len(line.options) == 1) for option in line.options]
                  for name, line in zip(names, strategy.lines, strict=True)]
        states = [state for line in layout for option in line for state in option]
        groups = _post_progression_groups(strategy)
        # stored state by state, so that each state's series is written and read as one
        # contiguous block, and seen with a trace's axes (sample, time point, state)
        shape = (n, len(states) + len(groups) + 1, n_times)
        occupancy = np.empty(shape).transpose(0, 2, 1)  # every state is filled before use
        # so is every state entered; off treatment is not (below)
        entries = np.empty(shape if all_entries else (*shape[:2], 1)).transpose(0, 2, 1)
        sums = None if weights is None else StateSums.empty(*weights, n, shape[1])
        deaths = np.empty((n, n_times))  # written by the first option of the first line, then added to
        post = {group: np.zeros((n, n_times)) for group in groups}  # entries into care, by its survival
        to_care: list[LineToCare] | None = [] if groups == [None] else None
        progressed: dict[str | None, np.ndarray] = {}  # progressions of the line before, by where they go
        floored, column, own = 0, 0, {}
        for k, line in enumerate(strategy.lines):
            shares, rest = self._shares(prepared, strategy_name, k, line.options)
            rest = np.clip(rest, 0.0, 1.0)  # the share of the line's entries that go to care
            last = k == len(strategy.lines) - 1
            starting = functools.reduce(np.add, progressed.values()) if k else None  # one group: itself
            if k == 0:
                post[None][:, 0] += rest
            elif (rest > 0.0).any():  # some start none of this line's options
                for group, progressions in progressed.items():
                    add_scaled_rows(post[group], rest, progressions)
            onward: dict[str | None, np.ndarray] = {}
            sent: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
            for option, share, option_states in zip(line.options, shares, layout[k], strict=True):
                curve, death_share, more = self._option_curve(prepared, option)
                floored += more
                sent.append((share, curve, death_share))
                group = option.post_progression_survival
                found = self._treated(prepared, option, curve) if len(option_states) == 2 else None
                on = found.on_state if isinstance(found, DrugCourses) else found  # None: one state
                if k == 0:  # everyone starts at t = 0: occupancy is the curve itself, exits its falls
                    new = not last and group not in onward
                    leaving_alive = post[group] if last else onward.setdefault(group, np.empty((n, n_times)))
                    add_starting_line(occupancy, entries, column, share, curve, death_share, deaths, leaving_alive, on,
                                      sums, unwritten=(column == 0, new))
                    line_entries = None
                else:
                    line_entries = np.empty((n, n_times))
                    add_scaled_rows(line_entries, share, starting, unwritten=True)
                    line_entries.flags.writeable = False  # its spectrum serves its time on treatment too
                    progressions = None if last else np.empty((n, n_times))
                    add_line(occupancy, entries, column, line_entries, curve, death_share, deaths,
                             post[group] if last else post[None], progressions, prepared.convolutions, on, sums)
                    if not last:  # the next line's entries: the first option's progressions, the others' added
                        if group in onward:
                            onward[group] += progressions
                        else:
                            onward[group] = progressions
                if isinstance(found, DrugCourses):
                    own[column] = (found, *_occupancy_of(share, line_entries, n_times, prepared.convolutions))
                column += len(option_states)
            progressed = onward
            if to_care is not None:
                to_care.append(LineToCare(rest, tuple(sent)))
        return _Lines(states, occupancy, entries, post, deaths, floored, own, sums, to_care)

    # --- post-progression care ----------------------------------------------------------
    def _post_progression(self, prepared: _Prepared, strategy_name: str, strategy: SequencingStrategy,
                          lines: _Lines) -> tuple[np.ndarray, int, np.ndarray | None]:
        """BSC survival on the grid (floored), the cycles floored, and per sample whether
        the OS median could not be reached (None when not calibrated). ``lines`` are the
        strategy's own."""
        n, population = prepared.params.n_samples, prepared.spec
        anchor = strategy.post_progression.calibrated_to
        if anchor is None:
            name = strategy.post_progression.survival or population.post_progression_survival
            curve, _, floored = self._floored(prepared, name)
            return curve, floored, None
        if anchor not in prepared.calibrated:
            # the rate depends on the anchor's lines only, not on its BSC survival
            target = population.strategies[anchor]
            anchor_lines = lines if anchor == strategy_name else self._lines(prepared, anchor, target,
                                                                             all_entries=False)
            times = self.grid.times_years
            rate, unreachable = exit_rate_for_median(anchor_lines.post[None], anchor_lines.occupancy[:, :, :-2], times,
                                                     prepared.params.years(target.targets.os_median))
            curve = np.exp(-rate[:, None] * times[None, :])
            floored_curve, _, floored = _floor(prepared, curve, np.ones(n))
            prepared.calibrated[anchor] = (floored_curve, floored, unreachable)
        return prepared.calibrated[anchor]
