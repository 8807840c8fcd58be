"""Kept for code written against earlier versions: incremental analysis and net benefit
now live in :mod:`markov.decision.cea`, acceptability and ICER summaries of PSA samples
in :mod:`markov.decision.acceptability`."""
from .decision.acceptability import (  # noqa: F401
    acceptability_curve,
    acceptability_frontier,
    expected_loss_curve,
    icer_summary,
    incremental_samples,
)
from .decision.cea import format_icer_table, incremental_analysis, net_benefit, optimal_strategy  # noqa: F401
