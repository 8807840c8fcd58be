"""Model inputs: the evidence library, the schemas of the model files, and loading.

``load_analysis()`` returns :class:`ModelInputs` — the validated settings, treatments,
populations, perspective and utilities with every evidence value they use — from which
:meth:`ModelInputs.base_case` and :meth:`ModelInputs.sample` give parameter sets.
"""
from .evidence import STATUS_MEANING, Decrement, Evidence, EvidenceLibrary, EvidenceValue, JointDraw, distribution_of
from .load import load_analysis
from .parameters import ModelInputs, ParameterSet

__all__ = [
    "STATUS_MEANING",
    "Decrement",
    "Evidence",
    "EvidenceLibrary",
    "EvidenceValue",
    "JointDraw",
    "ModelInputs",
    "ParameterSet",
    "distribution_of",
    "load_analysis",
]
