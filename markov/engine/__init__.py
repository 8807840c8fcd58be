"""Cohort engines: state occupancy from transition matrices or survival curves.

Three engines share one output, :class:`CohortTrace`: state occupancy and entries
into each state at every time point of the grid, for every PSA sample at once.

* :func:`run_markov` — Markov cohort with transition matrices that may vary by cycle
  and by sample.
* :func:`run_partitioned_survival` — occupancy read off nested survival curves
  (PFS ≤ OS …), with crossings clipped and counted.
* :func:`run_sequencing` — lines of treatment with the clock reset at entry to each
  line (semi-Markov), then post-progression care, then death; :func:`sequencing_sums`
  its states' weighted sums without the trace, for a PSA.

Conventions: time point ``t`` runs from 0 to ``n_cycles``; a per-cycle input has
``n_cycles`` entries, the one at index ``c`` applying to the cycle from time point
``c`` to ``c + 1``. Everything alive at ``t = 0`` counts as an entry at ``t = 0``,
so that one-off values on entry (a procedure at the start of a line) are counted.

Modules: :mod:`.traces` (the shared output), :mod:`.cohort` (Markov and partitioned
survival), :mod:`.sequencing` (clock-reset lines and their convolutions) and
:mod:`.kernels` (compiled steps that model builders and the decision analysis call on
inputs they built valid).
This package alone uses the compiled core, ``markov._engine``, built from ``ext/``.
"""
from __future__ import annotations

from pathlib import Path

try:
    from .. import _engine  # noqa: F401  (imported here first, so that a missing build says so once)
except ImportError as _missing:  # a checkout without a build, ahead of the installed package on the path
    _tree = Path(__file__).resolve().parent.parent.parent
    _where = (f"from the source tree {_tree} (the current directory or PYTHONPATH), where the compiled engine "
              "is not built" if (_tree / "ext" / "_engine.pyx").is_file() else "without its compiled engine")
    raise ImportError(f"markov is imported {_where}: run from another directory to use the installed package, or "
                      "build it here with `pip install -e .`") from _missing

from .cohort import run_markov, run_partitioned_survival
from .convolutions import (
    FFT_MIN_TIME_POINTS,
    Convolutions,
    clock_reset_occupancy,
    use_one_fft_thread,
)
from .kernels import (
    add_scaled_rows,
    best_strategy_counts,
    capped_level_totals,
    compiled_core_files,
    cycle_weighted_totals,
    death_probabilities,
    exit_rate_for_median,
    exponential_survival,
    floor_survival,
    general_population_survival,
    mean_regret,
)
from .sequencing import (
    SEQUENCING_CHUNK_SAMPLES,
    LineToCare,
    TreatmentLine,
    add_line,
    add_post_progression,
    add_starting_line,
    add_terminal_state,
    care_occupancy_by_recursion,
    run_sequencing,
    sequencing_sums,
    split_on_treatment,
    terminal_sums,
)
from .traces import (
    CohortTrace,
    CurveCrossingWarning,
    PartitionedSurvivalTrace,
    StateSums,
)

__all__ = [
    "FFT_MIN_TIME_POINTS", "SEQUENCING_CHUNK_SAMPLES", "CohortTrace", "Convolutions", "CurveCrossingWarning",
    "LineToCare", "PartitionedSurvivalTrace", "StateSums", "TreatmentLine", "add_line", "add_post_progression",
    "add_scaled_rows", "add_starting_line", "add_terminal_state", "best_strategy_counts", "capped_level_totals",
    "care_occupancy_by_recursion", "clock_reset_occupancy", "compiled_core_files", "cycle_weighted_totals",
    "death_probabilities", "exit_rate_for_median", "exponential_survival", "floor_survival",
    "general_population_survival", "mean_regret", "run_markov", "run_partitioned_survival", "run_sequencing",
    "sequencing_sums", "split_on_treatment", "terminal_sums", "use_one_fft_thread",
]
