"""Deterministic sensitivity analysis: one-way (tornado), two-way, scenarios, threshold price.

Every analysis here evaluates the model at chosen input values, the others at their
point estimates. One-way and two-way analyses put all their rows into one parameter
set and evaluate the model once (it is vectorised over samples).

Ranges (:func:`input_ranges`): an input's low and high values are its evidence
``range`` where the evidence file gives one, otherwise the 2.5% and 97.5% quantiles
of its PSA distribution (for a log-normal from a 95% CI, the CI itself; for a value
drawn jointly, of its marginal, the others of its block at their estimates; for a value
drawn as another minus a decrement, that value's estimate minus the decrement's 97.5% and
2.5% quantiles). Fixed inputs without a range, the willingness-to-pay thresholds, inputs
no strategy uses and values the model does not read (a Dirichlet's concentration or its
rest, e.g. no further treatment) are not varied. A second-line share is capped where its
high value would make its strategy's shares sum above 1 (the share with no second line
takes up the change); the cap is reported. A value drawn from another follows it in the
other's rows (:meth:`~markov.inputs.ModelInputs.with_values`).

ICER tornados are honest about dominance: where an input value moves the intervention
out of the north-east quadrant the ICER is not drawn as a number but as a labelled bar
("dominated", "dominant", or "SW quadrant" — cheaper and less effective, where a
higher ICER is better, so it cannot share an axis with north-east ICERs).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize

from . import cea
from .._validate import InputError
from ..inputs.evidence import Decrement, JointDraw
from ..inputs.structures import first_treatments, share_groups
from ..models import build_model, per_sample_table, results_table
from ..inputs.load import ModelInputs
from ..uncertainty import Fixed

LOW_QUANTILE, HIGH_QUANTILE = 0.025, 0.975

#: Tornado outcome: incremental net monetary benefit at a wtp, or the ICER.
Measure = Literal["nmb", "icer"]


def input_ranges(inputs: ModelInputs, references: Sequence[str] | None = None) -> pd.DataFrame:
    """Low and high values of the inputs a one-way analysis varies.

    Returns
    -------
    DataFrame
        Columns ``reference``, ``label``, ``base``, ``low``, ``high``, ``basis``
        ("evidence range" or "2.5%/97.5% quantiles of <distribution>"), ``note``.
    """
    thresholds = set(inputs.perspective.thresholds)
    chosen = [ref for ref in inputs.references if _read_by_model(inputs, ref)] if references is None \
        else list(references)
    unknown = [ref for ref in chosen if ref not in inputs.uses]
    if unknown:
        raise InputError(f"{unknown[0]!r}: not an input of the {inputs.analysis.name} analysis")
    caps = _share_caps(inputs)
    rows = []
    for ref in chosen:
        item, distribution = inputs.evidence[ref].value, inputs.distributions[ref]
        if ref in thresholds:
            continue
        if item.range is not None and item.range[0] < item.range[1]:
            low, high, basis = *item.range, "evidence range"
        elif isinstance(distribution, JointDraw):
            low, high = (float(v) for v in distribution.one_at_a_time(ref, [LOW_QUANTILE, HIGH_QUANTILE]))
            basis = f"2.5%/97.5% quantiles of its marginal in {distribution}, the others at their estimates"
        elif isinstance(distribution, Decrement):
            source = inputs.evidence[distribution.source].value.value
            if distribution.fixed:
                continue
            low, high = (source - float(v) for v in distribution.decrement.ppf([HIGH_QUANTILE, LOW_QUANTILE]))
            basis = (f"{distribution.source} at its estimate minus the 97.5%/2.5% quantiles of the decrement "
                     f"{distribution.decrement}")
        elif not isinstance(distribution, Fixed):
            low, high = (float(v) for v in distribution.ppf([LOW_QUANTILE, HIGH_QUANTILE]))
            basis = f"2.5%/97.5% quantiles of {distribution}"
        else:
            continue
        note = ""
        if ref in caps and high > caps[ref]:
            high, note = caps[ref], f"high value capped at {caps[ref]:g} so that second-line shares sum to 1"
        rows.append({"reference": ref, "label": inputs.label(ref), "base": item.value, "low": low, "high": high,
                     "basis": basis, "note": note})
    return pd.DataFrame(rows, columns=["reference", "label", "base", "low", "high", "basis", "note"])


def _read_by_model(inputs: ModelInputs, ref: str) -> bool:
    """Whether a one-way analysis varies ``ref`` by default: a strategy uses it, and the
    model reads it, or a value it reads is drawn from it (not a Dirichlet's concentration,
    nor the rest of a Dirichlet over shares, which no strategy reads)."""
    if ref in inputs.unused or inputs.evidence.is_concentration(ref):
        return False
    places = inputs.uses[ref]
    return any(place.startswith(("treatments", "populations", "perspectives", "utilities")) for place in places) \
        or any(isinstance(d, Decrement) and d.source == ref for d in inputs.distributions.values()) \
        or any(block.parent == ref for block in inputs.joint)


def _share_caps(inputs: ModelInputs) -> dict[str, float]:
    """For each share of a group of patients (the options of a line …), the largest value
    that keeps every group using it within a total of 1 with the others at their point
    estimates (:func:`markov.inputs.structures.share_groups`)."""
    caps: dict[str, float] = {}
    for population in inputs.populations.values():
        for strategy in population.strategies.values():
            for group in share_groups(strategy):
                for ref in group:
                    others = sum(inputs.evidence[o].value.value for o in group if o != ref)
                    caps[ref] = min(caps.get(ref, 1.0), 1.0 - others)
    return caps


def _evaluate(inputs: ModelInputs, values: dict[str, np.ndarray], n: int) -> pd.DataFrame:
    """Per-row results of ``n`` rows: :func:`per_sample_table` with ``row`` for ``sample``
    and the strategy's ``label``."""
    table = per_sample_table(build_model(inputs).evaluate(inputs.with_values(values, n)))
    labels = {(p, s): strategy.label for p, population in inputs.populations.items()
              for s, strategy in population.strategies.items()}
    table.insert(2, "label", [labels[key] for key in zip(table["population"], table["strategy"], strict=True)])
    return table.rename(columns={"sample": "row"})


