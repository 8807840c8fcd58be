"""``markov run``: the base case of an analysis (and its PSA when asked), under a results directory.

Per population: the results table (cost by category and state, LYs, QALYs), the
incremental analysis with net monetary benefit at each threshold, the calibration
figure and the state-occupancy figure; plus the calibration table and the table of
every input with its value, source and distribution; for curves fitted to patient-level
data, the comparison of candidate models with its figures (:mod:`.survival_fits`); where
strategies name patient-level data, the model's overall survival against it: its tables
and a figure per population; and the tables and forest plot of each network
meta-analysis the analysis's curves use (:mod:`.networks`).
"""
from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..inputs.checks import check_follow_up
from ..inputs.load import ModelInputs
from ..models import build_model, calibration_table, model_vs_data, results_table
from ..plots import DEFAULT_FIGURE_FORMATS
from ..probabilistic.batch import backend_for
from ..probabilistic.psa import Progress, PSAResults
from ..report import write_reports
from ..results import (
    CALIBRATION,
    INCREMENTAL,
    INPUTS,
    MODEL_VS_DATA,
    MODEL_VS_DATA_SUMMARY,
    OCCUPANCY,
    RESULTS,
    ResultsDirectory,
    claim_output,
    record_finished,
    write_table,
)
from . import figures
from .deterministic import run_dsa
from .networks import write_networks
from .probabilistic import check_stored_psa, run_stored_psa, write_psa
from .reference_case import with_prices, write_reference_case
from .survival_fits import write_survival_fits
from .tables import incremental_table, inputs_table, thresholds_of


@dataclass
class AnalysisOutputs:
    """Tables of one run (figures are written to disk only)."""

    name: str
    results: pd.DataFrame
    incremental: pd.DataFrame
    calibration: pd.DataFrame
    inputs: pd.DataFrame
    psa: PSAResults | None
    psa_summary: pd.DataFrame | None
    files: list[Path]


def run_analysis(inputs: ModelInputs, out: str | Path, *, psa_samples: int | None = None,
                 seed: int | None = None, progress: Progress | None = None, workers: int = 1,
                 scheduler=None, chunk_size: int | None = None,
                 evppi_samples: int | None = None, formats: str | Sequence[str] = DEFAULT_FIGURE_FORMATS,
                 phases: figures.Phases | None = None, figure_workers: int | None = None) -> AnalysisOutputs:
    """Base case (and PSA, with all its tables and figures) of an analysis, under ``out``.

    The PSA runs into the directory's results store (:func:`markov.probabilistic.batch.run_batch`:
    resumable, on ``workers`` local processes or a Dask ``scheduler``), its progress shown
    by ``progress`` (else by ``phases``, as every other phase's). Figures are written in
    ``formats`` (:data:`markov.plots.FIGURE_FORMATS`) by ``figure_workers`` processes
    (None: ``workers``; :class:`~markov.runs.figures.FigureWriter`)."""
    n = inputs.analysis.psa_samples if psa_samples is None else psa_samples
    seed = inputs.analysis.seed if seed is None else seed
    check_follow_up(inputs)  # the comparison with patient-level data needs it: refused before anything is written
    plan = check_stored_psa(inputs, n, seed, chunk_size, evppi_samples) if n else None
    with claim_output(out, inputs, plan) as path:
        backend = backend_for(workers, scheduler) if n else None  # connect before the base case: fail early
        figure_workers = figure_workers or workers
        writer = figures.FigureWriter(formats, phases, figure_workers)
        started = phases("Base case", "populations") if phases else None
        if started:
            started(0, len(inputs.populations))
        try:
            files, results, incremental, calibration, table_of_inputs = _base_case(inputs, path, writer, started)
        except BaseException:
            if backend is not None:
                backend.close()
            raise
        psa = summary = None
        if n:
            psa = run_stored_psa(inputs, n, seed, path, progress=progress or (phases and phases("PSA", "draws")),
                                 backend=backend, chunk_size=chunk_size, evppi_samples=evppi_samples)
            psa_files, summary = write_psa(psa, inputs, path, formats=formats, phases=phases, workers=figure_workers)
            files += psa_files
        record_finished(path, "run", psa_samples=n or None, seed=seed if n else None)
    return AnalysisOutputs(inputs.analysis.name, results, incremental, calibration, table_of_inputs, psa, summary,
                           files)


