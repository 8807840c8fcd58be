"""Survival curves in flexsurv's parametrisations, vectorised over PSA samples.

Every curve holds ``n_samples`` parameter sets, states its time unit and gives
survival, hazard, cumulative hazard, density, quantiles and restricted means as arrays
``(n_samples, n_times)``; :meth:`SurvivalCurve.survival_on_grid` puts it on the
model's cycle grid for the engine.

- families: :mod:`~markov.survival.parametric` (flexsurv's exp … gengamma),
  :mod:`~markov.survival.spline` (Royston–Parmar), :mod:`~markov.survival.piecewise`,
  :mod:`~markov.survival.composite` (Kaplan–Meier + tail, mixture cure);
- adjustments: :mod:`~markov.survival.adjust` (HR, AF, waning, piecewise-constant
  HR, general-population floor, PFS ≤ OS) and :mod:`~markov.survival.general_population`
  (life tables);
- evidence: :mod:`~markov.survival.fitting.likelihood` (maximum likelihood, AIC/BIC),
  :mod:`~markov.survival.fitting.comparison` (the TSD 14 candidates compared),
  :mod:`~markov.survival.nonparametric` (Kaplan–Meier, Nelson–Aalen),
  :mod:`~markov.survival.fitting.reconstruct` (Guyot et al. 2012),
  :mod:`~markov.survival.calibrate` (through medians and landmarks).
"""
from ._base import TIME_UNIT_YEARS, SurvivalCurve, convert_time
from .adjust import (
    AcceleratedFailureTime,
    GeneralPopulationFloor,
    PiecewiseHazardRatio,
    ProportionalHazards,
    WaningHazardRatio,
    constrain_pfs_to_os,
    floor_at_general_population,
)
from .calibrate import calibrate
from .composite import KaplanMeierWithTail, Mixture, MixtureCure
from .fitting.comparison import Candidate, ModelComparison, candidate_models, compare_models, model_label
from .fitting.likelihood import (
    CurveModel,
    FitResult,
    MixtureCureModel,
    ParametricModel,
    PatientData,
    PiecewiseExponentialModel,
    SplineModel,
    compare_fits,
    fit,
    fit_families,
    fit_tail,
)
from .general_population import (
    GeneralPopulationSurvival,
    LifeTable,
    available_life_tables,
)
from .nonparametric import KaplanMeier, nelson_aalen, smoothed_hazard
from .parametric import (
    FAMILIES,
    Exponential,
    Gamma,
    GeneralizedGamma,
    Gompertz,
    LogLogistic,
    LogNormal,
    ParametricSurvival,
    Weibull,
    WeibullPH,
)
from .piecewise import PiecewiseExponential
from .fitting.reconstruct import clean_digitised_curve, reconstruct_patient_data
from .spline import RoystonParmar, default_knots

__all__ = [
    "AcceleratedFailureTime",
    "Candidate",
    "CurveModel",
    "Exponential",
    "FAMILIES",
    "FitResult",
    "Gamma",
    "GeneralPopulationFloor",
    "GeneralPopulationSurvival",
    "GeneralizedGamma",
    "Gompertz",
    "KaplanMeier",
    "KaplanMeierWithTail",
    "LifeTable",
    "LogLogistic",
    "LogNormal",
    "Mixture",
    "MixtureCure",
    "MixtureCureModel",
    "ModelComparison",
    "ParametricModel",
    "ParametricSurvival",
    "PatientData",
    "PiecewiseExponential",
    "PiecewiseExponentialModel",
    "PiecewiseHazardRatio",
    "ProportionalHazards",
    "RoystonParmar",
    "SplineModel",
    "SurvivalCurve",
    "TIME_UNIT_YEARS",
    "WaningHazardRatio",
    "Weibull",
    "WeibullPH",
    "available_life_tables",
    "calibrate",
    "candidate_models",
    "clean_digitised_curve",
    "compare_fits",
    "compare_models",
    "constrain_pfs_to_os",
    "convert_time",
    "default_knots",
    "fit",
    "fit_families",
    "fit_tail",
    "floor_at_general_population",
    "model_label",
    "nelson_aalen",
    "reconstruct_patient_data",
    "smoothed_hazard",
]
