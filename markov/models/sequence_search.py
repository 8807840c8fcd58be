"""Evaluating every treatment sequence of an analysis's rules in one run.

The rules (:mod:`markov.inputs.sequences`) give the sequences; each becomes a strategy of
the sequencing structure, beside the population's own strategies (today's usual care:
a first line with its usual follow-on mix), and all of them are evaluated by one
:class:`~markov.models.sequencing.SequencingModel` over the same parameter sets: the base
case, then PSA draws ``0 … n-1`` of ``seed`` (the draws of ``markov psa`` with that seed:
common random numbers across sequences). Draws are evaluated in chunks, each strategy's
trace dropped once its totals are known, so memory is bounded by one chunk's trace plus
three numbers per strategy and draw; time grows linearly with strategies and draws.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._validate import InputError
from ..grid import DAYS_PER_YEAR
from ..inputs import ModelInputs, ParameterSet
from ..inputs.checks import check_shares, check_structure
from ..inputs.sequences import Sequence, enumerate_sequences, labels_of, sequence_rules, sequence_strategy
from .sequencing import SequencingModel

#: Draws evaluated together (one chunk's traces in memory at a time).
CHUNK_SIZE = 500
#: Refuse a search whose estimated memory exceeds this many bytes unless told otherwise.
MEMORY_LIMIT_BYTES = 4 * 1024**3
#: Role of a strategy in a search: an enumerated sequence, or a strategy of the population (usual care).
SEQUENCE, USUAL_CARE = "sequence", "usual care"


@dataclass
class SequenceSearch:
    """What a search evaluates: its inputs (the population's strategies, then one per
    sequence), and for each strategy its role, label, agents and assumptions."""

    inputs: ModelInputs
    population: str
    keys: list[str]
    labels: list[str]
    roles: list[str]
    treatments: list[tuple[str, ...]]
    assumptions: list[tuple[str, ...]]
    agent_labels: dict[str, str]

    @property
    def n_sequences(self) -> int:
        return self.roles.count(SEQUENCE)

    def memory_bytes(self, n: int, chunk_size: int = CHUNK_SIZE) -> int:
        """Estimated peak memory of evaluating ``n`` draws: the totals kept (cost,
        life-years, QALYs per strategy and draw) and one chunk's working arrays
        (occupancy, entries and three work arrays of its largest strategy)."""
        n_times = SequencingModel(self.inputs).grid.n_cycles + 1
        max_lines = max((len(t) for t in self.treatments), default=1)
        states = 2 * max_lines + 4
        return int(8 * 3 * max(n, 1) * len(self.keys) + 8 * 5 * min(max(n, 1), chunk_size) * n_times * states)


@dataclass
class SequenceRun:
    """Totals of every strategy of a search: the base case (``(k,)`` arrays) and, with a
    PSA, its draws (``(n, k)``; None without)."""

    search: SequenceSearch
    base_cost: np.ndarray
    base_qalys: np.ndarray
    base_life_years: np.ndarray
    cost: np.ndarray | None
    qalys: np.ndarray | None
    life_years: np.ndarray | None
    seed: int | None
    seconds: float

    @property
    def n_samples(self) -> int:
        return 0 if self.cost is None else self.cost.shape[0]


def build_search(inputs: ModelInputs) -> SequenceSearch:
    """Every sequence of the analysis's rules as a strategy of its population, after that
    population's own strategies; checked like hand-written strategies (curves, treatments,
    utilities and costs of every state, shares)."""
    rules = sequence_rules(inputs)
    sequences: list[Sequence] = enumerate_sequences(rules)
    labels = labels_of(rules, inputs.treatments)
    population = inputs.populations[rules.population]
    own = dict(population.strategies)
    strategies = {**own, **{s.key: sequence_strategy(s, labels) for s in sequences}}
    taken = [s.label(labels) for s in sequences if s.label(labels) in {x.label for x in own.values()}]
    if taken:
        raise InputError(f"sequences: label {taken[0]!r} is also a strategy's of population {rules.population}; give "
                         f"the agents other labels (labels:)")
    searched = dataclasses.replace(inputs, populations={rules.population: population.model_copy(
        update={"strategies": strategies})})
    places = {"populations": f"{inputs.source}: sequences (each sequence as a strategy)",
              "perspectives": f"{inputs.source}: perspective"}
    check_structure(inputs.structure, inputs.treatments, searched.populations, inputs.perspective, inputs.utilities,
                    places, inputs.analysis.cycle_length_days / DAYS_PER_YEAR)
    check_shares(searched)
    return SequenceSearch(
        searched, rules.population, list(strategies), [s.label for s in strategies.values()],
        [USUAL_CARE] * len(own) + [SEQUENCE] * len(sequences),
        [tuple(o.treatment for line in s.lines for o in line.options) for s in own.values()]
        + [s.treatments for s in sequences],
        [()] * len(own) + [s.assumptions for s in sequences], labels)


def check_size(search: SequenceSearch, n: int, memory_limit: int = MEMORY_LIMIT_BYTES,
               chunk_size: int = CHUNK_SIZE) -> int:
    """The estimated memory of evaluating ``n`` draws; an error naming the count and the
    memory when above ``memory_limit`` bytes."""
    needed = search.memory_bytes(n, chunk_size)
    if needed > memory_limit:
        raise InputError(f"sequences: {search.n_sequences:,} sequences (+ {len(search.keys) - search.n_sequences} "
                         f"usual-care strategies) x {n:,} draws would need about {needed / 1024**3:.1f} GiB "
                         f"(limit {memory_limit / 1024**3:.1f} GiB); add rules, lower max_active_lines or the draws")
    return needed


def _totals(model: SequencingModel, params: ParameterSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    results = model.evaluate(params, keep_traces=False)
    return (np.stack([r.total_cost for r in results], axis=1), np.stack([r.qalys.sum(axis=1) for r in results], axis=1),
            np.stack([r.life_years.sum(axis=1) for r in results], axis=1))


def run_search(search: SequenceSearch, n: int, seed: int, *, chunk_size: int = CHUNK_SIZE,
               memory_limit: int = MEMORY_LIMIT_BYTES,
               progress: Callable[[int, int], None] | None = None) -> SequenceRun:
    """The base case and ``n`` PSA draws (0: none) of every strategy of ``search``."""
    if int(n) != n or n < 0:
        raise InputError(f"n is {n!r}: a number of draws, 0 or more")
    if int(chunk_size) != chunk_size or chunk_size < 1:
        raise InputError(f"chunk_size is {chunk_size!r}: a whole number of at least 1")
    check_size(search, n, memory_limit, chunk_size)
    started = time.perf_counter()
    model = SequencingModel(search.inputs)
    base = [values[0] for values in _totals(model, search.inputs.base_case())]
    drawn = None
    if n:
        drawn = [np.empty((n, len(search.keys))) for _ in range(3)]
        for start in range(0, n, chunk_size):
            stop = min(n, start + chunk_size)
            for target, values in zip(drawn, _totals(model, search.inputs.sample(stop - start, seed, start)),
                                      strict=True):
                target[start:stop] = values
            if progress is not None:
                progress(stop, n)
    return SequenceRun(search, *base, *(drawn or (None, None, None)), seed if n else None,
                       time.perf_counter() - started)
