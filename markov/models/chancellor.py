"""Chancellor et al. (1997) HIV model, as in Briggs, Claxton & Sculpher (2006), ch. 2 and 4.

The textbook validation case: four states (A, B, C = AIDS, D = death), annual cycles
over 20 years, zidovudine monotherapy against zidovudine plus lamivudine, whose relative
risk applies to every transition out of a state for the first two years. The model is
data for the ``markov`` structure (``analyses/chancellor.yaml``, model files
``params/chancellor/``, evidence ``params/evidence/chancellor_1997.yaml``); this module
keeps the original API, an independent implementation with its own PSA draws, on inputs
built from those files (:func:`load_inputs`) or read from a file in its own format.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt, ValidationError

from .._reading import read_yaml
from .._validate import InputError, validation_error
from ..engine import run_markov
from ..grid import DAYS_PER_YEAR, TimeGrid
from ..inputs.evidence import EvidenceLibrary
from ..inputs.load import inputs_from_settings
from ..outcomes.accumulate import accumulate

STRATEGIES = ("monotherapy", "combination")
STATES = ("A", "B", "C", "D")
ALIVE = np.array([1.0, 1.0, 1.0, 0.0])
#: The evidence file, perspective and population of the shipped model files.
SOURCE, PERSPECTIVE, POPULATION = "chancellor_1997", "uk_public_finance", "hiv"
#: The textbook counts state membership at the end of each cycle.
COUNTING = "end"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


LivingState = Literal["A", "B", "C"]
State = Literal["A", "B", "C", "D"]


class _CostSet(_Strict):
    values: dict[LivingState, NonNegativeFloat]
    source: str
    distribution: str


class _Priced(_Strict):
    value: NonNegativeFloat
    source: str


class _TransitionCounts(_Strict):
    source: str
    distribution: str
    rows: dict[LivingState, dict[State, NonNegativeInt]]


class _RelativeRisk(_Strict):
    value: float = Field(gt=0)
    ci95: tuple[float, float]
    applies_to: str
    source: str
    distribution: str


class _Settings(_Strict):
    cycle_length_years: float = Field(gt=0)
    horizon_years: float = Field(gt=0)
    combination_years: int = Field(ge=0)
    discount_rate_costs: float = Field(ge=0)
    discount_rate_life_years: float = Field(ge=0)
    counting: str
    source: str


class ChancellorInputs(_Strict):
    """Inputs of the Chancellor model (:func:`load_inputs`)."""

    currency: str
    price_year: str
    states: list[str]
    transition_counts: _TransitionCounts
    annual_state_costs: dict[str, _CostSet]
    annual_drug_costs: dict[str, _Priced]
    relative_risk: _RelativeRisk
    settings: _Settings


def load_inputs(path: str | Path | None = None) -> ChancellorInputs:
    """Read and validate the inputs: from a file in the format of :class:`ChancellorInputs`
    or, by default, from the shipped model files and their evidence (:func:`shipped_inputs`)."""
    if path is None:
        return shipped_inputs()
    try:
        return ChancellorInputs.model_validate(read_yaml(path, "inputs file"))
    except ValidationError as error:
        raise validation_error(str(path), error) from None


def shipped_inputs() -> ChancellorInputs:
    """The inputs as the shipped model files ``params/chancellor/`` and the evidence file
    ``chancellor_1997`` give them, so that every number has one home: the analysis runs
    on the grid the evidence states (cycle length, horizon) with the textbook's counting."""
    evidence = EvidenceLibrary.load()

    def value(name: str) -> float:
        return evidence[f"{SOURCE}.{name}"].value.value

    inputs = inputs_from_settings({"name": "chancellor", "model": "chancellor", "structure": "markov",
                                   "perspective": PERSPECTIVE, "horizon_years": value("horizon_years"),
                                   "cycle_length_days": value("cycle_length_years") * DAYS_PER_YEAR,
                                   "cycle_correction": COUNTING}, "the shipped Chancellor model", Path.cwd())
    population = inputs.populations[POPULATION]
    letter = dict(zip(population.states, STATES, strict=True))
    treated = population.strategies["combination"].periods[0]
    counts = population.transitions[treated.transitions].counts
    perspective = inputs.perspective

    def number(ref: str) -> float:
        return inputs.evidence[ref].value.value

    def where(*refs: str) -> str:  # the one home of these values, with their sources
        return f"params/evidence/{SOURCE}.yaml: {', '.join(ref.partition('.')[2] for ref in refs)}"

    count_refs = [ref for row in counts.values() for ref in row.values()]
    cost_sets: dict[str, dict] = {}
    for state, items in perspective.state_costs.items():
        for item in items:
            entry = cost_sets.setdefault(item.label.lower().replace(" ", "_"), {
                "values": {}, "refs": [], "distribution": "gamma with standard error equal to the mean"})
            entry["values"][letter[state]] = number(item.cost)
            entry["refs"].append(item.cost)
    for entry in cost_sets.values():
        entry["source"] = where(*entry.pop("refs"))
    return ChancellorInputs(
        currency=perspective.currency, price_year=perspective.price_year, states=list(STATES),
        transition_counts={
            "source": where(*count_refs), "distribution": "Dirichlet(counts) per row",
            "rows": {letter[origin]: {letter[target]: number(ref) for target, ref in row.items()}
                     for origin, row in counts.items()}},
        annual_state_costs=cost_sets,
        annual_drug_costs={name: {"value": number(inputs.treatments[name].cost_per_period[0].cost),
                                  "source": where(inputs.treatments[name].cost_per_period[0].cost)}
                           for name in ("zidovudine", "lamivudine")},
        relative_risk={"value": number(treated.relative_risk), "ci95": inputs.evidence[treated.relative_risk].value.ci95,
                       "applies_to": "every transition out of a state (the remainder stays), combination therapy, "
                                     "first combination_years cycles",
                       "source": where(treated.relative_risk),
                       "distribution": str(inputs.distributions[treated.relative_risk])},
        settings={"cycle_length_years": value("cycle_length_years"), "horizon_years": value("horizon_years"),
                  "combination_years": number(treated.until),
                  "discount_rate_costs": number(perspective.discount_rate_costs),
                  "discount_rate_life_years": number(perspective.discount_rate_effects),
                  "counting": COUNTING, "source": where(f"{SOURCE}.horizon_years")},
    )


