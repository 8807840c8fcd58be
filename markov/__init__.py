"""Treatment-sequencing cost-effectiveness modelling for advanced hepatocellular carcinoma.

The package flows one way: parameters → samples → survival curves → state occupancy
(:mod:`markov.engine`) → costs and QALYs (:mod:`markov.outcomes`) → decision analysis.
"""
from ._validate import InputError
from ._version import __version__
from .engine import (
    CohortTrace,
    CurveCrossingWarning,
    PartitionedSurvivalTrace,
    TreatmentLine,
    run_markov,
    run_partitioned_survival,
    run_sequencing,
)
from .grid import MONTH_YEARS, WEEK_YEARS, TimeGrid
from .outcomes import accumulate, cycle_weights, discount_factors


__all__ = [
    "CohortTrace",
    "CurveCrossingWarning",
    "InputError",
    "MONTH_YEARS",
    "PartitionedSurvivalTrace",
    "TimeGrid",
    "TreatmentLine",
    "WEEK_YEARS",
    "accumulate",
    "cycle_weights",
    "discount_factors",
    "run_markov",
    "run_partitioned_survival",
    "run_sequencing",
]
