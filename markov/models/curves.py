"""Survival curves from their specifications in the model files, for every structure.

One registry maps each kind of curve specification (:mod:`markov.inputs.curves`) to the
function that builds it from a parameter set, so a kind added there is named the same way
in a sequencing, partitioned-survival or Markov model. A builder may use other named
curves (a hazard ratio applies to a reference curve) and the cohort's general-population
mortality (a cure model, a floor); :func:`build_curves` builds each curve once, in
dependency order, and refuses cycles.
"""
from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

import numpy as np

from .._validate import InputError
from ..inputs import ParameterSet
from ..inputs.curves import (
    CalibratedCurve,
    FittedCurve,
    GeneralPopulationFloorCurve,
    KaplanMeierTailCurve,
    MixtureCureCurve,
    NetworkCurve,
    PatientDataCurve,
    PiecewiseExponentialCurve,
    PiecewiseHazardRatioCurve,
    PublishedCurve,
    RelativeCurve,
    SplineCurve,
    WaningCurve,
)
from ..survival import (
    FAMILIES,
    TIME_UNIT_YEARS,
    AcceleratedFailureTime,
    GeneralPopulationFloor,
    KaplanMeierWithTail,
    Mixture,
    MixtureCure,
    PiecewiseExponential,
    PiecewiseHazardRatio,
    ProportionalHazards,
    RoystonParmar,
    SurvivalCurve,
    WaningHazardRatio,
    calibrate,
)
from .shared import SharedWork


@dataclass(frozen=True)
class Cohort:
    """What a structure tells curves about its cohort: general-population survival (in
    any time unit) and the model's cycle length, the interval of a floor."""

    general_population: SurvivalCurve
    cycle_years: float


@dataclass(frozen=True)
class CurveContext:
    """What a builder may use: the parameter set, the other curves by name, and the
    cohort (None where the structure offers no general-population mortality)."""

    params: ParameterSet
    curve: Callable[[str], SurvivalCurve]
    cohort: Cohort | None = None

    def general_population(self) -> SurvivalCurve:
        """General-population survival of the cohort, or an error saying what it needs."""
        if self.cohort is None:
            raise InputError("general-population mortality is not available here: it needs the perspective's "
                             "life_table and the population's start_age and share_female")
        return self.cohort.general_population

    def shared(self, ref: str, unit: str | None = None) -> float:
        """A value the same in every sample (a knot, a cut point …); a duration in ``unit``."""
        values = self.params[ref] if unit is None else self.params.years(ref) / TIME_UNIT_YEARS[unit]
        if not (values == values[0]).all():
            raise InputError(f"{ref}: differs between samples ({values.min()!r} to {values.max()!r}); it places a "
                             f"curve for every sample alike, so it must be fixed")
        return float(values[0])


Builder = Callable[[object, CurveContext], SurvivalCurve]
_BUILDERS: dict[type, Builder] = {}


def builds(spec_type: type) -> Callable[[Builder], Builder]:
    """Register the builder of curves specified by ``spec_type``."""
    def register(builder: Builder) -> Builder:
        _BUILDERS[spec_type] = builder
        return builder
    return register


def build_curves(specs: Mapping[str, object], params: ParameterSet, cohort: Cohort | None = None, *,
                 shared: SharedWork | None = None, cohort_key: Hashable = None) -> dict[str, SurvivalCurve]:
    """Every curve of a population for the parameter sets ``params``.

    Parameters
    ----------
    specs : mapping of str to a curve specification
        The population's ``curves`` (:mod:`markov.inputs.curves`), by name.
    params : ParameterSet
    cohort : Cohort, optional
        The cohort's general-population survival and the model's cycle, for the curves
        that use general-population mortality (a cure model, a floor); without it such a
        curve is an error.
    shared : SharedWork, optional
        Curves of the other populations of an evaluation (same ``params``). A curve whose
        specification, and those of the curves it refers to, are another population's,
        with the same cohort (``cohort_key``: what its general-population survival is
        made from), is that population's very curve object: its values on the grid,
        floors and transforms are then computed once for both.
    cohort_key : hashable, optional
        What ``cohort`` is made from (its start age and share female): populations of
        the same key have the same cohort.

    Returns
    -------
    dict of str to SurvivalCurve
        Each curve built once, after the curves it refers to; an error names the curve.
    """
    builder = _Builder(specs, params, cohort, shared, cohort_key)
    for name in specs:
        builder.curve(name)
    return builder.curves


