"""The validated inputs of an analysis and the parameter sets drawn from them.

:class:`ModelInputs` holds an analysis's settings, model files and evidence (loaded by
:func:`markov.inputs.load_analysis`). Its :meth:`~ModelInputs.base_case`,
:meth:`~ModelInputs.sample`, :meth:`~ModelInputs.transform` and
:meth:`~ModelInputs.with_values` give a :class:`ParameterSet`: one array of values per
evidence reference, one value per sample, which is all a model reads.

Every uncertain input is a transform of independent U(0, 1) draws — its inverse CDF, or
for values drawn jointly (a Dirichlet over counts or shares, a fit's multivariate normal)
the block's transform of as many uniforms as it has values, or for a value drawn as
another minus a decrement, that value's draw minus the decrement's inverse CDF — so the
PSA (seeded uniforms) and global sensitivity analysis (SALib's design) share one
description. Inputs that no strategy of the analysis uses (:attr:`ModelInputs.unused`)
stay at their estimates: they cannot change a result, so they are not uncertain inputs.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .._validate import InputError
from ..survival import TIME_UNIT_YEARS
from ..uncertainty import Dirichlet, Fixed, uniform_rows
from .evidence import Decrement, EvidenceLibrary, JointDraw
from .labels import input_label, source_label
from .merge import deep_merge
from .schema import Analysis, Perspective, Treatment, Utilities, period_in_years

if TYPE_CHECKING:  # an annotation only: the schemas of populations come later in this layer
    from .structures import Population

_UNIT_TEXT = {"months": "months", "weeks": "weeks", "days": "days", "years": "years", "age_years": "years",
              "kg": "kg", "mg": "mg", "mg_per_kg": "mg/kg", "rate_per_year": "per year"}


@dataclass(frozen=True)
class ModelInputs:
    """Everything an analysis uses, validated: settings, model files and evidence.

    ``uses`` maps each evidence reference to the places that use it (for the inputs
    table and for error messages). ``unused`` holds the references that no strategy of
    the analysis reads, directly or through a value drawn from them (a treatment no
    strategy gives, a curve no strategy follows, a reported median no calibration
    targets: :func:`markov.inputs.reach.unused_references`): listed with the inputs,
    never varied.
    """

    analysis: Analysis
    source: str
    treatments: dict[str, Treatment]
    populations: dict[str, Population]
    perspective: Perspective
    utilities: Utilities
    evidence: EvidenceLibrary
    uses: dict[str, list[str]]
    settings: dict = dataclasses.field(repr=False)
    directory: Path = dataclasses.field(repr=False)
    #: Builds inputs from settings (:func:`markov.inputs.load.inputs_from_settings`): how a
    #: scenario or a change is validated like the files, without this module importing the loader.
    loader: Callable[[dict, str, Path], ModelInputs] = dataclasses.field(repr=False, compare=False)
    unused: frozenset[str] = dataclasses.field(default=frozenset(), repr=False)

    @property
    def structure(self) -> str:
        return self.analysis.structure

    @property
    def references(self) -> list[str]:
        """Every evidence reference the analysis uses, in a fixed order."""
        return sorted(self.uses)

    @cached_property
    def estimates(self) -> dict[str, tuple[float, str]]:
        """Each reference's point estimate and unit, in the order of :attr:`references`:
        read from the evidence once, not at every parameter set made."""
        return {ref: (self.evidence[ref].value.value, self.evidence[ref].value.unit) for ref in self.references}

    @cached_property
    def distributions(self) -> dict[str, object]:
        """The probabilistic distribution of every input
        (:meth:`~markov.inputs.EvidenceLibrary.drawn`): its own, the :class:`JointDraw` of
        values drawn together, or the :class:`Decrement` of a value drawn as another minus
        a decrement."""
        return {ref: self.evidence.drawn(ref) for ref in self.references}

    @cached_property
    def uncertain(self) -> list[str]:
        """The inputs that vary in a probabilistic analysis, in a fixed order: the columns
        of :meth:`transform` and of a global sensitivity design. Not among them: fixed
        inputs, a decrement that is fixed (its value follows its source), and inputs that
        no strategy uses (:attr:`unused`)."""
        return [ref for ref, d in self.distributions.items() if ref not in self.unused
                and not isinstance(d, Fixed) and not (isinstance(d, Decrement) and d.fixed)]

    @property
    def joint(self) -> list[JointDraw]:
        """The distributions of values drawn together, each once."""
        return list({d.name: d for d in self.distributions.values() if isinstance(d, JointDraw)}.values())

    @cached_property
    def derived(self) -> list[JointDraw | Decrement]:
        """Values drawn from others' draws, each after those it needs: blocks splitting a
        share (after that share) and values drawn as a decrement (after their source)."""
        pending = [d for d in self.joint if d.parent is not None]
        pending += [d for d in self.distributions.values() if isinstance(d, Decrement)]
        ordered: list[JointDraw | Decrement] = []
        while pending:
            waiting = {ref for item in pending
                       for ref in (item.references if isinstance(item, JointDraw) else (item.name,))}
            ready = [not set(item.needs) & waiting for item in pending]
            if not any(ready):
                raise InputError(f"{pending[0].name}: drawn from a value drawn from it")
            ordered += [item for item, go in zip(pending, ready, strict=True) if go]
            pending = [item for item, go in zip(pending, ready, strict=True) if not go]
        return ordered

    def marginal(self, ref: str) -> tuple[float, float]:
        """Mean and standard deviation of ``ref``'s draws in a probabilistic analysis (its
        marginal distribution): a Dirichlet share's Beta marginal (times the share it
        splits, independent of the split), a decrement's source's moments minus the
        decrement's (independent), an unused or fixed input its value and 0."""
        drawn = self.distributions[ref]
        if ref in self.unused or isinstance(drawn, Fixed):
            return float(self.evidence[ref].value.value), 0.0
        if isinstance(drawn, Decrement):
            mean, sd = self.marginal(drawn.source)
            return mean - float(drawn.decrement.mean), float(np.hypot(sd, drawn.decrement.sd))
        if not isinstance(drawn, JointDraw):
            return float(drawn.mean), float(drawn.sd)
        j = drawn.references.index(ref)
        block = drawn.distribution
        if drawn.parent is None:
            scale = drawn.scale if isinstance(block, Dirichlet) else 1.0
            return scale * float(block.mean[j]), scale * float(block.sd[j])
        (mean, sd), own, spread = self.marginal(drawn.parent), float(block.mean[j]), float(block.sd[j])
        second = (sd**2 + mean**2) * (spread**2 + own**2)
        return mean * own, float(np.sqrt(max(second - (mean * own) ** 2, 0.0)))

    def content(self) -> dict:
        """Everything that determines the model's results, as plain data (for fingerprints)."""
        return {
            "settings": self.analysis.model_dump(mode="json", exclude={"name", "description", "seed", "psa_samples",
                                                                       "scenarios"}),
            "treatments": {k: v.model_dump(mode="json") for k, v in self.treatments.items()},
            "populations": {k: v.model_dump(mode="json") for k, v in self.populations.items()},
            "perspective": self.perspective.model_dump(mode="json"),
            "utilities": self.utilities.model_dump(mode="json"),
            "evidence": {ref: self.evidence[ref].value.model_dump(mode="json") for ref in self.references},
            "distributions": {ref: str(d) for ref, d in self.distributions.items()},
            "uncertain": self.uncertain,
        }

    def label(self, ref: str) -> str:
        """The reviewer-facing name of an input, with its unit and source: its evidence
        file's ``label`` if it has one, else its key in words
        (``"OS median, Atezo–Bev, months (IMbrave150, Cheng 2022)"``; :mod:`.labels`)."""
        item = self.evidence[ref].value
        unit = item.currency if item.unit == "money" else _UNIT_TEXT.get(item.unit)
        return input_label(ref, unit, item.label, self.populations)

    def source_label(self, source: str) -> str:
        """The reviewer-facing name of an evidence source (a group of inputs)."""
        return source_label(source, self.populations)

    def scenario(self, name: str) -> ModelInputs:
        """The analysis with scenario ``name``'s changes merged into its settings."""
        scenarios = self.analysis.scenarios or {}
        if name not in scenarios:
            raise InputError(f"scenario {name!r}: not defined (scenarios: {', '.join(scenarios) or 'none'})")
        changes = scenarios[name].changes
        if "scenarios" in changes:
            raise InputError(f"scenario {name!r}: changes.scenarios: a scenario cannot define scenarios")
        settings = deep_merge(self.settings, changes)
        settings["name"] = f"{self.analysis.name}.{name}"
        return self.loader(settings, f"{self.source}, scenario {name}", self.directory)

    def with_changes(self, changes: dict) -> ModelInputs:
        """The analysis with ``changes``, validated by the same rules as the files: a key
        with a dot is an evidence reference (a number replaces its value; a mapping the
        fields it gives, e.g. ``{"value": 0.7, "distribution": {"type": "beta", "alpha": 70,
        "beta": 30}}``); any other key is an analysis setting (``horizon_years`` …). Values
        changed here carry into scenarios, probabilistic and sensitivity analyses."""
        if not isinstance(changes, dict):
            raise InputError(f"changes: give a mapping of references or settings to values, not "
                             f"{type(changes).__name__}")
        settings = dict(self.settings)
        values = dict(settings.get("values") or {})
        for key, change in changes.items():
            if not isinstance(key, str):
                raise InputError(f"changes: key {key!r} is not a reference or a setting name")
            if "." in key:
                if key not in self.uses:
                    raise InputError(f"{key!r}: not an input of the {self.analysis.name} analysis (see its inputs "
                                     f"table for the references it uses)")
                stem = key.partition(".")[0]
                if stem in self.evidence.derived:
                    raise InputError(f"{key!r}: estimated when the analysis is loaded "
                                     f"({self.evidence.locations[stem]}); change the data or the curve, not the estimate")
                values[key] = change
            else:
                settings[key] = change
        settings["values"] = values
        return self.loader(settings, self.source, self.directory)

    def base_case(self) -> ParameterSet:
        """One parameter set at the point estimates."""
        return self.with_values({}, 1)

    def with_values(self, values: dict[str, np.ndarray | float], n: int) -> ParameterSet:
        """``n`` parameter sets at the point estimates except ``values`` (reference ->
        one value or ``n`` values): the rows of a deterministic sensitivity analysis.

        A value drawn from another follows it when only that one is given: the shares
        splitting a share scale with it, and a value drawn as a decrement moves with its
        source (the decrement at its estimate).
        """
        unknown = sorted(set(values) - set(self.uses))
        if unknown:
            raise InputError(f"{', '.join(map(repr, unknown))}: not an input of the {self.analysis.name} analysis")
        columns = {}
        for ref, (estimate, _) in self.estimates.items():
            column = np.full(n, estimate, dtype=float)
            if ref in values:
                column[:] = values[ref]
            columns[ref] = column
        given = set(values)
        for item in self.derived:
            if isinstance(item, Decrement):
                if item.source in given and item.name not in given:
                    columns[item.name] = columns[item.source] - item.base
                    given.add(item.name)
            elif item.parent in given:
                base = self.evidence[item.parent].value.value
                for ref in item.references:
                    if ref not in given:
                        share = self.evidence[ref].value.value
                        columns[ref] = columns[item.parent] * (share / base if base > 0 else 0.0)
                        given.add(ref)
        return ParameterSet(columns, self)

    def transform(self, uniforms) -> ParameterSet:
        """Parameter sets for uniforms of shape ``(n, len(uncertain))``: each uncertain
        input's inverse CDF applied to its column, values drawn jointly transformed
        together from theirs, values drawn from others after those; fixed and unused
        inputs at their values."""
        uniforms = np.asarray(uniforms, dtype=float)
        uncertain = self.uncertain
        if uniforms.ndim != 2 or uniforms.shape[1] != len(uncertain):
            raise InputError(f"uniforms: shape {uniforms.shape}, expected (n, {len(uncertain)}), one column "
                             "per uncertain input")
        n = uniforms.shape[0]
        column = {ref: j for j, ref in enumerate(uncertain)}
        values = {}
        for ref in uncertain:
            distribution = self.distributions[ref]
            if not isinstance(distribution, (JointDraw, Decrement)):
                values[ref] = np.asarray(distribution.ppf(uniforms[:, column[ref]]), dtype=float)
        for draw in self.joint:
            if draw.parent is None and draw.references[0] in column:
                drawn = draw.transform(uniforms[:, [column[ref] for ref in draw.references]])
                values.update({ref: drawn[:, j] for j, ref in enumerate(draw.references)})

        def drawn_or_estimate(ref: str) -> np.ndarray:
            return values[ref] if ref in values else np.full(n, self.evidence[ref].value.value)

        for item in self.derived:
            if isinstance(item, JointDraw):
                if item.references[0] in column:
                    drawn = item.transform(uniforms[:, [column[ref] for ref in item.references]],
                                           drawn_or_estimate(item.parent))
                    values.update({ref: drawn[:, j] for j, ref in enumerate(item.references)})
            elif item.name in column:
                values[item.name] = item.transform(uniforms[:, column[item.name]], drawn_or_estimate(item.source))
            elif item.name not in self.unused and item.source in values:  # a fixed decrement: follows its source
                values[item.name] = values[item.source] - item.base
        return self.with_values(values, n)

    def sample(self, n: int, seed: int, start: int = 0) -> ParameterSet:
        """Probabilistic parameter sets ``start`` to ``start + n`` of the PSA seeded by
        ``seed`` (:func:`markov.uncertainty.uniform_rows`: the same draws whatever the
        chunking)."""
        if int(n) != n or n < 1:
            raise InputError(f"number of samples is {n!r}: must be a whole number of at least 1")
        return self.transform(uniform_rows(seed, start, start + int(n), len(self.uncertain)))


class ParameterSet:
    """Values of every input, one array of ``n_samples`` per evidence reference."""

    def __init__(self, values: dict[str, np.ndarray], inputs: ModelInputs) -> None:
        self.values = values
        self.inputs = inputs
        self.n_samples = len(next(iter(values.values()))) if values else 1

    def __getitem__(self, ref: str) -> np.ndarray:
        return self.values[ref]

    def unit(self, ref: str) -> str:
        return self.inputs.estimates[ref][1]

    def years(self, ref: str) -> np.ndarray:
        """A duration in years, whatever unit its source reported it in."""
        return self.values[ref] * TIME_UNIT_YEARS[self.unit(ref)]

    def per_year(self, ref: str) -> np.ndarray:
        """A price per period ("month", "6 weeks") as a cost per year."""
        item = self.inputs.evidence[ref].value
        period = period_in_years(item.per or "")
        if period is None:
            raise InputError(f"{ref}: priced per {item.per!r}, which is not a period; give 'every' with it")
        return self.values[ref] / period
