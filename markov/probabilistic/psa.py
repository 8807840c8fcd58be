"""Probabilistic sensitivity analysis: seeded draws, model runs in chunks, per-sample results.

Draw ``i`` of a PSA seeded ``s`` is ``inputs.transform(uniform_rows(s, i, i + 1, k))``
(:func:`markov.uncertainty.uniform_rows`), and the model computes every sample on its
own, so a PSA split into chunks of any size, run in any order, gives exactly the same
numbers as one run in a single call. Chunks keep memory bounded: a chunk's traces are
reduced to totals before the next chunk starts.

:class:`PSAResults` holds the sampled inputs and the per-sample results, which the
decision analysis reads one population at a time (:mod:`markov.decision.probabilistic`).
"""
from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._validate import InputError, check_count
from ..engine.memory import reused_array_memory
from ..models import Model, StrategyResult, build_model
from ..inputs.load import ModelInputs
from .store import Chunk, ResultsStore, model_fingerprint
from ..uncertainty import uniform_rows

#: Draws per chunk of a PSA held in memory (:func:`run_psa`: how often it reports progress);
#: a stored one takes :func:`~markov.probabilistic.store.default_chunk_size`.
DEFAULT_CHUNK_SIZE = 500
#: Draws the model evaluates together (a chunk of more is evaluated block by block): few
#: enough that an array over the weekly 20-year grid (4 MB for 500 draws) stays near the
#: cache. The HCC base case ran 1,700 draws/s in blocks of 500, 1,440 of 1,000 and
#: 1,020 of 2,000.
EVALUATION_BLOCK_DRAWS = 500
#: Where a results directory keeps its PSA store (:mod:`markov.store`).
STORE_DIRECTORY = "psa_store"

Progress = Callable[[int, int], None]
#: Measures per strategy and draw that the decision analysis reads back from a store.
DECISION_MEASURES = ("cost", "life_years", "qalys")


