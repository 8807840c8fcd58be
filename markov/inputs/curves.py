"""Specifications of survival curves in the model files: every kind the survival library
(:mod:`markov.survival`) implements, named in a population's ``curves:``.

A curve says what it is with ``kind:``; the three first kinds may leave it out, as files
written before kinds existed do (a ``reference`` makes a relative curve, ``parameters`` a
published one, anything else a calibrated one). Every number is a reference
``"<evidence file>.<value>"`` whose unit must suit its field
(:data:`markov.inputs.load.EXPECTED_UNITS`); rules on the numbers themselves (knots that
increase, a waning that ends after it starts …) are checked at their point estimates when
the analysis is loaded (:meth:`CurveSpecification.check`), each error naming the file,
the field, the value and the rule. Times that shape a curve for every sample alike (knots,
cut points, the start and end of waning) must not vary in a probabilistic analysis
(:meth:`CurveSpecification.shared_references`).

Curves fitted to patient-level data (``kind: fit``, ``kind: kaplan_meier_with_tail``) are
fitted once when the analysis is loaded (:mod:`markov.inputs.patient_data`): their
coefficients become derived evidence, drawn jointly in a probabilistic analysis, and the
specification records their references (:attr:`PatientDataCurve.estimates`). A curve from
a network meta-analysis of hazard ratios (``kind: network``) is made the same way: the
network is fitted once when the analysis is loaded (:mod:`markov.inputs.networks`).

The builders that turn a specification into a curve are in :mod:`markov.models.curves`,
one registry for every model structure.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import Discriminator, Field, PrivateAttr, Tag, model_validator

from .._validate import InputError
from ..survival import TIME_UNIT_YEARS, KaplanMeier
from ..survival.fitting.likelihood import (
    CurveModel,
    FitResult,
    MixtureCureModel,
    ParametricModel,
    PatientData,
    PiecewiseExponentialModel,
    SplineModel,
)
from ..survival.spline import SCALES
from .evidence import DURATION_UNITS, SourceKind
from .schema import Family, Landmark, Name, PatientDataFile, Ref, TimeUnit, _Strict, check_periods_end

if TYPE_CHECKING:
    from ..survival import SurvivalCurve
    from .networks import FittedNetwork
    from .parameters import ParameterSet

SplineScale = Literal[SCALES]  # type: ignore[valid-type]


class CurveSpecification(_Strict):
    """What every kind of curve tells the loader."""

    #: Fields that name other curves of the population.
    curve_fields: ClassVar[tuple[str, ...]] = ()

    @property
    def uses_general_population(self) -> bool:
        """Whether the curve needs general-population mortality (the perspective's life
        table, the population's start age and share female)."""
        return False

    def shared_references(self) -> dict[str, str]:
        """Field -> reference of the times that shape the curve for every sample alike
        (knots, cut points …), in increasing order: they may not vary between samples."""
        return {}

    def check(self, base: ParameterSet, where: str) -> None:
        """Rules on the point estimates ``base``; errors start with ``where``. By default:
        the shared times strictly increase (durations compared in years)."""
        previous = None
        for field, ref in self.shared_references().items():
            duration = base.unit(ref) in DURATION_UNITS
            value = float((base.years(ref) if duration else base[ref])[0])
            shown = f"{value!r}{' years' if duration else ''}"
            if previous is not None and not value > previous[2]:
                raise InputError(f"{where}.{field} = {ref!r} ({shown}): not above {previous[0]} = {previous[1]!r} "
                                 f"({previous[3]}); these must strictly increase")
            previous = (field, ref, value, shown)


# ---------------------------------------------------------------------------------
# Parametric curves: calibrated, published, spline, piecewise exponential
# ---------------------------------------------------------------------------------

class CalibratedCurve(CurveSpecification):
    """A parametric curve through reported medians and landmark survival."""

    kind: Literal["calibrated"] = Field("calibrated", exclude=True)  # out of dumps: fingerprints stay as they were
    family: Family
    median: Ref | None = None
    landmarks: list[Landmark] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_targets(self) -> CalibratedCurve:
        if self.median is None and not self.landmarks:
            raise ValueError("a calibrated curve needs a median, landmarks, or both")
        return self


class PublishedCurve(CurveSpecification):
    """A parametric curve entered as published, with flexsurv's parameters."""

    kind: Literal["published"] = Field("published", exclude=True)
    family: Family
    time_unit: TimeUnit
    parameters: dict[str, Ref]


class SplineCurve(CurveSpecification):
    """A Royston–Parmar spline as flexsurv prints it (``survspline``): ``gamma`` (γ0, γ1,
    one per internal knot), ``knots`` on log time in ``time_unit`` (boundary knots
    included), and what the spline models (``scale``)."""

    kind: Literal["spline"]
    gamma: list[Ref] = Field(min_length=2)
    knots: list[Ref] = Field(min_length=2)
    scale: SplineScale = "hazard"
    time_unit: TimeUnit

    @model_validator(mode="after")
    def _one_coefficient_per_knot(self) -> SplineCurve:
        if len(self.gamma) != len(self.knots):
            raise ValueError(f"gamma has {len(self.gamma)} coefficients but knots has {len(self.knots)} values; give "
                             "one per knot (γ0, γ1 and one per internal knot)")
        return self

    def shared_references(self) -> dict[str, str]:
        return {f"knots[{i}]": ref for i, ref in enumerate(self.knots)}


class PiecewiseExponentialCurve(CurveSpecification):
    """Constant hazards between cut points: ``rates`` (one more than ``cut_points``, the
    last applying beyond the last cut) per year where their unit is ``rate_per_year``,
    otherwise as published, per ``time_unit``; cut points are durations in any unit."""

    kind: Literal["piecewise_exponential"]
    cut_points: list[Ref] = Field(default_factory=list)
    rates: list[Ref] = Field(min_length=1)
    time_unit: TimeUnit

    @model_validator(mode="after")
    def _one_rate_per_interval(self) -> PiecewiseExponentialCurve:
        if len(self.rates) != len(self.cut_points) + 1:
            raise ValueError(f"{len(self.rates)} rates for {len(self.cut_points)} cut points; give one rate per "
                             "interval, one more than the cut points")
        return self

    def shared_references(self) -> dict[str, str]:
        return {f"cut_points[{i}]": ref for i, ref in enumerate(self.cut_points)}

    def rates_per_unit(self, params: ParameterSet) -> list:
        """Each rate per :attr:`time_unit`, one value per sample."""
        return [params[ref] * TIME_UNIT_YEARS[self.time_unit] if params.unit(ref) == "rate_per_year" else params[ref]
                for ref in self.rates]

    def check(self, base: ParameterSet, where: str) -> None:
        super().check(base, where)
        for i, (ref, rate) in enumerate(zip(self.rates, self.rates_per_unit(base), strict=True)):
            last = i == len(self.rates) - 1
            if not (rate[0] > 0 if last else rate[0] >= 0):
                raise InputError(f"{where}.rates[{i}] = {ref!r} ({float(rate[0])!r}): a hazard must be "
                                 f"{'positive in the last interval' if last else 'non-negative'}")


# ---------------------------------------------------------------------------------
# Curves made from other curves
# ---------------------------------------------------------------------------------

class RelativeCurve(CurveSpecification):
    """Another named curve with a hazard ratio or an acceleration factor, applied to all
    patients or, with ``applies_to_share``, to a share of them (the rest keep the
    reference curve: e.g. an add-on that only some patients receive)."""

    kind: Literal["relative"] = Field("relative", exclude=True)
    curve_fields: ClassVar[tuple[str, ...]] = ("reference",)
    reference: Name
    hazard_ratio: Ref | None = None
    acceleration_factor: Ref | None = None
    applies_to_share: Ref | None = None

    @model_validator(mode="after")
    def _one_effect(self) -> RelativeCurve:
        if (self.hazard_ratio is None) == (self.acceleration_factor is None):
            raise ValueError("give exactly one of hazard_ratio and acceleration_factor")
        return self


class WaningCurve(CurveSpecification):
    """A hazard ratio on a reference curve that wanes to 1 from ``start``: linearly until
    ``end``, or at once (``profile: step``, no end). Start and end are durations."""

    kind: Literal["waning_hazard_ratio"]
    curve_fields: ClassVar[tuple[str, ...]] = ("reference",)
    reference: Name
    hazard_ratio: Ref
    start: Ref
    end: Ref | None = None
    profile: Literal["linear", "step"] = "linear"

    @model_validator(mode="after")
    def _end_fits_profile(self) -> WaningCurve:
        if (self.end is None) != (self.profile == "step"):
            raise ValueError("linear waning needs an end; a step happens at its start and takes none")
        return self

    def shared_references(self) -> dict[str, str]:
        return {field: getattr(self, field) for field in ("start", "end") if getattr(self, field) is not None}


class HazardRatioPeriod(_Strict):
    """A hazard ratio that holds until ``until`` (a duration; the last period has none)."""

    hazard_ratio: Ref
    until: Ref | None = None


class PiecewiseHazardRatioCurve(CurveSpecification):
    """A time-varying hazard ratio on a reference curve, constant within periods."""

    kind: Literal["piecewise_hazard_ratio"]
    curve_fields: ClassVar[tuple[str, ...]] = ("reference",)
    reference: Name
    periods: list[HazardRatioPeriod] = Field(min_length=1)

    @model_validator(mode="after")
    def _periods_end(self) -> PiecewiseHazardRatioCurve:
        check_periods_end(self.periods)
        return self

    def shared_references(self) -> dict[str, str]:
        return {f"periods[{i}].until": period.until for i, period in enumerate(self.periods[:-1])}


class MixtureCureCurve(CurveSpecification):
    """A cured share who face only general-population mortality; the others follow the
    curve named ``uncured`` (relative to that mortality)."""

    kind: Literal["mixture_cure"]
    curve_fields: ClassVar[tuple[str, ...]] = ("uncured",)
    cure_fraction: Ref
    uncured: Name

    @property
    def uses_general_population(self) -> bool:
        return True

    def check(self, base: ParameterSet, where: str) -> None:
        super().check(base, where)
        if not base[self.cure_fraction][0] < 1:
            raise InputError(f"{where}.cure_fraction = {self.cure_fraction!r} ({float(base[self.cure_fraction][0])!r}):"
                             f" must be below 1 (some patients are not cured)")


class GeneralPopulationFloorCurve(CurveSpecification):
    """The ``reference`` curve with general-population mortality as a floor on its hazard,
    cycle by cycle (:class:`markov.survival.GeneralPopulationFloor` with the model's
    cycle as its interval)."""

    kind: Literal["general_population_floor"]
    curve_fields: ClassVar[tuple[str, ...]] = ("reference",)
    reference: Name

    @property
    def uses_general_population(self) -> bool:
        return True


# ---------------------------------------------------------------------------------
# Curves from patient-level data
# ---------------------------------------------------------------------------------

class DataSource(_Strict):
    """Where a patient-level data file comes from, shown as the source of what is fitted to it."""

    citation: str
    doi: str | None = None
    url: str | None = None
    kind: SourceKind = "trial"
    note: str | None = None


@dataclass(frozen=True)
class FitEstimates:
    """What loading a curve fitted to patient-level data adds to its specification: the
    references of its coefficients (and of the knots placed from the data), the
    Kaplan–Meier estimate a tail continues, and the data file (resolved), the patients
    and the fit itself, for the comparison of candidate models (:mod:`markov.runs.survival_fits`)."""

    coefficients: tuple[str, ...]
    knots: tuple[str, ...] = ()
    kaplan_meier: KaplanMeier | None = None
    data_file: Path | None = None
    patients: PatientData | None = None
    fit: FitResult | None = None


class PatientDataCurve(CurveSpecification, PatientDataFile):
    """A curve from an arm of a patient-level data file."""

    source: DataSource | None = None

    @property
    def estimates(self) -> FitEstimates:
        return self._read_at_load("no estimates yet of the curve fitted to")

    def with_estimates(self, estimates: FitEstimates) -> PatientDataCurve:
        """A copy that records the fit's evidence."""
        return self._with_read(estimates)

    def curve_model(self, cut_points=None, knots=None, background: SurvivalCurve | None = None) -> CurveModel:
        """The model fitted, given the cut points and knots (in :attr:`time_unit`; knots
        None: placed from the data) and the background mortality of a cure model."""
        raise NotImplementedError


class ExternalTargets(_Strict):
    """Survival reported from data a fit did not see (a later data cut, another trial's
    arm), to validate its extrapolation against: a ``median`` and ``landmarks``."""

    median: Ref | None = None
    landmarks: list[Landmark] = Field(default_factory=list)
    note: str | None = None

    @model_validator(mode="after")
    def _has_targets(self) -> ExternalTargets:
        if self.median is None and not self.landmarks:
            raise ValueError("external targets need a median, landmarks, or both")
        return self


class FittedCurve(PatientDataCurve):
    """A maximum-likelihood fit to patient-level data: a flexsurv ``family``, a ``spline``
    (``internal_knots`` at flexsurv's default places, ``scale``), a
    ``piecewise_exponential`` with ``cut_points`` (durations), or a ``mixture_cure`` of an
    ``uncured`` family over general-population mortality. ``reason`` says why this model
    was chosen among the candidates, and ``external`` names data the fit did not see;
    neither changes the curve, so both stay out of dumps (fingerprints, the fit's cache key)."""

    kind: Literal["fit"]
    family: Family | Literal["spline", "piecewise_exponential", "mixture_cure"]
    internal_knots: int | None = Field(None, ge=0)
    scale: SplineScale | None = None
    cut_points: list[Ref] | None = None
    uncured: Family | None = None
    reason: str | None = Field(None, exclude=True)
    external: ExternalTargets | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _options_fit_the_family(self) -> FittedCurve:
        options = {"spline": ("internal_knots", "scale"), "piecewise_exponential": ("cut_points",),
                   "mixture_cure": ("uncured",)}
        own = options.get(self.family, ())
        for family, fields in options.items():
            for name in fields:
                if getattr(self, name) is not None and name not in own:
                    raise ValueError(f"{name} is for family {family}, not {self.family}")
        if self.family in ("piecewise_exponential", "mixture_cure") and getattr(self, own[0]) is None:
            raise ValueError(f"family {self.family} needs {own[0]}")
        return self

    @property
    def uses_general_population(self) -> bool:
        return self.family == "mixture_cure"

    def shared_references(self) -> dict[str, str]:
        return {f"cut_points[{i}]": ref for i, ref in enumerate(self.cut_points or [])}

    def curve_model(self, cut_points=None, knots=None, background: SurvivalCurve | None = None) -> CurveModel:
        if self.family == "spline":
            return SplineModel(1 if self.internal_knots is None else self.internal_knots, self.scale or "hazard", knots)
        if self.family == "piecewise_exponential":
            return PiecewiseExponentialModel(cut_points)
        if self.family == "mixture_cure":
            return MixtureCureModel(self.uncured, background)
        return ParametricModel(self.family)


class KaplanMeierTailCurve(PatientDataCurve):
    """The Kaplan–Meier estimate of the data up to ``cut_point`` (a duration), then a
    ``tail`` family fitted to the patients still at risk there (left-truncated)."""

    kind: Literal["kaplan_meier_with_tail"]
    cut_point: Ref
    tail: Family

    def shared_references(self) -> dict[str, str]:
        return {"cut_point": self.cut_point}

    def curve_model(self, cut_points=None, knots=None, background: SurvivalCurve | None = None) -> CurveModel:
        return ParametricModel(self.tail)


# ---------------------------------------------------------------------------------
# Curves from a network meta-analysis
# ---------------------------------------------------------------------------------

class NetworkCurve(CurveSpecification):
    """``reference_curve`` with the hazard ratio of ``treatment`` against the reference
    treatment of the network meta-analysis ``network`` (a file ``networks/<network>.yaml``,
    :mod:`markov.inputs.networks`), under its ``model`` (fixed or random effects; by default
    the network file's). The network is fitted when the analysis is loaded and its log hazard
    ratios become derived evidence, drawn jointly from the network's multivariate normal."""

    kind: Literal["network"]
    curve_fields: ClassVar[tuple[str, ...]] = ("reference_curve",)
    network: Name
    treatment: Name
    reference_curve: Name
    model: Literal["fixed", "random"] | None = None
    _fit: tuple[str, FittedNetwork] | None = PrivateAttr(None)

    def _fitted(self) -> tuple[str, FittedNetwork]:
        if self._fit is None:
            raise InputError(f"the curve of {self.treatment!r} from network {self.network!r} has no estimate: "
                             "networks are fitted when their analysis is loaded (markov.inputs.load_analysis)")
        return self._fit

    @property
    def log_hazard_ratio(self) -> str:
        """The reference of the treatment's log hazard ratio against the network's reference (derived evidence)."""
        return self._fitted()[0]

    @property
    def fitted_network(self) -> FittedNetwork:
        """The network as fitted when the analysis was loaded."""
        return self._fitted()[1]

    def with_fit(self, log_hazard_ratio: str, network: FittedNetwork) -> NetworkCurve:
        """A copy that records the reference of its log hazard ratio and the fitted network."""
        copy = self.model_copy()
        copy._fit = (log_hazard_ratio, network)
        return copy


# ---------------------------------------------------------------------------------
# The kinds, told apart by ``kind`` (or, for the first three, by their fields)
# ---------------------------------------------------------------------------------

_SPECIFICATIONS = (CalibratedCurve, PublishedCurve, RelativeCurve, SplineCurve, PiecewiseExponentialCurve, WaningCurve,
                   PiecewiseHazardRatioCurve, MixtureCureCurve, GeneralPopulationFloorCurve, FittedCurve,
                   KaplanMeierTailCurve, NetworkCurve)
#: Each kind of curve by its ``kind``.
KINDS = {spec.model_fields["kind"].annotation.__args__[0]: spec for spec in _SPECIFICATIONS}


def _kind(data) -> str | None:
    if not isinstance(data, dict):
        return getattr(data, "kind", None)
    if "kind" in data:
        return data["kind"]
    return "relative" if "reference" in data else "published" if "parameters" in data else "calibrated"


CurveSpec = Annotated[
    reduce(operator.or_, (Annotated[spec, Tag(kind)] for kind, spec in KINDS.items())),
    Discriminator(_kind, custom_error_type="curve_kind",
                  custom_error_message=f"unknown kind of curve; kind is one of {', '.join(KINDS)}"),
]


def curve_references(spec: CurveSpecification) -> dict[str, str]:
    """The other curves a curve is built from: field -> curve name."""
    return {field: getattr(spec, field) for field in spec.curve_fields}
