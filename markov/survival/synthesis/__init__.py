"""Evidence synthesis of hazard ratios: Cox fits of trials' patient-level data
(:mod:`~markov.survival.synthesis.cox`, with the test of proportional hazards), each
trial's contrasts (:mod:`~markov.survival.synthesis.contrasts`), and the network
meta-analysis that anchors every treatment on one reference
(:mod:`~markov.survival.synthesis.network`, estimators in :mod:`~markov.survival.synthesis.gls`)."""
from .contrasts import TrialContrasts
from .cox import TIME_TRANSFORMS, CoxResult, ProportionalHazardsTest, fit_arms, fit_cox
from .gls import TAU2_METHODS
from .network import MODELS, Heterogeneity, Inconsistency, NetworkEstimates, NetworkMetaAnalysis, fit_network

__all__ = [
    "MODELS",
    "TAU2_METHODS",
    "TIME_TRANSFORMS",
    "CoxResult",
    "Heterogeneity",
    "Inconsistency",
    "NetworkEstimates",
    "NetworkMetaAnalysis",
    "ProportionalHazardsTest",
    "TrialContrasts",
    "fit_arms",
    "fit_cox",
    "fit_network",
]
