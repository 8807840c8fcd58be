"""Running an analysis end to end and writing its tables and figures into a results
directory (:mod:`markov.results` names every file): the base case (:mod:`.base_case`),
the PSA (:mod:`.probabilistic`), the deterministic (:mod:`.deterministic`) and global
(:mod:`.global_sensitivity`) sensitivity analyses, and the tables they share
(:mod:`.tables`). ``docs/uncertainty.md`` describes the methods."""
from .base_case import AnalysisOutputs, run_analysis, run_report
from .deterministic import run_dsa
from .figures import CE_PLANE_MAX_POINTS
from .global_sensitivity import GSA_METHODS, run_gsa
from .probabilistic import run_probabilistic, run_stored_psa, write_psa
from .tables import (
    default_wtp,
    icer_summaries,
    incremental_table,
    inputs_markdown,
    inputs_table,
    psa_summary,
    thresholds_labels,
    thresholds_of,
    wtp_grid,
)

__all__ = [
    "CE_PLANE_MAX_POINTS",
    "GSA_METHODS",
    "AnalysisOutputs",
    "default_wtp",
    "icer_summaries",
    "incremental_table",
    "inputs_markdown",
    "inputs_table",
    "psa_summary",
    "run_analysis",
    "run_dsa",
    "run_gsa",
    "run_probabilistic",
    "run_report",
    "run_stored_psa",
    "thresholds_labels",
    "thresholds_of",
    "write_psa",
    "wtp_grid",
]
