"""Model inputs: the evidence library, the schemas of the model files, and loading.

``load_analysis()`` returns :class:`ModelInputs` — the validated settings, treatments,
populations, perspective and utilities with every evidence value they use — from which
:meth:`ModelInputs.base_case` and :meth:`ModelInputs.sample` give parameter sets.
"""
from .evidence import STATUS_MEANING, Evidence, EvidenceLibrary, EvidenceValue, distribution_of
from .load import ModelInputs, ParameterSet, load_analysis

__all__ = [
    "STATUS_MEANING",
    "Evidence",
    "EvidenceLibrary",
    "EvidenceValue",
    "ModelInputs",
    "ParameterSet",
    "distribution_of",
    "load_analysis",
]
