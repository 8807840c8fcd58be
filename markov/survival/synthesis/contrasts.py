"""What one trial brings to a network meta-analysis: the log hazard ratio of each arm
against the trial's control arm, with their covariance.

A two-arm trial brings one contrast and its variance. A multi-arm trial brings k − 1
contrasts against the same control, correlated because they share that arm: a Cox model of
the trial's patients (:func:`~markov.survival.synthesis.cox.fit_arms`) gives their
covariance directly; from reported hazard ratios, each contrast's variance comes from its
confidence interval and their covariance is the variance of the control arm's log hazard,
approximately 1/(deaths in the control arm) (the variance of a log hazard ratio being
about 1/d₁ + 1/d₂).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..._validate import InputError
from ...uncertainty import Z_95
from .cox import CoxResult, ProportionalHazardsTest


@dataclass(frozen=True)
class TrialContrasts:
    """The contrasts of one trial: ``log_hazard_ratios[i]`` is log HR(``treatments[i]`` vs
    ``control``), with ``covariance`` ``(k − 1, k − 1)``.

    Attributes
    ----------
    name : str
        The trial.
    control : str
        The treatment of the arm every contrast is against.
    treatments : tuple of str
        The other arms' treatments, distinct and not the control.
    log_hazard_ratios : ndarray (k − 1,)
    covariance : ndarray (k − 1, k − 1)
        Symmetric positive definite.
    source : str
        How the contrasts were obtained, for tables.
    proportional_hazards : ProportionalHazardsTest, optional
        The test of proportional hazards of the Cox fit they come from.
    """

    name: str
    control: str
    treatments: tuple[str, ...]
    log_hazard_ratios: np.ndarray
    covariance: np.ndarray
    source: str = ""
    proportional_hazards: ProportionalHazardsTest | None = None

    def __post_init__(self) -> None:
        treatments = tuple(self.treatments)
        values = np.atleast_1d(np.asarray(self.log_hazard_ratios, dtype=float))
        covariance = np.atleast_2d(np.asarray(self.covariance, dtype=float))
        where = f"trial {self.name!r}"
        if not treatments:
            raise InputError(f"{where}: no arm besides the control {self.control!r}")
        arms = [self.control, *treatments]
        if len(set(arms)) != len(arms):
            raise InputError(f"{where}: arms {arms}: each treatment may appear once in a trial")
        if values.shape != (len(treatments),) or covariance.shape != (len(treatments),) * 2:
            raise InputError(f"{where}: {len(treatments)} contrasts need {len(treatments)} log hazard ratios and a "
                             f"{len(treatments)} x {len(treatments)} covariance (got {values.shape}, {covariance.shape})")
        if not (np.isfinite(values).all() and np.isfinite(covariance).all()):
            raise InputError(f"{where}: log hazard ratios and covariance must be finite numbers")
        if not np.allclose(covariance, covariance.T, rtol=1e-10, atol=1e-14):
            raise InputError(f"{where}: the covariance of its contrasts is not symmetric")
        if np.linalg.eigvalsh(covariance).min() <= 0:
            raise InputError(f"{where}: the covariance of its contrasts is not positive definite (each variance must "
                             "be positive and the shared control's variance below each contrast's)")
        object.__setattr__(self, "treatments", treatments)
        object.__setattr__(self, "log_hazard_ratios", values)
        object.__setattr__(self, "covariance", 0.5 * (covariance + covariance.T))

    @property
    def arms(self) -> tuple[str, ...]:
        """Every treatment of the trial, the control first."""
        return (self.control, *self.treatments)

    @classmethod
    def reported(cls, name: str, control: str, hazard_ratios: Mapping[str, tuple[float, float, float]],
                 control_variance: float | None = None, source: str = "reported hazard ratio") -> TrialContrasts:
        """Contrasts from published hazard ratios with 95% confidence intervals.

        Parameters
        ----------
        name, control : str
            The trial and its control arm's treatment.
        hazard_ratios : mapping of treatment to (hr, lower, upper)
            Each arm's hazard ratio against the control with its 95% CI; the standard
            error of log HR is (log upper − log lower) / (2 · 1.96).
        control_variance : float, optional
            For a multi-arm trial (required there): the covariance of every pair of its
            contrasts, the variance of the control arm's log hazard (≈ 1/its deaths).
        """
        treatments = list(hazard_ratios)
        estimates, variances = [], []
        for treatment, (hr, lower, upper) in hazard_ratios.items():
            if not 0 < lower <= hr <= upper or not lower < upper:
                raise InputError(f"trial {name!r}: {treatment} vs {control}: HR {hr!r} with 95% CI "
                                 f"[{lower!r}, {upper!r}]: need 0 < lower <= HR <= upper and lower < upper")
            estimates.append(np.log(hr))
            variances.append(((np.log(upper) - np.log(lower)) / (2 * Z_95)) ** 2)
        if len(treatments) > 1 and control_variance is None:
            raise InputError(f"trial {name!r}: {len(treatments)} arms against {control!r}: their contrasts share the "
                             "control arm, so give its variance (≈ 1/deaths in the control arm)")
        if len(treatments) == 1 and control_variance is not None:
            raise InputError(f"trial {name!r}: a control variance is for a trial of three or more arms")
        shared = 0.0 if control_variance is None else float(control_variance)
        if shared < 0:
            raise InputError(f"trial {name!r}: control variance {shared!r} must not be negative")
        covariance = np.full((len(treatments),) * 2, shared)
        np.fill_diagonal(covariance, variances)
        return cls(name, control, tuple(treatments), np.array(estimates), covariance, source)

    @classmethod
    def from_cox(cls, name: str, control: str, result: CoxResult, source: str = "Cox model (Breslow ties)",
                 transform: str = "km") -> TrialContrasts:
        """Contrasts from a Cox fit of the trial's arms (:func:`~markov.survival.synthesis.cox.fit_arms`),
        each coefficient an arm against ``control``, with the fit's test of proportional hazards."""
        return cls(name, control, result.names, result.coefficients, result.covariance, source,
                   result.proportional_hazards(transform))
