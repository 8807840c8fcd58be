"""``markov.load`` and :class:`Analysis`: one entry point to every analysis of a model."""
from __future__ import annotations

import tempfile
from collections.abc import Sequence
from contextlib import nullcontext
from functools import cached_property
from pathlib import Path

import pandas as pd

from .._validate import InputError, check_count
from ..decision import dsa as deterministic
from ..decision import gsa as global_sensitivity
from ..inputs import ModelInputs, load_analysis
from ..models import Model, build_model
from ..models.sequence_search import MEMORY_LIMIT_BYTES, SequenceSearch, build_search, run_search
from ..plots import DEFAULT_FIGURE_FORMATS
from ..probabilistic.batch import run_batch
from ..probabilistic.psa import DECISION_MEASURES, DEFAULT_CHUNK_SIZE, Progress, check_memory, read_psa, run_psa
from ..probabilistic.store import Plan
from ..results import ResultsDirectory, claim_output
from ..runs import inputs_table, run_report, thresholds_of
from .base_case import BaseCase
from .probabilistic import ProbabilisticResults
from .sensitivity import DeterministicResults, GlobalSensitivityResults
from .sequences import SequenceResults


def load(path: str | Path | None = None) -> Analysis:
    """An analysis: a YAML analysis file, or without one the shipped base case.

    Examples
    --------
    >>> import markov
    >>> analysis = markov.load()                     # the shipped HCC base case
    >>> analysis.set({"su_2021.utility_progressed": 0.70})  # doctest: +ELLIPSIS
    Analysis('hcc_base_case', ...)
    """
    return Analysis(load_analysis(path))


