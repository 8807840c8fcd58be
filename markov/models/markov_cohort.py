"""The Markov structure: a cohort moving between named states by transition matrices.

A population names its states (``dead`` among them) and its transition matrices, each
per cycle of the analysis (:class:`~markov.inputs.structures.TransitionMatrix`): rows of
observed counts (normalised), or of probabilities given as references, as a survival
curve's events per cycle (``1 − S(t + Δ)/S(t)``, t the time since the start, from the
same curve registry as every structure, :mod:`~markov.models.curves`) and at most one
``rest``. A state without a row is absorbing.

A strategy is a list of periods, each using a matrix until a time (the last to the
horizon), optionally with a relative risk on every transition out of a state (the
remainder stays); treatments costed per year in named states, each throughout or until
a time; and an initial occupancy (by default everyone in the first state). The matrices
of a strategy become one array ``(n_samples, n_matrices, k, k)`` and the index of the
matrix each cycle uses (:func:`markov.engine.run_markov`): a period with a constant
matrix stores it once, a period whose matrix follows a curve one per cycle.

A period or a treatment covers the cycles that start before its end
(:meth:`~markov.grid.TimeGrid.cycles_before`): two years on a yearly grid are cycles 0
and 1. Each state's utility and costs of care are looked up by its name; a treatment's
drugs are costed in ``<treatment>_drugs``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import InputError
from ..engine import run_markov
from ..inputs import ParameterSet
from ..inputs.structures import ROW_TOLERANCE, CurveProbability, MarkovStrategy, Population, initial_occupancy
from .base import CohortModel
from .protocol import StrategyResult
from .shared import SharedWork
from .valuation import Course, PopulationValues, State, value_trace


@dataclass
class _Prepared:
    """One population's transition matrices for a parameter set: name -> ``(n, 1 or
    n_cycles, k, k)``."""

    name: str
    spec: Population
    params: ParameterSet
    matrices: dict[str, np.ndarray]
    values: PopulationValues  # what valuing its strategies shares


class MarkovModel(CohortModel):
    """The Markov structure of an analysis (see the module docstring)."""

    def drug_categories(self, strategy: MarkovStrategy) -> list[str]:
        return [f"{item.treatment}_drugs" for item in strategy.treatments]

    def population(self, name: str, population: Population, params: ParameterSet,
                   shared: SharedWork | None = None) -> _Prepared:
        shared = SharedWork() if shared is None else shared
        used = {entry.curve for matrix in population.transitions.values() if matrix.probabilities
                for row in matrix.probabilities.values() for entry in row.values()
                if isinstance(entry, CurveProbability)}
        curves = self.curves(population, params, shared) if used else {}
        events = {curve: self._events(curves[curve].survival_on_grid(self.grid)) for curve in used}
        matrices = {}
        for m_name, matrix in population.transitions.items():
            try:
                rows = matrix.probabilities_by_row(params.__getitem__, events.__getitem__)
            except InputError as error:
                raise InputError(f"populations.{name}.transitions.{m_name}.{error}") from None
            matrices[m_name] = self._matrix(population.states, rows, params.n_samples)
        values = PopulationValues(self.inputs, population, params, self.grid, shared)
        return _Prepared(name, population, params, matrices, values)

    @staticmethod
    def _events(survival: np.ndarray) -> np.ndarray:
        """Probability of an event in each cycle given none before it, ``1 − S(t + Δ)/S(t)``:
        ``(n, n_cycles)``; 1 once the curve has reached 0."""
        before, after = survival[:, :-1], survival[:, 1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            events = np.where(before > 0, 1.0 - after / before, 1.0)
        return np.clip(events, 0.0, 1.0)

    @staticmethod
    def _matrix(states: list[str], rows: dict[str, dict[str, np.ndarray]], n: int) -> np.ndarray:
        """The matrix ``(n, 1 or n_cycles, k, k)`` of rows by origin and target (a state
        without a row stays where it is)."""
        index = {state: j for j, state in enumerate(states)}
        cycles = max(p.shape[1] for row in rows.values() for p in row.values())
        matrix = np.zeros((n, cycles, len(states), len(states)))
        for state in states:
            if state not in rows:
                matrix[:, :, index[state], index[state]] = 1.0
        for origin, row in rows.items():
            for target, probability in row.items():
                matrix[:, :, index[origin], index[target]] = probability
        return matrix

    def strategy(self, prepared: _Prepared, name: str, strategy: MarkovStrategy, keep_trace: bool = True
                 ) -> StrategyResult:
        where = f"populations.{prepared.name}.strategies.{name}"
        transition, cycle_matrix = self.transitions(prepared, strategy, where)
        states = prepared.spec.states
        initial = np.zeros((prepared.params.n_samples, len(states)))
        for state, share in initial_occupancy(strategy.initial or {states[0]: "rest"}, prepared.params.__getitem__
                                              ).items():
            initial[:, states.index(state)] = share[:, 0]
        trace = run_markov(transition, initial, state_names=states, cycle_matrix=cycle_matrix)
        valued = self._states(prepared, strategy)
        costs, life_years, qalys = value_trace(prepared.values, trace, valued, self.categories)
        return StrategyResult(prepared.name, name, strategy.label, trace, costs, life_years, qalys, tuple(states))

    def transitions(self, prepared: _Prepared, strategy: MarkovStrategy, where: str = "strategy"
                    ) -> tuple[np.ndarray, np.ndarray]:
        """A strategy's matrices ``(n, n_matrices, k, k)`` and the matrix of each cycle
        ``(n_cycles,)``, for :func:`markov.engine.run_markov`; where the periods end at
        different cycles in different samples, one matrix per sample and cycle."""
        params, n, n_cycles = prepared.params, prepared.params.n_samples, self.grid.n_cycles
        blocks, offsets, period = [], [], np.zeros((n, n_cycles), dtype=np.intp)
        for k, item in enumerate(strategy.periods):
            block = prepared.matrices[item.transitions]
            if item.relative_risk is not None:
                block = _with_relative_risk(block, params[item.relative_risk], prepared.spec.states,
                                            f"{where}.periods[{k}]")
            offsets.append(sum(b.shape[1] for b in blocks))
            blocks.append(block)
            if item.until is not None:  # later cycles belong to a later period
                period += ~self.grid.cycles_before(params.years(item.until))
        ends = [params.years(item.until) for item in strategy.periods[:-1]]
        for k in range(1, len(ends)):
            if (ends[k] <= ends[k - 1]).any():
                raise InputError(f"{where}.periods[{k}].until: ends before the period before it in sample "
                                 f"{int(np.argmax(ends[k] <= ends[k - 1]))}; periods must end in order")
        varies = np.array([b.shape[1] > 1 for b in blocks])
        index = np.asarray(offsets)[period] + np.where(varies[period], np.arange(n_cycles), 0)
        matrices = np.concatenate(blocks, axis=1)
        if (index == index[:1]).all():
            return matrices, np.ascontiguousarray(index[0])
        return np.take_along_axis(matrices, index[:, :, None, None], axis=1), np.arange(n_cycles)

    def _states(self, prepared: _Prepared, strategy: MarkovStrategy) -> list[State]:
        """The states as valued: each with the treatments given in it."""
        params = prepared.params
        courses: dict[str, list[Course]] = {state: [] for state in prepared.spec.states}
        for item in strategy.treatments:
            until = None if item.until is None else params.years(item.until)
            for state in item.states:
                # moving between states treated alike is no stop of treatment: no oral wastage counted
                courses[state].append(Course(item.treatment, f"{item.treatment}_drugs", until, wastage=False))
        return [State(state, (state,), courses=tuple(courses[state]), alive=state != "dead")
                for state in prepared.spec.states]


def _with_relative_risk(matrix: np.ndarray, relative_risk: np.ndarray, states: list[str], where: str) -> np.ndarray:
    """Every transition out of a state times ``relative_risk`` (per sample); the
    remainder stays."""
    k = matrix.shape[-1]
    stay = np.eye(k, dtype=bool)
    moved = np.where(stay, 0.0, matrix) * relative_risk[:, None, None, None]
    remaining = 1.0 - moved.sum(axis=-1)
    if (remaining < -ROW_TOLERANCE).any():
        sample, _, state = np.unravel_index(int(np.argmin(remaining)), remaining.shape)
        raise InputError(f"{where}.relative_risk = {float(relative_risk[sample])!r}: makes the probability of leaving "
                         f"{states[state]!r} exceed 1 (by {float(-remaining.min()):.3g}, sample {sample}); a relative "
                         f"risk cannot move more than everyone")
    moved[..., stay] = np.clip(remaining, 0.0, 1.0)
    return moved