class _Builder:
    """What :func:`build_curves` builds with: an object, not closures that refer to
    themselves, so that nothing it builds waits for the cyclic garbage collector to be
    freed (what is shared by curve, its values on the grid say, goes with the curve)."""

    def __init__(self, specs: Mapping[str, object], params: ParameterSet, cohort: Cohort | None,
                 shared: SharedWork | None, cohort_key: Hashable) -> None:
        self.specs, self.params, self.cohort, self.shared, self.cohort_key = specs, params, cohort, shared, cohort_key
        self.curves: dict[str, SurvivalCurve] = {}
        self.building: list[str] = []

    def curve(self, name: str) -> SurvivalCurve:
        if name in self.curves:
            return self.curves[name]
        building, specs = self.building, self.specs
        if name in building:
            raise InputError(f"curves: {' -> '.join(building[building.index(name):] + [name])}: a curve cannot "
                             f"refer to itself")
        if name not in specs:
            raise InputError(f"curves: {name!r} is not a curve of this population (curves: {', '.join(specs)})")
        spec = specs[name]
        builder = _BUILDERS.get(type(spec))
        if builder is None:
            raise InputError(f"curves.{name}: no builder for curves of kind {type(spec).__name__}")
        building.append(name)
        used: list[str] = []  # the curves it refers to
        try:
            made = builder(spec, CurveContext(self.params, functools.partial(self._refer, used), self.cohort))
        except InputError as error:
            if str(error).startswith("curves"):  # placed already, by the curve that failed or the cycle
                raise
            raise InputError(f"curves.{name}: {error}") from None
        building.pop()
        if self.shared is not None:
            made = _same_as_made(self.shared, spec, made, tuple(self.curves[u] for u in used), self.cohort_key)
        self.curves[name] = made
        return made

    def _refer(self, used: list[str], other: str) -> SurvivalCurve:
        used.append(other)
        return self.curve(other)


def _same_as_made(shared: SharedWork, spec, made: SurvivalCurve, used: tuple[SurvivalCurve, ...],
                  cohort_key: Hashable) -> SurvivalCurve:
    """The curve another population of ``shared`` made from what ``made`` was made from,
    whatever its name, while it lives: an equal specification (estimates read at load
    included), the very curves it refers to (``used``) and the same cohort; else
    ``made``, offered to the others."""
    candidates = shared.for_objects("curves", used, lambda *_: [], type(spec).__name__, spec.model_dump_json(),
                                    cohort_key)
    for other, curve in candidates:
        if curve() is not None and _equal(other, spec):
            return curve()
    candidates.append((spec, weakref.ref(made)))  # not kept for the others beyond its population
    return made


def _equal(one, other) -> bool:
    try:
        return bool(one == other)
    except ValueError:  # arrays among the estimates: not known to be equal
        return False


@builds(CalibratedCurve)
def _calibrated(spec: CalibratedCurve, context: CurveContext) -> SurvivalCurve:
    params = context.params
    landmarks = [(params.years(mark.time), params[mark.survival]) for mark in spec.landmarks]
    median = None if spec.median is None else params.years(spec.median)
    return calibrate(spec.family, time_unit="years", median=median, landmarks=landmarks)


@builds(PublishedCurve)
def _published(spec: PublishedCurve, context: CurveContext) -> SurvivalCurve:
    values = {key: context.params[ref] for key, ref in spec.parameters.items()}
    return FAMILIES[spec.family](time_unit=spec.time_unit, **values)


