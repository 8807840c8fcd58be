"""``markov gsa``: global sensitivity indices (Sobol, Morris, delta or PAWN) of each
population's incremental NMB, with their figures, under a results directory."""
from __future__ import annotations

from pathlib import Path

from .._validate import InputError
from ..decision import gsa
from ..decision.gsa import groups_by_source
from ..inputs.load import ModelInputs
from ..plots import plot_moment_independent, plot_morris, plot_sensitivity_indices
from ..probabilistic.psa import Progress, PSAResults, run_psa
from ..results import ResultsDirectory, claim_output, record_finished, write_table
from .figures import save
from .tables import default_wtp

GSA_METHODS = ("sobol", "morris", "delta", "pawn")


def run_gsa(inputs: ModelInputs, out: str | Path, *, method: str = "sobol", n: int = 1024, seed: int = 1,
            wtp: float | None = None, group_by_source: bool = False, psa: PSAResults | None = None,
            progress: Progress | None = None) -> list[Path]:
    """Global sensitivity indices of each population's incremental NMB at ``wtp``.

    ``sobol``: ``n`` base samples; ``morris``: ``n`` trajectories; ``delta`` and
    ``pawn``: on ``psa`` (or a PSA of ``n`` samples run here)."""
    if method not in GSA_METHODS:
        raise InputError(f"method is {method!r}: must be one of {', '.join(GSA_METHODS)}")
    if method in ("delta", "pawn") and psa is None and n < gsa.MIN_PSA_SAMPLES:
        raise InputError(f"--samples is {n}: {method} runs on a PSA of at least {gsa.MIN_PSA_SAMPLES} samples")
    directory = ResultsDirectory(claim_output(out, inputs))
    details = {"n": n, "seed": seed, "wtp": wtp, "group_by_source": group_by_source}
    wtp = default_wtp(inputs) if wtp is None else float(wtp)
    currency = inputs.perspective.currency
    outcome = f"incremental NMB at {currency} {wtp:,.0f}/QALY"
    groups = groups_by_source(inputs) if group_by_source else None
    files: list[Path] = []
    if method in ("sobol", "morris"):
        run = gsa.sobol if method == "sobol" else gsa.morris
        table = run(inputs, n, seed=seed, wtp=wtp, groups=groups, progress=progress)
        files.append(write_table(table, directory.table(method)))
        for population, rows in table.groupby("population", sort=False):
            spec = inputs.populations[population]
            versus = f"{spec.strategies[spec.comparison.intervention].label} vs " \
                     f"{spec.strategies[spec.comparison.comparator].label}"
            shown = rows.assign(parameter=rows["label"])
            if method == "sobol":
                figure = plot_sensitivity_indices(shown, title=f"Sobol indices of the {outcome}, {versus} "
                                                               f"(N = {n:,}): {spec.label}")
            else:
                figure = plot_morris(shown, outcome_label=f"incremental NMB, {currency}", n_labels=6,
                                     title=f"Morris screening of the {outcome}, {versus} ({n} trajectories): "
                                           f"{spec.label}")
            files += save(figure, directory.figure(method, population))
        record_finished(directory.path, f"gsa {method}", **details)
        return files
    psa = psa if psa is not None else run_psa(inputs, n, seed, progress=progress)
    for population in psa.populations:
        spec = inputs.populations[population]
        if method == "delta":
            table = gsa.delta(psa, population, wtp, seed=seed)
            shown = table.assign(parameter=table["label"], value=table["delta"], conf=table["delta_conf"])
        else:
            table = gsa.pawn(psa, population, wtp, seed=seed)
            shown = table.assign(parameter=table["label"], value=table["median"])
        files.append(write_table(table, directory.table(method, population)))
        figure = plot_moment_independent(shown, measure=method,
                                         title=f"{method.upper() if method == 'pawn' else 'Delta'} indices of the "
                                               f"{outcome} ({psa.n_samples:,} PSA samples): {spec.label}")
        files += save(figure, directory.figure(method, population))
    record_finished(directory.path, f"gsa {method}", **details)
    return files
