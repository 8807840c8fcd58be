"""``markov psa``: a PSA into the results store of a results directory (resumable), then
every PSA table and figure: summary, ICER distributions, CE planes, CEAC + CEAF, EVPI,
EVPPI and convergence, per population (``docs/uncertainty.md``)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .._validate import InputError, check_count
from ..decision import probabilistic as decide
from ..decision import voi
from ..decision.gsa import groups_by_source
from ..inputs.load import ModelInputs
from ..plots import DEFAULT_FIGURE_FORMATS
from ..probabilistic.batch import backend_for, run_batch
from ..probabilistic.psa import DECISION_MEASURES, Progress, PSAResults, check_memory, read_psa
from ..probabilistic.store import Plan
from ..results import (
    CE_PLANE,
    CEAC,
    CEAF,
    CONVERGENCE,
    EVPI,
    EVPI_POPULATION,
    EVPPI,
    ICER_SUMMARY,
    PSA_SUMMARY,
    ResultsDirectory,
    claim_output,
    record_finished,
    write_table,
)
from . import figures
from .tables import default_wtp, icer_summaries, psa_summary, thresholds_of, wtp_grid


def run_probabilistic(inputs: ModelInputs, out: str | Path, n: int, seed: int, *, workers: int = 1, scheduler=None,
                      chunk_size: int | None = None, evppi_samples: int | None = None,
                      progress: Progress | None = None, phases: figures.Phases | None = None,
                      figure_workers: int | None = None, **write_options) -> tuple[list[Path], pd.DataFrame]:
    """``markov psa``: the PSA into the results store under ``out`` (resumable; its
    progress shown by ``progress``, else by ``phases``; on ``workers`` local processes or
    a Dask ``scheduler``), then every PSA table and figure under ``out`` (:func:`write_psa`,
    which takes ``write_options``), the figures drawn by ``figure_workers`` processes
    (None: ``workers``). Every value is checked before anything is written."""
    plan = check_stored_psa(inputs, n, seed, chunk_size, evppi_samples)
    check_population_evpi(inputs, write_options.get("annual_patients"), write_options.get("decision_years"))
    with claim_output(out, inputs, plan) as path:
        psa = run_stored_psa(inputs, n, seed, path, progress=progress or (phases and phases("PSA", "draws")),
                             backend=backend_for(workers, scheduler), chunk_size=chunk_size,
                             evppi_samples=evppi_samples)
        files, summary = write_psa(psa, inputs, path, phases=phases, workers=figure_workers or workers,
                                   **write_options)
        record_finished(path, "psa", psa_samples=n, seed=seed)
    return files, summary


def check_stored_psa(inputs: ModelInputs, n: int, seed: int, chunk_size: int | None, evppi_samples: int | None) -> Plan:
    """The plan of a PSA of ``n`` draws into a store, refused (:class:`InputError`) if its
    counts are not counts, or if what its decision analysis reads back would not fit in
    memory (:func:`markov.probabilistic.psa.check_memory`; ``evppi_samples`` None: as
    many as the EVPPI regressions use within their time budget)."""
    n = check_count("n", n, 1)
    evppi_samples = decide.evppi_sample_size(inputs, n) if evppi_samples is None else evppi_samples
    check_memory(inputs, n, parameter_samples=check_count("evppi_samples", evppi_samples, 0))
    return Plan(n, seed, chunk_size)


def check_population_evpi(inputs: ModelInputs, annual_patients: float | None, decision_years: float | None) -> None:
    """Refuse the population EVPI's values (:class:`InputError`) unless both or neither are given and valid."""
    if (annual_patients is None) != (decision_years is None):
        raise InputError("population EVPI needs both the annual number of patients and the years the decision "
                         "holds (--annual-patients and --decision-years)")
    if annual_patients is not None:
        voi.population_evpi(0.0, annual_patients, decision_years, _cost_discount_rate(inputs))


def _cost_discount_rate(inputs: ModelInputs) -> float:
    return inputs.evidence[inputs.perspective.discount_rate_costs].value.value


def run_stored_psa(inputs: ModelInputs, n: int, seed: int, out: str | Path, *, progress: Progress | None = None,
                   workers: int = 1, scheduler=None, backend=None, chunk_size: int | None = None,
                   evppi_samples: int | None = None) -> PSAResults:
    """Run (or resume) the PSA into the results store under ``out`` (on ``workers``, a
    ``scheduler`` or a ``backend`` from :func:`markov.probabilistic.batch.backend_for`)
    and read back what its decision analysis needs: cost, life-years and QALYs of every
    sample, and the inputs of the first ``evppi_samples`` samples (default: as many as
    the EVPPI regressions use within their time budget,
    :func:`markov.decision.probabilistic.evppi_sample_size`)."""
    if evppi_samples is None:
        evppi_samples = decide.evppi_sample_size(inputs, n)
    store = ResultsDirectory(out).store
    run_batch(inputs, n, seed, store, chunk_size=chunk_size, workers=workers, scheduler=scheduler, backend=backend,
              progress=progress)
    return read_psa(store, inputs, measures=DECISION_MEASURES, parameter_samples=evppi_samples)