class Analysis:
    """An analysis of a model, ready to run: its inputs validated, its model built.

    Every method returns results that carry their own tables and figures. Tables are keyed
    by population and strategy key, with each strategy's label in a column.

    Parameters
    ----------
    inputs : ModelInputs
        From :func:`markov.inputs.load_analysis`; usually made by :func:`markov.load`.
    """

    def __init__(self, inputs: ModelInputs) -> None:
        self._inputs = inputs

    def __repr__(self) -> str:
        return (f"Analysis({self.name!r}, structure={self.inputs.structure!r}, "
                f"populations={self.populations!r})")

    # --- what it is -------------------------------------------------------------------
    @property
    def inputs(self) -> ModelInputs:
        """The validated settings, model files and evidence."""
        return self._inputs

    @cached_property
    def model(self) -> Model:
        """The model of the analysis's structure (:func:`markov.models.build_model`)."""
        return build_model(self._inputs)

    @property
    def name(self) -> str:
        return self._inputs.analysis.name

    @property
    def populations(self) -> list[str]:
        return list(self._inputs.populations)

    @property
    def currency(self) -> str:
        return self._inputs.perspective.currency

    @property
    def thresholds(self) -> dict[str, float]:
        """The perspective's willingness-to-pay thresholds per QALY, by name."""
        return thresholds_of(self._inputs)

    def strategies(self) -> pd.DataFrame:
        """Every strategy: ``population``, ``strategy``, ``label``, ``role`` (intervention,
        comparator or empty, the population's decision question)."""
        rows = []
        for population, spec in self._inputs.populations.items():
            roles = {spec.comparison.intervention: "intervention", spec.comparison.comparator: "comparator"}
            rows += [{"population": population, "strategy": key, "label": strategy.label, "role": roles.get(key, "")}
                     for key, strategy in spec.strategies.items()]
        return pd.DataFrame(rows)

    def inputs_table(self) -> pd.DataFrame:
        """Every input: value, unit, source and place in it, status, distribution, where used."""
        return inputs_table(self._inputs)

    @property
    def scenarios(self) -> dict[str, str]:
        """The analysis's scenarios, name -> label."""
        return {name: scenario.label for name, scenario in (self._inputs.analysis.scenarios or {}).items()}

    # --- changing it --------------------------------------------------------------------
    def set(self, changes: dict) -> Analysis:
        """Change inputs or settings in memory, validated by the same rules as the files,
        and return the analysis (changed in place).

        A key with a dot is an evidence reference: a number replaces its value (its
        uncertainty re-centred on it, keeping its spread), a mapping replaces the fields it
        gives, e.g. ``{"value": 0.7, "distribution": {"type": "beta", "alpha": 70, "beta":
        30}}``. Any other key is an analysis setting (``horizon_years``, ``perspective`` …).
        Changes carry into every later base case, PSA, DSA, GSA and scenario.
        """
        self._inputs = self._inputs.with_changes(changes)
        self.__dict__.pop("model", None)
        return self

    def scenario(self, name: str) -> Analysis:
        """A new analysis: this one with scenario ``name`` applied."""
        return Analysis(self._inputs.scenario(name))

    # --- running it ---------------------------------------------------------------------
    def base_case(self) -> BaseCase:
        """The deterministic base case: costs, life-years, QALYs and the incremental analysis."""
        return BaseCase(self._inputs, self.model, self.model.evaluate(self._inputs.base_case()))

    def psa(self, n: int, seed: int | None = None, *, workers: int = 1, out: str | Path | None = None,
            chunk_size: int | None = None, progress: Progress | None = None) -> ProbabilisticResults:
        """A probabilistic sensitivity analysis of ``n`` draws.

        Draw ``i`` depends only on ``seed`` (default: the analysis's) and ``i``, whatever the
        workers or chunks. With ``out``, the draws go into the resumable store of that
        results directory (``markov psa`` reads and extends the same store); with
        ``workers`` > 1, into local worker processes. ``chunk_size``: draws per chunk (None:
        500 in memory; in a store, :func:`~markov.probabilistic.store.default_chunk_size`).
        """
        seed = self._inputs.analysis.seed if seed is None else seed
        n, workers = check_count("n", n, 1), check_count("workers", workers, 1)
        if out is None and workers == 1:
            in_memory = DEFAULT_CHUNK_SIZE if chunk_size is None else chunk_size
            return ProbabilisticResults(self._inputs, run_psa(self._inputs, n, seed, chunk_size=in_memory,
                                                              progress=progress))
        check_memory(self._inputs, n, measures=len(self.model.categories) + len(DECISION_MEASURES))
        plan = Plan(n, seed, chunk_size)
        with tempfile.TemporaryDirectory(prefix="markov-psa-") as scratch, \
                (nullcontext(scratch) if out is None else claim_output(out, self._inputs, plan)) as directory:
            store = Path(scratch) if out is None else ResultsDirectory(directory).store
            run_batch(self._inputs, n, seed, store, chunk_size=chunk_size, workers=workers, progress=progress)
            return ProbabilisticResults(self._inputs, read_psa(store, self._inputs))

    def dsa(self, wtp: float | None = None) -> DeterministicResults:
        """Deterministic sensitivity analysis: every input over its range, one at a time
        (in one vectorised model run), with tornados, two-way analyses, scenarios and
        threshold prices at ``wtp`` (default: the highest threshold)."""
        ranges = deterministic.input_ranges(self._inputs)
        if ranges.empty:
            raise InputError(f"the {self.name} analysis has no input with a range or distribution to vary")
        return DeterministicResults(self._inputs, ranges, deterministic.one_way(self._inputs, ranges), wtp)

    def gsa(self, method: str = "sobol", n: int = 1024, seed: int | None = None, *, wtp: float | None = None,
            group_by_source: bool = False, psa: ProbabilisticResults | None = None,
            progress: Progress | None = None) -> GlobalSensitivityResults:
        """Global sensitivity of each population's incremental NMB at ``wtp``: ``sobol``
        (``n`` base samples of Saltelli's design) or ``morris`` (``n`` trajectories), or
        ``delta`` and ``pawn`` on ``psa`` (or a PSA of ``n`` draws run here)."""
        seed = self._inputs.analysis.seed if seed is None else seed
        wtp = max(self.thresholds.values()) if wtp is None else float(wtp)
        groups = global_sensitivity.groups_by_source(self._inputs) if group_by_source else None
        if method in ("sobol", "morris"):
            run = global_sensitivity.sobol if method == "sobol" else global_sensitivity.morris
            table = run(self._inputs, n, seed=seed, wtp=wtp, groups=groups, progress=progress)
            size = f"N = {n:,}" if method == "sobol" else f"{n} trajectories"
        elif method in ("delta", "pawn"):
            draws = psa.psa if psa is not None else run_psa(self._inputs, n, seed, progress=progress)
            run = global_sensitivity.delta if method == "delta" else global_sensitivity.pawn
            table = pd.concat([run(draws, p, wtp, seed=seed).assign(population=p) for p in draws.populations],
                              ignore_index=True)
            size = f"{draws.n_samples:,} PSA samples"
        else:
            raise InputError(f"method is {method!r}: must be one of sobol, morris, delta, pawn")
        return GlobalSensitivityResults(self._inputs, method, table, wtp, size)

    def sequence_search(self) -> SequenceSearch:
        """Every sequence the analysis's ``sequences:`` rules allow, as strategies beside
        its population's own, checked but not run: ``n_sequences``, ``labels``,
        ``memory_bytes(n)`` (docs/sequences.md)."""
        return build_search(self._inputs)

    def sequences(self, n: int = 1000, seed: int | None = None, *, progress: Progress | None = None,
                  memory_limit: int = MEMORY_LIMIT_BYTES, search: SequenceSearch | None = None) -> SequenceResults:
        """Evaluate and rank every sequence of the analysis's ``sequences:`` rules, with
        its population's own strategies (usual care), on the base case and ``n`` PSA
        draws of ``seed`` (default: the analysis's), the same draws for all. Refused,
        naming the count and the memory, above ``memory_limit`` bytes."""
        seed = self._inputs.analysis.seed if seed is None else seed
        search = build_search(self._inputs) if search is None else search
        return SequenceResults(self._inputs, run_search(search, check_count("n", n, 0), seed, progress=progress,
                                                        memory_limit=memory_limit))

    def report(self, out: str | Path, *, psa: int = 1000, seed: int | None = None, dsa: bool = True,
               workers: int = 1, progress: Progress | None = None,
               formats: str | Sequence[str] = DEFAULT_FIGURE_FORMATS) -> list[Path]:
        """Run the base case, a PSA of ``psa`` draws and (unless ``dsa`` is false) the DSA
        into the results directory ``out``, then write ``report.xlsx`` and ``report.html``
        there; returns every file written. Figures are written in ``formats`` (PNG and SVG
        unless asked for others, e.g. ``"png,svg,pdf"``). The directory is resumable and
        refuses another analysis's results, as with ``markov report``."""
        return run_report(self._inputs, out, psa_samples=psa, seed=seed, dsa=dsa, workers=workers,
                          progress=progress, formats=formats)[1]
