"""Costs, life-years and QALYs from cohort traces: accumulation with cycle correction and
discounting (:mod:`~markov.outcomes.accumulate`), and drug costing by dose, pack and body
weight (:mod:`~markov.outcomes.costing`)."""
from .accumulate import (
    CYCLE_CORRECTIONS,
    Accumulator,
    CycleCorrection,
    accumulate,
    cycle_weights,
    discount_factors,
    state_weights,
)

__all__ = ["CYCLE_CORRECTIONS", "Accumulator", "CycleCorrection", "accumulate", "cycle_weights", "discount_factors",
           "state_weights"]
