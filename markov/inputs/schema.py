"""Schemas of the model files every structure shares: treatments, costs, utilities, the
analysis settings and the fields they are made of (survival curves:
:mod:`markov.inputs.curves`).

Model files hold no bare numbers: every input is a reference ``"<evidence file>.<value>"``
into the evidence library (:mod:`markov.inputs.evidence`), so each number a model uses
has exactly one home with its source. What a reference must point at (a hazard ratio, a
duration, a price with its pack …) is checked when the analysis is loaded
(:mod:`markov.inputs.load`). Populations and strategies, whose shape depends on the model
structure, are in :mod:`markov.inputs.structures`.

Costs and utilities are keyed by *state*. A state of a model has a name and, from most to
least specific, the keys it is looked up by (:func:`lookup`): a second-line lenvatinib
state ``second_line_lenvatinib`` is looked up as ``second_line_lenvatinib``, then
``second_line``; so one utility can serve every option of a line and one option can still
have its own.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictFloat,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from .._validate import InputError
from ..survival import KaplanMeier
from ..survival.parametric import FAMILIES
from .money import Currency

if TYPE_CHECKING:
    from typing_extensions import Self

Ref = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_]+$")]
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Family = Literal[tuple(FAMILIES)]  # type: ignore[valid-type]
CycleCorrection = Literal["trapezoid", "life_table", "start", "end"]
Structure = Literal["sequencing", "partitioned_survival", "markov"]
TimeUnit = Literal["days", "weeks", "months", "years"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


T = TypeVar("T")


def lookup(table: Mapping[str, T], keys: Sequence[str], what: str) -> T:
    """The entry of ``table`` under the first of ``keys`` it has (a state's keys, most
    specific first), or an error naming every key that would do."""
    for key in keys:
        if key in table:
            return table[key]
    raise InputError(f"{what} has no entry for state {keys[0]!r}; give one under "
                     f"{' or '.join(repr(k) for k in keys)}")


def check_periods_end(periods: Sequence) -> None:
    """Periods that run one after another: every one but the last ends (``until``), the
    last runs on."""
    if periods[-1].until is not None or any(p.until is None for p in periods[:-1]):
        raise ValueError("periods: every period but the last needs 'until'; the last has none")


# ---------------------------------------------------------------------------------
# Survival targets (the curves themselves: markov.inputs.curves)
# ---------------------------------------------------------------------------------

class Landmark(_Strict):
    """Survival ``survival`` at time ``time`` (both references)."""

    time: Ref
    survival: Ref


@dataclass(frozen=True)
class Observed:
    """What loading adds to a :class:`SurvivalData`: the arm's Kaplan–Meier estimate in
    months, the follow-up to compare over in months, and the SHA-256 digest of the file read."""

    kaplan_meier: KaplanMeier
    follow_up_months: float
    digest: str


class PatientDataFile(_Strict):
    """An arm of a patient-level data file: a CSV with columns ``time`` (in ``time_unit``),
    ``event`` (1 event, 0 censored) and ``arm``. A relative ``file`` is looked for beside the
    analysis file, then in the model directory, then among the data shipped with markov
    (``params/``: ``ipd/<file>.csv``); :mod:`markov.inputs.patient_data` reads it."""

    file: str
    arm: str
    time_unit: TimeUnit
    # what loading made of the data (a fit's estimates, a Kaplan-Meier estimate): not a field,
    # so a specification written by hand has none and its content never changes with it
    _read: object = PrivateAttr(None)

    def _read_at_load(self, what: str):
        if self._read is None:
            raise InputError(f"{what} {self.file!r} (arm {self.arm!r}): the data are read when their analysis is "
                             "loaded (markov.inputs.load_analysis)")
        return self._read

    def _with_read(self, read: object) -> Self:
        copy = self.model_copy()
        copy._read = read
        return copy


class SurvivalData(PatientDataFile):
    """Patient-level survival a strategy's model should reproduce. The model is compared
    with its Kaplan–Meier estimate over ``follow_up`` (a duration; default: the arm's last
    event time)."""

    citation: str | None = None
    follow_up: Ref | None = None

    @property
    def observed(self) -> Observed:
        return self._read_at_load("no Kaplan–Meier estimate yet of")

    def with_observed(self, observed: Observed) -> SurvivalData:
        """A copy that holds the data read."""
        return self._with_read(observed)


class Targets(_Strict):
    """What the trial reported, for the figure and table of model against data: medians
    and landmarks, and the patient-level overall survival (``os_data``) when there is some."""

    source: str
    os_median: Ref | None = None
    pfs_median: Ref | None = None
    os_landmarks: list[Landmark] = Field(default_factory=list)
    pfs_landmarks: list[Landmark] = Field(default_factory=list)
    os_data: SurvivalData | None = None


# ---------------------------------------------------------------------------------
# Treatments
# ---------------------------------------------------------------------------------

class WeightBand(_Strict):
    """A dose for patients below a body weight (the last band has no limit)."""

    below_kg: Ref | None = None
    dose_mg: Ref


class DrugComponent(_Strict):
    """One drug of a regimen: a dose per administration, ``administrations`` times in
    each ``cycle_days``-day cycle."""

    drug: Name
    dose_mg: Ref | None = None
    dose_mg_per_kg: Ref | None = None
    dose_by_weight: list[WeightBand] | None = None
    administrations: Ref
    cycle_days: Ref

    @model_validator(mode="after")
    def _one_dose(self) -> DrugComponent:
        given = [self.dose_mg, self.dose_mg_per_kg, self.dose_by_weight]
        if sum(item is not None for item in given) != 1:
            raise ValueError("give exactly one of dose_mg, dose_mg_per_kg and dose_by_weight")
        if self.dose_by_weight is not None and (
            not self.dose_by_weight or self.dose_by_weight[-1].below_kg is not None
            or any(band.below_kg is None for band in self.dose_by_weight[:-1])
        ):
            raise ValueError("dose_by_weight: every band but the last needs below_kg; the last has none")
        return self


class Administration(_Strict):
    """A unit cost (named in the perspective's ``unit_costs``) per administration."""

    item: Name
    administrations: Ref
    cycle_days: Ref


class Procedure(_Strict):
    """A procedure (TACE session, RT course …): ``at_start`` sessions on entry to the
    line and, if ``every_days`` is given, one more every ``every_days`` while on
    treatment; ``share`` of patients receive it."""

    item: Name
    share: Ref | None = None
    at_start: Ref | None = None
    every_days: Ref | None = None

    @model_validator(mode="after")
    def _when(self) -> Procedure:
        if self.at_start is None and self.every_days is None:
            raise ValueError("a procedure needs at_start, every_days or both")
        return self


class RecurringCost(_Strict):
    """A cost over time: a price whose ``per`` is a period ("month", "6 weeks", "year"),
    or a unit cost repeated ``every``."""

    label: str
    cost: Ref
    every: Ref | None = None


class Treatment(_Strict):
    """What a treatment costs while a patient is on it. Drug acquisition comes from the
    ``regimen`` (dose, schedule and the perspective's pack prices) or, where a source
    gives a drug's cost per period instead of its dose, from ``cost_per_period``."""

    label: str
    regimen: list[DrugComponent] = Field(default_factory=list)
    cost_per_period: list[RecurringCost] = Field(default_factory=list)
    relative_dose_intensity: Ref | None = None
    administration: list[Administration] = Field(default_factory=list)
    procedures: list[Procedure] = Field(default_factory=list)
    adverse_events: dict[Name, Ref] = Field(default_factory=dict, description="grade 3-4 AE -> proportion of patients")


class TreatmentsFile(_Strict):
    treatments: dict[Name, Treatment]


class DrugTimeOnTreatment(_Strict):
    """One drug's own time on treatment within its regimen (``by_drug``): its own curve,
    maximum duration or treatment beyond progression; what it leaves out follows the
    line's :class:`TimeOnTreatment`."""

    curve: Name | None = None
    max_duration: Ref | None = None
    beyond_progression: bool | None = None

    @model_validator(mode="after")
    def _something_given(self) -> DrugTimeOnTreatment:
        if self.curve is None and self.max_duration is None and self.beyond_progression is None:
            raise ValueError("give curve, max_duration or beyond_progression; a drug with none of them follows the "
                             "line's time on treatment: leave it out of by_drug")
        return self


@dataclass(frozen=True)
class DrugCourse:
    """A drug's time on treatment, resolved: its curve (None: the line's progression-free
    curve), the maximum durations that stop it (the line's and its own) and whether it may
    go on after progression."""

    curve: str | None
    max_durations: tuple[str, ...]
    beyond_progression: bool


class TimeOnTreatment(_Strict):
    """Time on treatment: the line's progression-free curve (default) or its own curve,
    stopped at ``max_duration``, never longer than progression-free survival unless
    ``beyond_progression`` (then never longer than survival). ``by_drug`` gives a drug of
    the regimen its own (atezolizumab and bevacizumab stop at different times): each drug
    is costed on its own time on treatment, and the line's on-treatment state holds those
    on at least one drug of it. When anything is given, the line is two states, on and off
    treatment."""

    curve: Name | None = None
    max_duration: Ref | None = None
    beyond_progression: bool = False
    by_drug: dict[Name, DrugTimeOnTreatment] = Field(default_factory=dict)

    @field_validator("by_drug", mode="before")
    @classmethod
    def _none_is_empty(cls, value):
        return {} if value is None else value  # `by_drug: null` in an override removes every drug's own

    @property
    def given(self) -> bool:
        return (self.curve is not None or self.max_duration is not None or self.beyond_progression
                or bool(self.by_drug))

    @property
    def own_courses(self) -> bool:
        """Whether drugs are costed on their own time on treatment rather than on the
        on-treatment state: some drug has its own, or treatment goes on after progression."""
        return bool(self.by_drug) or any(self.for_drug(drug).beyond_progression for drug in (None, *self.by_drug))

    def for_drug(self, drug: str | None) -> DrugCourse:
        """The time on treatment of ``drug`` (None: of a drug without its own)."""
        own = self.by_drug.get(drug) if drug is not None else None
        if own is None:
            return DrugCourse(self.curve, tuple(ref for ref in (self.max_duration,) if ref), self.beyond_progression)
        beyond = self.beyond_progression if own.beyond_progression is None else own.beyond_progression
        return DrugCourse(own.curve or self.curve,
                          tuple(ref for ref in (self.max_duration, own.max_duration) if ref), beyond)

    @model_validator(mode="after")
    def _beyond_needs_a_curve(self) -> TimeOnTreatment:
        # the line's own course is checked here when no drug has its own, else for each drug
        # of the regimen left out of by_drug when the analysis is loaded
        for drug in self.by_drug or (None,):
            course = self.for_drug(drug)
            if course.beyond_progression and course.curve is None:
                place = "beyond_progression" if drug is None else f"by_drug.{drug}.beyond_progression"
                raise ValueError(f"{place} is true but no time-on-treatment curve is given for "
                                 f"{'the line' if drug is None else repr(drug)}: without one, time on treatment is "
                                 f"progression-free survival, which never goes beyond progression; give a curve")
        return self


# ---------------------------------------------------------------------------------
# Costs and utilities
# ---------------------------------------------------------------------------------

class OralWastage(_Strict):
    """Oral drugs dispensed one supply at a time (a pack, a 28- or 30-day fill), named with
    the days of treatment a supply covers (``supply_days``). A patient who stops a drug
    part-way through a supply wastes the rest of it: with ``half_supply_on_stopping`` each
    stop costs half a supply of the drug (its cost per year on treatment × supply_days / 2),
    the expected loss when stopping falls at random within a dispensing interval; ``none``
    counts no wastage (every tablet paid for is taken)."""

    method: Literal["half_supply_on_stopping", "none"] = "half_supply_on_stopping"
    supply_days: dict[Name, Ref] = Field(default_factory=dict, description="oral drug -> days one supply covers")

    @model_validator(mode="after")
    def _supplies_given(self) -> OralWastage:
        if self.method != "none" and not self.supply_days:
            raise ValueError(f"method {self.method!r} needs supply_days (drug -> days one supply covers); "
                             f"give them, or method: none")
        return self


class SeverityModifier(_Strict):
    """QALY weights by proportional and absolute QALY shortfall (the NICE severity
    modifier), step by step: weight ``weights[i]`` from proportional shortfall
    ``proportional_cutoffs[i]`` or absolute shortfall ``absolute_cutoffs[i]`` upwards, a
    shortfall equal to a cut-off included (cut-offs and weights ascending; weight 1 below
    the first step; the higher weight of the two measures applies)."""

    source: str = Field(description="where the cut-offs and weights come from")
    proportional_cutoffs: list[Ref] = Field(min_length=1)
    absolute_cutoffs: list[Ref] = Field(min_length=1)
    weights: list[Ref] = Field(min_length=1)

    @model_validator(mode="after")
    def _steps_match(self) -> SeverityModifier:
        if not len(self.proportional_cutoffs) == len(self.absolute_cutoffs) == len(self.weights):
            raise ValueError("give one proportional cut-off, one absolute cut-off and one weight per step (got "
                             f"{len(self.proportional_cutoffs)}, {len(self.absolute_cutoffs)} and {len(self.weights)})")
        return self


class Perspective(_Strict):
    label: str
    currency: Currency = Field(description="ISO 4217 code of every price of the perspective (GBP, USD, CAD ...)")
    price_year: str = Field(description="the year(s) of the prices, as they stand (no inflation is applied)")
    reference_case: str | None = Field(None, description="the HTA reference case the perspective follows")
    discount_rate_costs: Ref
    discount_rate_effects: Ref
    thresholds: list[Ref] = Field(min_length=1, description="willingness to pay per QALY")
    life_table: str | None = Field(None, description="general-population mortality (params/life_tables)")
    vial_sharing: bool = False
    oral_wastage: OralWastage | None = Field(None, description="oral drugs: the rest of a supply wasted on stopping")
    drug_prices: dict[Name, list[Ref]] = Field(default_factory=dict,
                                               description="drug -> the prices of its packs or vials")
    unit_costs: dict[Name, Ref] = Field(default_factory=dict)
    state_costs: dict[Name, list[RecurringCost]] = Field(
        default_factory=dict, description="costs of care per state, keyed by state or line (see lookup)")
    adverse_event_costs: dict[Name, Ref] = Field(default_factory=dict)
    terminal_care: Ref | None = Field(None, description="a one-off cost at death")
    discounts: dict[Name, Ref] = Field(
        default_factory=dict, description="drug -> confidential discount off its list price (a proportion; 0: list "
                                          "price), applied to drug acquisition only")
    severity_modifier: SeverityModifier | None = Field(None, description="QALY weights by QALY shortfall (NICE)")

    @model_validator(mode="after")
    def _discounted_drugs_priced(self) -> Perspective:
        unpriced = sorted(set(self.discounts) - set(self.drug_prices))
        if unpriced:
            raise ValueError(f"discounts: {', '.join(unpriced)} not priced in drug_prices; a discount is off a "
                             "drug's list price")
        return self


class CostsFile(_Strict):
    perspectives: dict[Name, Perspective]


class AdverseEventDisutility(_Strict):
    disutility: Ref
    duration: Ref


class GeneralPopulationUtility(_Strict):
    """EQ-5D of the general population by age and sex: u = intercept + male·[male] +
    age·a + age_squared·a²."""

    source: str
    intercept: Ref
    male: Ref
    age: Ref
    age_squared: Ref


class Utilities(_Strict):
    """Utility per year of each state (keyed by state or line, see :func:`lookup`), the
    one-off loss from grade 3-4 adverse events, and general-population norms for age
    adjustment and the cap."""

    by_state: dict[Name, Ref] = Field(min_length=1)
    adverse_events: AdverseEventDisutility | None = None
    general_population: GeneralPopulationUtility | None = None
    age_adjusted: bool = False
    cap_at_general_population: bool = False

    @model_validator(mode="after")
    def _needs_norms(self) -> Utilities:
        if (self.age_adjusted or self.cap_at_general_population) and self.general_population is None:
            raise ValueError("age adjustment and the cap need general_population utility norms")
        return self


class UtilitiesFile(_Strict):
    utilities: Utilities


# ---------------------------------------------------------------------------------
# Analysis settings
# ---------------------------------------------------------------------------------

_PERIOD = re.compile(r"^\s*(\d+(?:\.\d+)?)?\s*(day|week|month|year)s?\s*$")


class Scenario(_Strict):
    """A named alternative to the analysis: ``changes`` are merged into the analysis
    settings (any of its fields, e.g. ``cycle_length_days`` or ``overrides`` of the
    model files) and the result is validated like an analysis file."""

    label: str
    description: str = ""
    changes: dict = Field(min_length=1)


class ScenariosFile(_Strict):
    scenarios: dict[Name, Scenario]


def _number_or_fields(value):
    """A change of an evidence value: a number (not a boolean or text) or a mapping of fields."""
    if isinstance(value, bool) or not isinstance(value, (int, float, dict)):
        raise ValueError(f"must be a valid number (the new estimate) or a mapping of the value's fields, "  # noqa: TRY004
                         f"not a {type(value).__name__}")  # (pydantic reports a ValueError as the field's error)
    return value


class Analysis(_Strict):
    """One analysis: which model files, structure, perspective and populations, on which
    grid. Every field has a default (the embedded base case). ``overrides`` are merged
    into the model files (e.g. another survival family for a scenario); ``strategies``
    replaces a population's strategies outright (a structure's strategies have their own
    shape, :mod:`markov.inputs.structures`)."""

    name: str = "hcc_base_case"
    description: str = ""
    model: str = Field("hcc", description="the model files: a directory shipped in params/ or a path")
    structure: Structure = "sequencing"
    perspective: Name = "us_payer"
    populations: list[Name] | None = Field(None, min_length=1,
                                           description="the populations to run; left out: every population")
    cycle_length_days: StrictFloat = Field(7.0, ge=1, le=366)
    horizon_years: StrictFloat = Field(20.0, gt=0, le=100)
    cycle_correction: CycleCorrection = "trapezoid"
    psa_samples: StrictInt = Field(0, ge=0)
    seed: StrictInt = Field(1, ge=0)
    evidence_directories: list[str] = Field(default_factory=list)
    overrides: dict = Field(default_factory=dict)
    values: dict[Ref, Annotated[object, AfterValidator(_number_or_fields)]] = Field(
        default_factory=dict, description="evidence values changed for this analysis, validated like the evidence "
                                          "files: a number replaces the value, a mapping the fields it gives")
    strategies: dict[Name, dict] | None = Field(
        None, description="population -> its strategies, replacing those of the model files")
    scenarios: dict[Name, Scenario] | None = Field(
        None, description="scenario analyses; by default those shipped with the model files")
    sequences: dict | None = Field(
        None, description="rules of a search over treatment sequences (markov.inputs.sequences.SequenceRules)")


def period_in_years(text: str) -> float | None:
    """Years in a period such as "month", "6 weeks" or "year"; None if ``text`` is not one."""
    match = _PERIOD.match(text)
    if match is None:
        return None
    count = float(match.group(1) or 1.0)
    return count * {"day": 1 / 365.25, "week": 7 / 365.25, "month": 1 / 12, "year": 1.0}[match.group(2)]