def write_psa(psa: PSAResults, inputs: ModelInputs, out: str | Path, *, wtp_max: float | None = None,
              evppi: bool = True, annual_patients: float | None = None, decision_years: float | None = None,
              formats: str | Sequence[str] = DEFAULT_FIGURE_FORMATS, phases: figures.Phases | None = None,
              workers: int = 1) -> tuple[list[Path], pd.DataFrame]:
    """Tables and figures of a PSA (its per-sample results and inputs are in its store,
    :func:`run_stored_psa`): summary, ICER distributions, CE planes, CEAC + CEAF, EVPI,
    EVPPI (each input, and the inputs of each source together) and convergence, per population. With ``annual_patients``
    (patients facing the decision each year) and ``decision_years`` (how long the
    decision holds), also the population EVPI, discounted at the perspective's rate for
    costs. Figures are written in ``formats``, by up to ``workers`` processes
    (:class:`~markov.runs.figures.FigureWriter`), while the analysis goes on; ``phases``
    shows the progress of the EVPPI and of writing figures. Returns the files and the
    summary table."""
    check_population_evpi(inputs, annual_patients, decision_years)
    with claim_output(out, inputs) as path:
        return _write_psa(psa, inputs, ResultsDirectory(path), wtp_max, evppi, annual_patients, decision_years,
                          figures.FigureWriter(formats, phases, workers), phases)


def _write_psa(psa: PSAResults, inputs: ModelInputs, directory: ResultsDirectory, wtp_max: float | None, evppi: bool,
               annual_patients: float | None, decision_years: float | None, writer: figures.FigureWriter,
               phases: figures.Phases | None) -> tuple[list[Path], pd.DataFrame]:
    thresholds = thresholds_of(inputs)
    wtp = default_wtp(inputs)
    summary = psa_summary(psa, thresholds)
    unreachable = psa.calibration_unreachable.rename(columns={"samples": "os_calibration_unreachable_samples"})
    summary = summary.merge(unreachable, on=["population", "strategy"], how="left")
    files = [write_table(summary, directory.table(PSA_SUMMARY))]
    grid = wtp_grid(psa, thresholds, wtp_max)
    groups = {source: members for source, members in groups_by_source(inputs).items() if len(members) > 1}
    # fewer samples: the regressions cannot be fitted; no uncertain input: nothing to learn
    evppi = evppi and len(psa.parameters) >= voi.MIN_EVPPI_SAMPLES and len(psa.parameters.columns) > 0
    regressions = phases(f"EVPPI ({len(psa.parameters.columns)} inputs, {len(groups)} groups)", "populations") \
        if evppi and phases else None
    for done, population in enumerate(psa.populations):
        files.append(write_table(icer_summaries(psa, population, thresholds),
                                 directory.table(ICER_SUMMARY, population)))
        writer.add(directory.figure(CE_PLANE, population), figures.ce_plane_figure, psa, inputs, population)

        ceac = decide.acceptability(psa, population, grid)
        frontier = decide.frontier(psa, population, grid, ceac)
        files.append(write_table(figures.acceptability_wide(ceac).reset_index(), directory.table(CEAC, population)))
        files.append(write_table(figures.frontier_by_label(frontier), directory.table(CEAF, population)))
        writer.add(directory.figure(CEAC, population), figures.acceptability_figure, psa, inputs, population, ceac,
                   frontier)

        evpi = decide.evpi(psa, population, grid).drop(columns="population")
        if annual_patients is not None:
            evpi["population_evpi"] = voi.population_evpi(evpi["evpi"].to_numpy(), annual_patients, decision_years,
                                                          _cost_discount_rate(inputs))
            writer.add(directory.figure(EVPI_POPULATION, population), figures.evpi_figure, inputs, population, evpi,
                       annual_patients=annual_patients, decision_years=decision_years)
        files.append(write_table(evpi, directory.table(EVPI, population)))
        writer.add(directory.figure(EVPI, population), figures.evpi_figure, inputs, population, evpi)

        if evppi:
            if regressions:
                regressions(done, len(psa.populations))
            table = decide.evppi(psa, population, wtp, groups)
            files.append(write_table(table, directory.table(EVPPI, population)))
            writer.add(directory.figure(EVPPI, population), figures.evppi_figure, inputs, population, table,
                       figures.evpi_at(psa, population, wtp))
            if regressions:
                regressions(done + 1, len(psa.populations))

        convergence = decide.convergence(psa, population, wtp)
        files.append(write_table(figures.convergence_by_label(convergence), directory.table(CONVERGENCE, population)))
        writer.add(directory.figure(CONVERGENCE, population), figures.convergence_figure, psa, inputs, population,
                   convergence, wtp)
    return files + writer.write(), summary
