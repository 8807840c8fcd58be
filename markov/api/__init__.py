"""The Python API: ``markov.load()`` gives an :class:`Analysis`, whose methods run the base
case, PSA, DSA, GSA and reports and return results that carry their tables and figures."""
from .analysis import Analysis, load
from .base_case import BaseCase
from .probabilistic import ProbabilisticResults
from .sensitivity import DeterministicResults, GlobalSensitivityResults

__all__ = ["Analysis", "BaseCase", "DeterministicResults", "GlobalSensitivityResults", "ProbabilisticResults", "load"]
