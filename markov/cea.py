"""Kept for code written against earlier versions: incremental analysis and
acceptability now live in :mod:`markov.decision.cea`."""
from .decision.cea import (  # noqa: F401
    acceptability_curve,
    acceptability_frontier,
    expected_loss_curve,
    format_icer_table,
    icer_summary,
    incremental_analysis,
    incremental_samples,
    net_benefit,
    optimal_strategy,
)