@dataclass
class PSAResults:
    """Sampled inputs and per-sample results of a probabilistic analysis.

    Attributes
    ----------
    analysis : str
        Name of the analysis.
    seed : int
    parameters : DataFrame
        One row per sample (index ``sample``), one column per uncertain input (its
        evidence reference): the values drawn. A large PSA read with
        ``parameter_samples`` holds only its first samples' inputs (for the EVPPI).
    outcomes : DataFrame
        One row per sample (index ``sample``); columns ``(population, strategy,
        measure)`` with measures ``cost``, ``cost_<category>``, ``life_years`` and
        ``qalys`` (discounted), or the subset read (:func:`read_psa`).
    calibration_unreachable : DataFrame
        Per population and strategy, the samples (of these) whose OS median could not be
        reached by calibration.
    labels : dict
        ``(population, strategy)`` -> strategy label.
    comparisons : dict
        Population -> ``(intervention, comparator)``.
    currency : str
    input_labels : dict
        Uncertain input -> readable name with unit and source.
    """

    analysis: str
    seed: int
    parameters: pd.DataFrame
    outcomes: pd.DataFrame
    calibration_unreachable: pd.DataFrame
    labels: dict[tuple[str, str], str]
    comparisons: dict[str, tuple[str, str]]
    currency: str
    input_labels: dict[str, str]

    @property
    def n_samples(self) -> int:
        return len(self.outcomes)

    @property
    def populations(self) -> list[str]:
        return list(dict.fromkeys(self.outcomes.columns.get_level_values("population")))

    @property
    def measures(self) -> list[str]:
        return list(dict.fromkeys(self.outcomes.columns.get_level_values("measure")))

    def strategies(self, population: str) -> list[str]:
        """Strategy names of ``population``, in the order of the model files."""
        if population not in self.populations:
            raise InputError(f"population {population!r}: not in these results (populations: "
                             f"{', '.join(self.populations)})")
        return list(dict.fromkeys(s for p, s, _ in self.outcomes.columns if p == population))

    def wide(self, population: str, column: str = "cost") -> pd.DataFrame:
        """``column`` as a (sample × strategy) table for ``population``."""
        if column not in self.measures:
            raise InputError(f"column {column!r}: not a result here (known: {', '.join(self.measures)})")
        strategies = self.strategies(population)
        return self.outcomes[[(population, s, column) for s in strategies]].set_axis(
            pd.Index(strategies, name="strategy"), axis=1)

    def long_outcomes(self) -> pd.DataFrame:
        """The results as a long table: one row per population, strategy and sample."""
        frames = []
        for population in self.populations:
            for strategy in self.strategies(population):
                part = self.outcomes[population][strategy].reset_index()
                part.insert(0, "strategy", strategy)
                part.insert(0, "population", population)
                frames.append(part)
        return pd.concat(frames, ignore_index=True).rename_axis(None, axis=1)

    def costs_and_effects(self, population: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Costs and QALYs, each (n_samples, n_strategies), and the strategy names."""
        return (self.wide(population, "cost").to_numpy(), self.wide(population, "qalys").to_numpy(),
                self.strategies(population))

    def net_benefit(self, population: str, wtp: float) -> np.ndarray:
        """Net monetary benefit (n_samples, n_strategies) at ``wtp`` per QALY."""
        costs, effects, _ = self.costs_and_effects(population)
        return wtp * effects - costs

    def incremental_net_benefit(self, population: str, wtp: float) -> np.ndarray:
        """Per sample, the intervention's NMB minus the comparator's (the population's
        comparison) at ``wtp``."""
        intervention, comparator = self.comparisons[population]
        strategies = self.strategies(population)
        nmb = self.net_benefit(population, wtp)
        return nmb[:, strategies.index(intervention)] - nmb[:, strategies.index(comparator)]

    def strategy_labels(self, population: str) -> list[str]:
        return [self.labels[(population, s)] for s in self.strategies(population)]


def outcomes_table(results: list[StrategyResult], first_sample: int = 0) -> pd.DataFrame:
    """Per-sample results (index ``sample`` from ``first_sample``): columns
    ``(population, strategy, measure)``, measures ``cost``, ``cost_<category>``,
    ``life_years`` and ``qalys``."""
    keys, columns = [], []
    for result in results:
        key = (result.population, result.strategy)
        measures = {"cost": result.total_cost,
                    **{f"cost_{category}": values.sum(axis=1) for category, values in result.costs.items()},
                    "life_years": result.life_years.sum(axis=1), "qalys": result.qalys.sum(axis=1)}
        keys += [(*key, measure) for measure in measures]
        columns += measures.values()
    return _frame(np.column_stack(columns), tuple(keys), ("population", "strategy", "measure"), first_sample)


def _frame(values: np.ndarray, keys: tuple[tuple[str, ...], ...], names: tuple[str, ...], first_sample: int
           ) -> pd.DataFrame:
    """A frame of per-sample ``values`` with columns ``keys`` (levels ``names``), index ``sample``."""
    index = pd.RangeIndex(first_sample, first_sample + values.shape[0], name="sample")
    return pd.DataFrame(values, index=index, columns=_columns(keys, names), copy=False)


@functools.lru_cache(maxsize=64)
def _columns(keys: tuple[tuple[str, ...], ...], names: tuple[str, ...]) -> pd.MultiIndex:
    # the same for every block of a run: built once (an index cannot change, so frames share it)
    return pd.MultiIndex.from_tuples(keys, names=names)


def evaluate_chunk(inputs: ModelInputs, seed: int, start: int, stop: int, model: Model | None = None) -> Chunk:
    """Draws ``start`` to ``stop`` of the PSA seeded ``seed``: their input values,
    per-sample results and whether each sample's OS calibration could not be reached
    (evaluated :data:`EVALUATION_BLOCK_DRAWS` at a time)."""
    model = model or build_model(inputs)
    blocks = [_evaluate_block(inputs, seed, begin, min(begin + EVALUATION_BLOCK_DRAWS, stop), model)
              for begin in range(start, stop, EVALUATION_BLOCK_DRAWS)]
    if len(blocks) == 1:
        return blocks[0]
    return Chunk(start, stop, *(pd.concat([getattr(block, part) for block in blocks])
                                for part in ("parameters", "outcomes", "unreachable")))


def _evaluate_block(inputs: ModelInputs, seed: int, start: int, stop: int, model: Model) -> Chunk:
    params = inputs.transform(uniform_rows(seed, start, stop, len(inputs.uncertain)))
    index = pd.RangeIndex(start, stop, name="sample")
    drawn = pd.DataFrame({ref: params[ref] for ref in inputs.uncertain}, index=index)
    results = model.evaluate(params, keep_traces=False)
    # per sample, or one value (a structure without calibration) for every sample
    unreachable = _frame(np.column_stack([np.broadcast_to(False if r.calibration_unreachable is None
                                                          else r.calibration_unreachable, stop - start)
                                          for r in results]).astype(bool, copy=False),
                         tuple((r.population, r.strategy) for r in results), ("population", "strategy"), start)
    return Chunk(start, stop, drawn, outcomes_table(results, start), unreachable)


def run_psa(inputs: ModelInputs, n: int, seed: int, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
            progress: Progress | None = None) -> PSAResults:
    """Run ``n`` probabilistic samples of an analysis in this process, ``chunk_size``
    at a time, and keep every result in memory. For large runs, several processes or
    a cluster, and runs that survive interruption, use :func:`markov.batch.run_batch`.

    Parameters
    ----------
    inputs : ModelInputs
        The analysis (:func:`markov.params.load_analysis`).
    n : int
        Number of samples, at least 1.
    seed : int
        Seed of the draws (0 or more). The results do not depend on ``chunk_size``.
    chunk_size : int
        Samples evaluated together (bounds the model's working memory).
    progress : callable, optional
        Called as ``progress(done, n)`` after each chunk.
    """
    n, chunk_size = check_count("n", n, 1), check_count("chunk_size", chunk_size, 1)
    check_count("seed", seed, 0)
    model = build_model(inputs)
    check_memory(inputs, n, measures=len(model.categories) + len(DECISION_MEASURES))
    chunks = []
    with reused_array_memory():  # each chunk's arrays in the memory of the chunk before
        for start in range(0, n, chunk_size):
            chunks.append(evaluate_chunk(inputs, seed, start, min(start + chunk_size, n), model))
            if progress is not None:
                progress(chunks[-1].stop, n)
    return assemble(inputs, seed, chunks)


def check_memory(inputs: ModelInputs, n: int, *, measures: int = len(DECISION_MEASURES),
                 parameter_samples: int | None = None) -> None:
    """Refuse a PSA of ``n`` draws whose per-draw results would not fit in memory, before
    any work: ``measures`` numbers per strategy and draw (and whether its calibration
    was reached), and the inputs of the first ``parameter_samples`` draws (default: all),
    against half of this machine's memory (not checked where the system does not say).

    Raises
    ------
    InputError
        Naming ``n``, the memory it would need and the most draws that fit.
    """
    memory = _physical_memory()
    if memory is None:
        return
    strategies = sum(len(population.strategies) for population in inputs.populations.values())
    per_draw = strategies * (8 * measures + 1) + (8 * len(inputs.uncertain) if parameter_samples is None else 0)
    inputs_held = 0 if parameter_samples is None else 8 * len(inputs.uncertain) * min(n, parameter_samples)
    if n * per_draw + inputs_held > memory / 2:
        most = max(int((memory / 2 - inputs_held) // per_draw), 0)
        raise InputError(f"n is {n:,}: its per-draw results would take about {_size(n * per_draw + inputs_held)}, "
                         f"more than half of this machine's memory ({_size(memory)}); ask for at most {most:,} draws")


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _size(n_bytes: float) -> str:
    units = ("bytes", "kB", "MB", "GB", "TB", "PB", "EB", "ZB")
    power = min(int(np.log10(max(n_bytes, 1.0)) // 3), len(units) - 1)
    return f"{n_bytes / 1000 ** power:,.1f} {units[power]}"


def read_psa(directory, inputs: ModelInputs, *, measures: tuple[str, ...] | None = None,
             parameter_samples: int | None = None) -> PSAResults:
    """The PSA stored by ``markov psa`` (or ``markov run --psa``) under ``directory``
    (its results directory or the store itself).

    Parameters
    ----------
    directory : path
    inputs : ModelInputs
        The analysis it was run on; a store of other inputs is refused (one made by
        another version of the package is read: its results are what that version computed).
    measures : tuple of str, optional
        Only these measures (e.g. ``("cost", "life_years", "qalys")``) to save memory.
    parameter_samples : int, optional
        Hold the inputs of only the first this many samples (what the EVPPI uses).
    """
    directory = Path(directory)
    path = directory / STORE_DIRECTORY if (directory / STORE_DIRECTORY).is_dir() else directory
    store = ResultsStore.open(path)
    if store.manifest["inputs_fingerprint"] != model_fingerprint(inputs, code=False):
        raise InputError(f"{path}: holds the PSA of another model or inputs (analysis "
                         f"{store.manifest['analysis']!r}), not of the {inputs.analysis.name!r} analysis as it is now")
    order = [(p, s) for p, population in inputs.populations.items() for s in population.strategies]
    parameters, outcomes, unreachable = store.read(measures=measures, parameter_samples=parameter_samples,
                                                   columns_of=order)
    return _results(inputs, store.plan.seed, parameters, outcomes, unreachable)


def assemble(inputs: ModelInputs, seed: int, chunks: list[Chunk]) -> PSAResults:
    """One :class:`PSAResults` from chunks (in any order)."""
    chunks = sorted(chunks, key=lambda chunk: chunk.start)
    return _results(inputs, seed, pd.concat([c.parameters for c in chunks]),
                    pd.concat([c.outcomes for c in chunks]), pd.concat([c.unreachable for c in chunks]))


def _results(inputs: ModelInputs, seed: int, parameters: pd.DataFrame, outcomes: pd.DataFrame,
             unreachable: pd.DataFrame) -> PSAResults:
    """``unreachable``: per sample (rows) and strategy (columns), whether the OS
    calibration could not be reached; counted here over exactly these samples."""
    counts = pd.DataFrame([{"population": p, "strategy": s, "samples": int(unreachable[(p, s)].sum())}
                           for p, s in unreachable.columns])
    labels = {(p, s): strategy.label for p, population in inputs.populations.items()
              for s, strategy in population.strategies.items()}
    comparisons = {p: (population.comparison.intervention, population.comparison.comparator)
                   for p, population in inputs.populations.items()}
    return PSAResults(inputs.analysis.name, seed, parameters, outcomes, counts, labels, comparisons,
                      inputs.perspective.currency, {ref: inputs.label(ref) for ref in inputs.uncertain})
