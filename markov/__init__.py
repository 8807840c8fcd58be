"""Treatment-sequencing cost-effectiveness modelling for advanced hepatocellular carcinoma.

Start with ``markov.load()`` (the shipped base case, or an analysis file), which gives an
:class:`~markov.api.Analysis`::

    import markov
    analysis = markov.load()
    analysis.base_case().table
    analysis.psa(1000, seed=1).ceac()

The package flows one way: evidence and model files (:mod:`markov.inputs`) → parameter
sets → survival curves (:mod:`markov.survival`) → state occupancy (:mod:`markov.engine`)
→ costs and QALYs (:mod:`markov.outcomes`, :mod:`markov.models`) → probabilistic and
decision analysis (:mod:`markov.probabilistic`, :mod:`markov.decision`) → tables, figures
and reports. The engine's functions are available here too.
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

_API = ("Analysis", "load")


def __getattr__(name: str):
    # the API imports every layer (plots, reports): loaded when first asked for, so that
    # ``import markov`` for the engine alone stays light
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'markov' has no attribute {name!r}")


__all__ = [
    "Analysis",
    "CohortTrace",
    "CurveCrossingWarning",
    "InputError",
    "MONTH_YEARS",
    "PartitionedSurvivalTrace",
    "TimeGrid",
    "TreatmentLine",
    "WEEK_YEARS",
    "__version__",
    "accumulate",
    "cycle_weights",
    "discount_factors",
    "load",
    "run_markov",
    "run_partitioned_survival",
    "run_sequencing",
]