@builds(SplineCurve)
def _spline(spec: SplineCurve, context: CurveContext) -> SurvivalCurve:
    gamma = np.column_stack([context.params[ref] for ref in spec.gamma])
    knots = [context.shared(ref) for ref in spec.knots]
    return RoystonParmar(gamma, knots, scale=spec.scale, time_unit=spec.time_unit)


@builds(PiecewiseExponentialCurve)
def _piecewise(spec: PiecewiseExponentialCurve, context: CurveContext) -> SurvivalCurve:
    cuts = [context.shared(ref, spec.time_unit) for ref in spec.cut_points]
    return PiecewiseExponential(np.column_stack(spec.rates_per_unit(context.params)), cuts, time_unit=spec.time_unit)


@builds(RelativeCurve)
def _relative(spec: RelativeCurve, context: CurveContext) -> SurvivalCurve:
    params, reference = context.params, context.curve(spec.reference)
    if spec.hazard_ratio is not None:
        treated = ProportionalHazards(reference, params[spec.hazard_ratio])
    else:
        treated = AcceleratedFailureTime(reference, params[spec.acceleration_factor])
    if spec.applies_to_share is None:
        return treated
    share = params[spec.applies_to_share]
    return Mixture([reference, treated], [1.0 - share, share])


@builds(WaningCurve)
def _waning(spec: WaningCurve, context: CurveContext) -> SurvivalCurve:
    reference = context.curve(spec.reference)
    start = context.shared(spec.start, reference.time_unit)
    end = None if spec.end is None else context.shared(spec.end, reference.time_unit)
    return WaningHazardRatio(reference, context.params[spec.hazard_ratio], start, end, spec.profile)


@builds(PiecewiseHazardRatioCurve)
def _piecewise_hazard_ratio(spec: PiecewiseHazardRatioCurve, context: CurveContext) -> SurvivalCurve:
    reference = context.curve(spec.reference)
    until = [context.shared(ref, reference.time_unit) for ref in spec.shared_references().values()]
    ratios = np.column_stack([context.params[period.hazard_ratio] for period in spec.periods])
    return PiecewiseHazardRatio(reference, ratios, until)


@builds(MixtureCureCurve)
def _mixture_cure(spec: MixtureCureCurve, context: CurveContext) -> SurvivalCurve:
    return MixtureCure(context.params[spec.cure_fraction], context.curve(spec.uncured), context.general_population())


@builds(GeneralPopulationFloorCurve)
def _floor(spec: GeneralPopulationFloorCurve, context: CurveContext) -> SurvivalCurve:
    reference, population = context.curve(spec.reference), context.general_population()
    interval = context.cohort.cycle_years / TIME_UNIT_YEARS[reference.time_unit]
    return GeneralPopulationFloor(reference, population, interval)


def _fitted_curve(spec: PatientDataCurve, context: CurveContext, **model) -> SurvivalCurve:
    """The curve of a fit's model at the drawn coefficients."""
    coefficients = np.column_stack([context.params[ref] for ref in spec.estimates.coefficients])
    return spec.curve_model(**model).curve(coefficients, spec.time_unit)


@builds(FittedCurve)
def _fitted(spec: FittedCurve, context: CurveContext) -> SurvivalCurve:
    estimates = spec.estimates
    cuts = [context.shared(ref, spec.time_unit) for ref in spec.cut_points or []]
    background = context.general_population() if spec.uses_general_population else None
    knots = [context.shared(ref) for ref in estimates.knots] or None
    return _fitted_curve(spec, context, cut_points=cuts or None, knots=knots, background=background)


@builds(KaplanMeierTailCurve)
def _kaplan_meier_with_tail(spec: KaplanMeierTailCurve, context: CurveContext) -> SurvivalCurve:
    return KaplanMeierWithTail(spec.estimates.kaplan_meier, _fitted_curve(spec, context),
                               context.shared(spec.cut_point, spec.time_unit))


@builds(NetworkCurve)
def _network(spec: NetworkCurve, context: CurveContext) -> SurvivalCurve:
    return ProportionalHazards(context.curve(spec.reference_curve), np.exp(context.params[spec.log_hazard_ratio]))