def run_report(inputs: ModelInputs, out: str | Path, *, psa_samples: int = 1000, seed: int | None = None,
               dsa: bool = True, progress: Progress | None = None, workers: int = 1, scheduler=None,
               chunk_size: int | None = None, evppi_samples: int | None = None,
               formats: str | Sequence[str] = DEFAULT_FIGURE_FORMATS, phases: figures.Phases | None = None,
               figure_workers: int | None = None) -> tuple[AnalysisOutputs, list[Path]]:
    """``markov report``: the base case and a PSA of ``psa_samples`` draws (:func:`run_analysis`),
    the deterministic sensitivity analysis (unless ``dsa`` is false) into ``out/dsa``, then
    ``report.xlsx`` and ``report.html``; figures in ``formats`` (by ``figure_workers``
    processes where :func:`run_analysis` draws them). ``out`` and ``out/dsa``
    are claimed before anything is written and held throughout, so no other command
    writes there between the parts. Returns the run's outputs and every file written."""
    seed = inputs.analysis.seed if seed is None else seed
    plan = check_stored_psa(inputs, psa_samples, seed, chunk_size, evppi_samples) if psa_samples else None
    directory = ResultsDirectory(out)
    with claim_output(directory.path, inputs, plan), (claim_output(directory.dsa.path, inputs) if dsa
                                                       else nullcontext()):
        outputs = run_analysis(inputs, directory.path, psa_samples=psa_samples, seed=seed, progress=progress,
                               workers=workers, scheduler=scheduler, chunk_size=chunk_size,
                               evppi_samples=evppi_samples, formats=formats, phases=phases,
                               figure_workers=figure_workers)
        files = list(outputs.files)
        if dsa:
            files += run_dsa(inputs, directory.dsa.path, formats=formats, phases=phases)
        files += write_reports(directory.path)
    return outputs, files


def _base_case(inputs: ModelInputs, out: Path, writer: figures.FigureWriter, progress: Progress | None):
    """The base case's tables and figures under ``out``; ``progress`` when its evaluation is done."""
    directory = ResultsDirectory(out)
    model = build_model(inputs)
    base = model.evaluate(inputs.base_case())
    results = with_prices(inputs, results_table(base))
    thresholds = thresholds_of(inputs)
    incremental = with_prices(inputs, incremental_table(results, thresholds))
    calibration = calibration_table(model, base)
    table_of_inputs = inputs_table(inputs)
    if progress:
        progress(len(inputs.populations), len(inputs.populations))

    files = [write_table(table_of_inputs, directory.table(INPUTS)),
             write_table(calibration, directory.table(CALIBRATION)), *write_networks(inputs, out, writer)]
    for population, rows in results.groupby("population", sort=False):
        files.append(write_table(rows, directory.table(RESULTS, population)))
        files.append(write_table(incremental[incremental["population"] == population],
                                 directory.table(INCREMENTAL, population)))
        writer.add(directory.figure(CALIBRATION, population), figures.calibration_figure, model, base, calibration,
                   population)
        writer.add(directory.figure(OCCUPANCY, population), figures.occupancy_figure, model, base, population)
    comparison = model_vs_data(model, base)
    if len(comparison.summary):
        files += [write_table(comparison.table, directory.table(MODEL_VS_DATA)),
                  write_table(comparison.summary, directory.table(MODEL_VS_DATA_SUMMARY))]
        for population in comparison.summary["population"].unique():
            writer.add(directory.figure(MODEL_VS_DATA, population), figures.model_vs_data_figure, model, base,
                       comparison, calibration, population)
    files += write_survival_fits(inputs, out, writer)
    files += write_reference_case(inputs, out, base, results)
    files += writer.write()
    return files, results, incremental, calibration, table_of_inputs
