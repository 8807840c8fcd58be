"""``markov gsa``: global sensitivity indices (Sobol, Morris, delta or PAWN) of each
population's incremental NMB, with their figures, under a results directory."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .._validate import InputError
from ..decision import gsa
from ..decision.gsa import groups_by_source
from ..inputs.load import ModelInputs
from ..plots import DEFAULT_FIGURE_FORMATS
from ..probabilistic.psa import Progress, PSAResults, run_psa
from ..results import ResultsDirectory, claim_output, record_finished, write_table
from . import figures
from .tables import default_wtp

GSA_METHODS = ("sobol", "morris", "delta", "pawn")


def run_gsa(inputs: ModelInputs, out: str | Path, *, method: str = "sobol", n: int = 1024, seed: int = 1,
            wtp: float | None = None, group_by_source: bool = False, psa: PSAResults | None = None,
            progress: Progress | None = None, formats: str | Sequence[str] = DEFAULT_FIGURE_FORMATS,
            phases: figures.Phases | None = None) -> list[Path]:
    """Global sensitivity indices of each population's incremental NMB at ``wtp``.

    ``sobol``: ``n`` base samples; ``morris``: ``n`` trajectories; ``delta`` and
    ``pawn``: on ``psa`` (or a PSA of ``n`` samples run here). The model runs' progress is
    shown by ``progress`` (else by ``phases``, as writing the figures, in ``formats``)."""
    if method not in GSA_METHODS:
        raise InputError(f"method is {method!r}: must be one of {', '.join(GSA_METHODS)}")
    if method in ("delta", "pawn") and psa is None and n < gsa.MIN_PSA_SAMPLES:
        raise InputError(f"--samples is {n}: {method} runs on a PSA of at least {gsa.MIN_PSA_SAMPLES} samples")
    with claim_output(out, inputs) as path:
        return _write_gsa(inputs, ResultsDirectory(path), method, n, seed, wtp, group_by_source, psa, progress,
                          formats, phases)


def _write_gsa(inputs: ModelInputs, directory: ResultsDirectory, method: str, n: int, seed: int, wtp: float | None,
               group_by_source: bool, psa: PSAResults | None, progress: Progress | None,
               formats: str | Sequence[str], phases: figures.Phases | None) -> list[Path]:
    details = {"n": n, "seed": seed, "wtp": wtp, "group_by_source": group_by_source}
    wtp = default_wtp(inputs) if wtp is None else float(wtp)
    groups = groups_by_source(inputs) if group_by_source else None
    files: list[Path] = []
    writer = figures.FigureWriter(formats, phases)
    progress = progress or (phases and phases(method, "model runs"))
    if method in ("sobol", "morris"):
        run = gsa.sobol if method == "sobol" else gsa.morris
        table = run(inputs, n, seed=seed, wtp=wtp, groups=groups, progress=progress)
        files.append(write_table(table, directory.table(method)))
        size = f"N = {n:,}" if method == "sobol" else f"{n} trajectories"
        for population, rows in table.groupby("population", sort=False):
            writer.add(directory.figure(method, population), figures.global_sensitivity_figure, inputs, population,
                       method, rows, wtp, size)
        files += writer.write()
        record_finished(directory.path, f"gsa {method}", **details)
        return files
    psa = psa if psa is not None else run_psa(inputs, n, seed, progress=progress)
    for population in psa.populations:
        table = (gsa.delta if method == "delta" else gsa.pawn)(psa, population, wtp, seed=seed)
        files.append(write_table(table, directory.table(method, population)))
        writer.add(directory.figure(method, population), figures.global_sensitivity_figure, inputs, population,
                   method, table, wtp, f"{psa.n_samples:,} PSA samples")
    files += writer.write()
    record_finished(directory.path, f"gsa {method}", **details)
    return files