@dataclass(frozen=True)
class Parameters:
    """One set of model parameters per sample (n = 1 for the base case)."""

    transition: np.ndarray  # (n, 4, 4) monotherapy transition matrix
    relative_risk: np.ndarray  # (n,)
    state_costs: np.ndarray  # (n, 4) annual direct medical + community care costs

    @property
    def n_samples(self) -> int:
        return self.relative_risk.shape[0]


def _count_matrix(inputs: ChancellorInputs) -> np.ndarray:
    counts = np.zeros((4, 4))
    counts[3, 3] = 1.0
    for origin, row in inputs.transition_counts.rows.items():
        for target, count in row.items():
            counts[STATES.index(origin), STATES.index(target)] = count
    return counts


def _state_cost_means(inputs: ChancellorInputs) -> np.ndarray:
    return np.array(
        [[cost_set.values.get(state, 0.0) for state in STATES] for cost_set in inputs.annual_state_costs.values()]
    )


def base_case(inputs: ChancellorInputs) -> Parameters:
    """Point estimates: transition probabilities are the observed proportions."""
    counts = _count_matrix(inputs)
    return Parameters(
        transition=(counts / counts.sum(axis=1, keepdims=True))[None],
        relative_risk=np.array([inputs.relative_risk.value]),
        state_costs=_state_cost_means(inputs).sum(axis=0)[None],
    )