def one_way(inputs: ModelInputs, ranges: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each input at its low and at its high value, the others at their point estimates.

    Parameters
    ----------
    inputs : ModelInputs
    ranges : DataFrame, optional
        As returned by :func:`input_ranges` (by default, every input with a range).

    Returns
    -------
    DataFrame
        One row per input, level ("base", "low", "high"), population and strategy:
        ``reference``, ``level``, ``input_value``, ``population``, ``strategy``,
        ``label``, ``cost``, ``life_years``, ``qalys``, ``cost_<category>``. The base
        rows have reference "".
    """
    ranges = input_ranges(inputs) if ranges is None else ranges
    k = len(ranges)
    n = 1 + 2 * k
    values = {ref: np.full(n, inputs.evidence[ref].value.value) for ref in ranges["reference"]}
    for j, row in enumerate(ranges.itertuples()):
        values[row.reference][1 + 2 * j] = row.low
        values[row.reference][2 + 2 * j] = row.high
    table = _evaluate(inputs, values, n)
    rows = np.concatenate([[""], np.repeat(ranges["reference"].to_numpy(dtype=object), 2)])
    levels = np.array(["base"] + ["low", "high"] * k, dtype=object)
    inputs_at = np.concatenate([[np.nan], np.column_stack([ranges["low"], ranges["high"]]).ravel()])
    table.insert(0, "reference", rows[table["row"]])
    table.insert(1, "level", levels[table["row"]])
    table.insert(2, "input_value", inputs_at[table["row"]])
    return table.drop(columns="row")


def _quadrant_outcome(delta_cost: float, delta_effect: float) -> tuple[float, str]:
    """ICER and note: a number only in the north-east quadrant."""
    if delta_effect > 0 and delta_cost > 0:
        return delta_cost / delta_effect, ""
    if delta_effect >= 0 and delta_cost <= 0:
        return np.nan, "dominant"
    if delta_effect <= 0 and delta_cost >= 0:
        return np.nan, "dominated"
    return np.nan, f"SW quadrant: saves {-delta_cost / -delta_effect:,.0f} per QALY lost"


def tornado_table(one_way_results: pd.DataFrame, ranges: pd.DataFrame, population: str, intervention: str,
                  comparator: str, *, measure: Measure = "nmb", wtp: float | None = None) -> pd.DataFrame:
    """The tornado of ``intervention`` vs ``comparator`` in ``population``.

    Parameters
    ----------
    one_way_results, ranges : DataFrame
        From :func:`one_way` and :func:`input_ranges`.
    measure : {"nmb", "icer"}
        Incremental net monetary benefit at ``wtp`` (recommended: defined everywhere) or
        the ICER (labelled, not plotted, outside the north-east quadrant).
    wtp : float
        Willingness to pay per QALY; required for "nmb".

    Returns
    -------
    DataFrame
        ``reference``, ``parameter`` (label), ``low_input``, ``high_input``,
        ``outcome_low``, ``outcome_high``, ``note_low``, ``note_high``, ``swing``, and
        the base-case outcome in the attribute ``attrs["base"]`` (with its note in
        ``attrs["base_note"]``). Sorted by swing, largest first (NaN swings first).
    """
    if measure not in ("nmb", "icer"):
        raise InputError(f"measure is {measure!r}: must be 'nmb' or 'icer'")
    if measure == "nmb" and (wtp is None or not np.isfinite(wtp) or wtp < 0):
        raise InputError(f"wtp is {wtp!r}: the NMB tornado needs a willingness to pay of 0 or more")
    rows = one_way_results[one_way_results["population"] == population]
    for role, name in (("intervention", intervention), ("comparator", comparator)):
        if name not in set(rows["strategy"]):
            raise InputError(f"{role} {name!r}: not a strategy of population {population!r} "
                             f"(strategies: {', '.join(dict.fromkeys(rows['strategy']))})")
    key = ["reference", "level"]
    a = rows[rows["strategy"] == intervention].set_index(key)
    b = rows[rows["strategy"] == comparator].set_index(key)
    delta_cost, delta_effect = a["cost"] - b["cost"], a["qalys"] - b["qalys"]

    def outcome(index) -> tuple[float, str]:
        if measure == "nmb":
            return float(wtp * delta_effect[index] - delta_cost[index]), ""
        return _quadrant_outcome(float(delta_cost[index]), float(delta_effect[index]))

    base, base_note = outcome(("", "base"))
    table = []
    for row in ranges.itertuples():
        low, note_low = outcome((row.reference, "low"))
        high, note_high = outcome((row.reference, "high"))
        table.append({"reference": row.reference, "parameter": row.label, "low_input": _value_text(row.low),
                      "high_input": _value_text(row.high), "outcome_low": low, "outcome_high": high,
                      "note_low": note_low, "note_high": note_high,
                      "swing": abs(high - low) if np.isfinite(low) and np.isfinite(high) else np.inf})
    frame = pd.DataFrame(table)
    if not frame.empty:
        frame = frame.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    frame.attrs.update(base=base, base_note=base_note, measure=measure, wtp=wtp)
    return frame


def _value_text(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def two_way(inputs: ModelInputs, x: str, y: str, *, points: int = 11, ranges: pd.DataFrame | None = None
            ) -> pd.DataFrame:
    """Inputs ``x`` and ``y`` over a ``points × points`` grid between their low and high
    values, the others at their point estimates.

    Returns
    -------
    DataFrame
        ``x_value``, ``y_value``, ``population``, ``strategy``, ``label``, ``cost``,
        ``life_years``, ``qalys``; ``attrs`` holds ``x``, ``y`` and their base values.
    """
    if x == y:
        raise InputError(f"two-way analysis of {x!r} with itself: choose two different inputs")
    if isinstance(points, bool) or int(points) != points or points < 2:
        raise InputError(f"points is {points!r}: must be a whole number of at least 2")
    ranges = input_ranges(inputs, [x, y]) if ranges is None else ranges
    bounds = ranges.set_index("reference")
    for ref in (x, y):
        if ref not in bounds.index:
            raise InputError(f"{ref!r}: has no range or distribution to vary over")
    xs = np.linspace(bounds.at[x, "low"], bounds.at[x, "high"], int(points))
    ys = np.linspace(bounds.at[y, "low"], bounds.at[y, "high"], int(points))
    grid_x, grid_y = np.meshgrid(xs, ys)  # row j, column i: (xs[i], ys[j])
    n = grid_x.size
    table = _evaluate(inputs, {x: grid_x.ravel(), y: grid_y.ravel()}, n)
    table.insert(0, "x_value", grid_x.ravel()[table["row"]])
    table.insert(1, "y_value", grid_y.ravel()[table["row"]])
    table = table.drop(columns="row")
    table.attrs.update(x=x, y=y, x_base=inputs.evidence[x].value.value, y_base=inputs.evidence[y].value.value)
    return table


def two_way_grid(table: pd.DataFrame, population: str, intervention: str, comparator: str, wtp: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """From :func:`two_way`: x values, y values, incremental NMB of ``intervention`` vs
    ``comparator`` (len(y), len(x)), the index of the strategy with the highest NMB at
    each point (len(y), len(x)), and the strategy labels that index refers to."""
    rows = table[table["population"] == population].copy()
    rows["nmb"] = wtp * rows["qalys"] - rows["cost"]
    nmb = rows.pivot_table(index=["y_value", "x_value"], columns="strategy", values="nmb", sort=True)
    strategies = list(dict.fromkeys(rows["strategy"]))
    labels = list(dict.fromkeys(rows["label"]))
    xs, ys = np.unique(rows["x_value"]), np.unique(rows["y_value"])
    incremental = (nmb[intervention] - nmb[comparator]).to_numpy().reshape(ys.size, xs.size)
    best = np.argmax(nmb[strategies].to_numpy(), axis=1).reshape(ys.size, xs.size)
    return xs, ys, incremental, best, labels


def run_scenarios(inputs: ModelInputs, names: Sequence[str] | None = None) -> pd.DataFrame:
    """The base case and each scenario (:attr:`Analysis.scenarios`) in one table.

    Returns
    -------
    DataFrame
        One row per scenario, population and strategy: ``scenario``, ``scenario_label``,
        ``population``, ``strategy``, ``label``, ``cost``, ``life_years``, ``qalys``,
        and the incremental analysis within the scenario (``incremental_cost``,
        ``incremental_qalys``, ``icer_per_qaly``, ``status``).
    """
    scenarios = inputs.analysis.scenarios or {}
    chosen = list(scenarios) if names is None else list(names)
    frames = []
    for name in ["base_case", *chosen]:
        scenario_inputs = inputs if name == "base_case" else inputs.scenario(name)
        label = "Base case" if name == "base_case" else scenarios[name].label
        results = results_table(build_model(scenario_inputs).evaluate(scenario_inputs.base_case()))
        for _, rows in results.groupby("population", sort=False):
            analysis = cea.incremental_analysis(rows["cost"].to_numpy(), rows["qalys"].to_numpy(),
                                                list(rows["strategy"]))
            merged = rows[["population", "strategy", "label", "cost", "life_years", "qalys"]].merge(
                analysis[["strategy", "incremental_cost", "incremental_effect", "icer", "status"]], on="strategy")
            merged = merged.rename(columns={"incremental_effect": "incremental_qalys", "icer": "icer_per_qaly"})
            merged.insert(0, "scenario", name)
            merged.insert(1, "scenario_label", label)
            frames.append(merged)
    return pd.concat(frames, ignore_index=True)


def threshold_price(inputs: ModelInputs, price: str, population: str, intervention: str, comparator: str,
                    wtp: float, *, tolerance: float = 0.01) -> dict:
    """The value of the price input ``price`` at which ``intervention`` and ``comparator``
    have equal net monetary benefit at ``wtp`` (the intervention's ICER against the
    comparator equals ``wtp``), by Brent's root-finding on the incremental NMB.

    Returns
    -------
    dict
        ``price`` (reference), ``base_price``, ``threshold_price`` (NaN with a ``note``
        when no non-negative price gives equal NMB), ``ratio_to_base``, ``wtp``,
        ``direction`` ("maximum price" when a higher price lowers the intervention's
        net benefit, as usual), ``best_strategy_at_threshold_price`` (the strategy of
        the population with the highest NMB there: the threshold is against the
        comparator, and another strategy may still be better — the note says so),
        ``evaluations``.
    """
    if price not in inputs.uses:
        raise InputError(f"price {price!r}: not an input of the {inputs.analysis.name} analysis")
    item = inputs.evidence[price].value
    if item.unit != "money":
        raise InputError(f"price {price!r}: unit is {item.unit!r}, a threshold analysis varies a money input")
    if population not in inputs.populations:
        raise InputError(f"population {population!r}: not in the analysis ({', '.join(inputs.populations)})")
    strategies = inputs.populations[population].strategies
    for role, name in (("intervention", intervention), ("comparator", comparator)):
        if name not in strategies:
            raise InputError(f"{role} {name!r}: not a strategy of population {population!r}")
    model = build_model(inputs)
    calls, qaly_gain, best = 0, np.nan, ""

    def incremental_nmb(value: float) -> float:
        nonlocal calls, qaly_gain, best
        calls += 1
        results = {r.strategy: r for r in model.evaluate(inputs.with_values({price: value}, 1))
                   if r.population == population}
        nmb = {name: wtp * r.qalys.sum() - r.total_cost[0] for name, r in results.items()}
        best = strategies[max(nmb, key=nmb.get)].label
        qaly_gain = float(results[intervention].qalys.sum() - results[comparator].qalys.sum())
        return float(nmb[intervention] - nmb[comparator])

    base = item.value
    result = {"price": price, "label": inputs.label(price), "population": population, "intervention": intervention,
              "comparator": comparator, "wtp": wtp, "base_price": base, "threshold_price": np.nan,
              "ratio_to_base": np.nan, "direction": "", "best_strategy_at_threshold_price": "", "note": ""}
    at_zero, at_base = incremental_nmb(0.0), incremental_nmb(base)
    slope = at_base - at_zero  # the incremental NMB is linear in a price
    root = None
    if slope == 0:
        result["note"] = "the price does not change the incremental net benefit"
    elif slope > 0 and at_zero >= 0:
        result["note"] = "cost-effective against the comparator at any price"
    elif slope < 0 and at_zero < 0:
        result["note"] = ("not cost-effective even at a price of zero" if qaly_gain > 0 else
                          "no more effective than the comparator: no price makes it cost-effective")
    elif np.sign(at_zero) != np.sign(at_base) or at_base == 0:
        root = optimize.brentq(incremental_nmb, 0.0, base, xtol=tolerance) if at_base != 0 else base
    else:  # the sign changes above the base price
        high = 2.0 * base
        while np.sign(incremental_nmb(high)) == np.sign(at_base) and high < 1e6 * base:
            high *= 2.0
        root = optimize.brentq(incremental_nmb, base, high, xtol=tolerance)
    if root is not None:
        incremental_nmb(root)  # which strategy is best there
        result.update(threshold_price=root, ratio_to_base=root / base,
                      direction="maximum price" if slope < 0 else "minimum price",
                      best_strategy_at_threshold_price=best)
        if best != strategies[intervention].label:
            result["note"] = (f"at this price {best} still has a higher NMB than {strategies[intervention].label}: "
                              "the threshold is against the comparator only")
    result["evaluations"] = calls
    return result


def intervention_prices(inputs: ModelInputs, population: str, strategy: str, comparator: str | None = None
                        ) -> list[str]:
    """The price inputs of the drugs a strategy starts with (its first line, first state or
    own treatments: :func:`~markov.inputs.structures.first_treatments`) that ``comparator``
    does not start with: the prices a threshold analysis varies."""
    strategies = inputs.populations[population].strategies
    shared = set() if comparator is None else _drug_prices(inputs, first_treatments(strategies[comparator]))
    return [ref for ref in dict.fromkeys(_drug_prices(inputs, first_treatments(strategies[strategy])))
            if ref not in shared]


def _drug_prices(inputs: ModelInputs, treatments: list[str]) -> list[str]:
    prices = inputs.perspective.drug_prices
    found = []
    for name in treatments:
        treatment = inputs.treatments[name]
        found += [ref for component in treatment.regimen for ref in prices.get(component.drug, [])]
        found += [item.cost for item in treatment.cost_per_period]
    return found
