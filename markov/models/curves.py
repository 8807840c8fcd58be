"""Survival curves from their specifications in the model files, for every structure.

One registry maps each kind of curve specification (:mod:`markov.inputs.schema`) to the
function that builds it from a parameter set, so a kind added there is named the same way
in a sequencing, partitioned-survival or Markov model. A builder may use other named
curves (a hazard ratio applies to a reference curve); :func:`build_curves` builds each
curve once, in dependency order, and refuses cycles.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .._validate import InputError
from ..inputs import ParameterSet
from ..inputs.schema import CalibratedCurve, PublishedCurve, RelativeCurve
from ..survival import FAMILIES, AcceleratedFailureTime, Mixture, ProportionalHazards, SurvivalCurve, calibrate


@dataclass(frozen=True)
class CurveContext:
    """What a builder may use: the parameter set and the other curves, by name."""

    params: ParameterSet
    curve: Callable[[str], SurvivalCurve]


Builder = Callable[[object, CurveContext], SurvivalCurve]
_BUILDERS: dict[type, Builder] = {}


def builds(spec_type: type) -> Callable[[Builder], Builder]:
    """Register the builder of curves specified by ``spec_type``."""
    def register(builder: Builder) -> Builder:
        _BUILDERS[spec_type] = builder
        return builder
    return register


def build_curves(specs: Mapping[str, object], params: ParameterSet) -> dict[str, SurvivalCurve]:
    """Every curve of ``specs`` (name -> specification) for the parameter sets ``params``."""
    curves: dict[str, SurvivalCurve] = {}
    building: list[str] = []

    def curve(name: str) -> SurvivalCurve:
        if name in curves:
            return curves[name]
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
        curves[name] = builder(spec, CurveContext(params, curve))
        building.pop()
        return curves[name]

    for name in specs:
        curve(name)
    return curves


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