def sample(inputs: ChancellorInputs, n_samples: int, seed: int | np.random.SeedSequence) -> Parameters:
    """PSA draws as in Briggs et al. (2006) ex. 4.7: Dirichlet rows, log-normal RR,
    gamma costs with standard error equal to the mean."""
    if int(n_samples) != n_samples or n_samples < 1:
        raise InputError(f"n_samples is {n_samples!r}: must be a whole number of at least 1")
    rng = np.random.default_rng(seed)
    counts = _count_matrix(inputs)
    transition = np.zeros((n_samples, 4, 4))
    transition[:, 3, 3] = 1.0
    for i in range(3):
        observed = counts[i, i:]
        transition[:, i, i:] = rng.dirichlet(observed, size=n_samples)
    low, high = inputs.relative_risk.ci95
    log_se = (np.log(high) - np.log(low)) / (2 * 1.959963984540054)
    relative_risk = np.exp(rng.normal(np.log(inputs.relative_risk.value), log_se, size=n_samples))
    means = _state_cost_means(inputs)
    state_costs = rng.gamma(1.0, means[None], size=(n_samples,) + means.shape).sum(axis=1)
    return Parameters(transition, relative_risk, state_costs)


def evaluate(parameters: Parameters, inputs: ChancellorInputs) -> pd.DataFrame:
    """Cost and life-years per person for each strategy and sample.

    Returns a long table with columns ``sample``, ``strategy``, ``cost``,
    ``life_years``.
    """
    settings = inputs.settings
    grid = TimeGrid.from_horizon(settings.horizon_years, settings.cycle_length_years)
    n, n_cycles = parameters.n_samples, grid.n_cycles
    on_combination = np.arange(n_cycles) * settings.cycle_length_years < settings.combination_years
    azt = inputs.annual_drug_costs["zidovudine"].value
    lamivudine = inputs.annual_drug_costs["lamivudine"].value
    initial = np.array([1.0, 0.0, 0.0, 0.0])

    mono = parameters.transition
    off_diagonal = 1.0 - np.eye(4)
    reduced = mono * off_diagonal * parameters.relative_risk[:, None, None]
    reduced += np.eye(4) * (1.0 - reduced.sum(axis=2))[:, :, None]
    matrices = {
        "monotherapy": (mono[:, None], np.zeros(n_cycles, dtype=np.intp)),
        "combination": (np.stack([mono, reduced], axis=1), on_combination.astype(np.intp)),
    }
    drug_costs = {"monotherapy": np.full(n_cycles, azt), "combination": azt + lamivudine * on_combination}

    rows = []
    for strategy in STRATEGIES:
        transition, cycle_matrix = matrices[strategy]
        trace = run_markov(transition, initial, state_names=STATES, cycle_matrix=cycle_matrix)
        # state costs vary by sample, drug costs by cycle: two categories, each on a fast path
        categories = [
            (parameters.state_costs[:, None, :] * ALIVE, settings.discount_rate_costs),
            (np.multiply.outer(drug_costs[strategy], ALIVE), settings.discount_rate_costs),
            (ALIVE, settings.discount_rate_life_years),
        ]
        state_cost, drug_cost, life_years = (
            accumulate(trace, grid, per_year=values, discount_rate=rate, method=settings.counting).sum(axis=1)
            for values, rate in categories
        )
        cost = state_cost + drug_cost
        rows.append(pd.DataFrame({"sample": np.arange(n), "strategy": strategy, "cost": cost, "life_years": life_years}))
    return pd.concat(rows, ignore_index=True)


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Mean cost and life-years per strategy, with the ICER of combination therapy."""
    means = results.groupby("strategy", sort=False)[["cost", "life_years"]].mean()
    delta = means.loc["combination"] - means.loc["monotherapy"]
    means["incremental_cost"] = [np.nan, delta["cost"]]
    means["incremental_life_years"] = [np.nan, delta["life_years"]]
    means["icer_per_life_year"] = [np.nan, delta["cost"] / delta["life_years"]]
    return means
