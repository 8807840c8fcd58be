"""What the sequencing model's fast paths must keep (on the shipped HCC analysis).

* A sample's results do not depend on the other samples evaluated with it, bit for bit
  (on the shipped weekly grid, where the convolutions go through the FFT).
* Best supportive care fed by the first line and every second-line option at once equals
  the share-weighted sum of one sequence per option (the model is linear in the cohort).
* The compiled general-population floor is the vectorised formula it replaced: the same
  shares and counts bit for bit, the curve to rounding (it starts again from the given
  curve where the floor first changes a cycle).
* Values by cycle are accumulated over traces of any memory layout.
* A time on treatment capped by its progression-free curve is the curve itself where it
  is nowhere above it, else the elementwise minimum, whichever check decides it.
* Post-progression care worked out by recursions over the lines gives the results of the
  convolution of its entries, to rounding.
"""
import numpy as np
import pandas as pd
import pytest

from markov.engine import CohortTrace, TreatmentLine, floor_survival, run_sequencing
from markov.grid import TimeGrid
from markov.inputs import load_analysis
from markov.models import build_model, per_sample_table
from markov.models.curves import build_curves
from markov.outcomes import Accumulator, accumulate, cycle_weights
from markov.survival import GeneralPopulationSurvival


@pytest.fixture(scope="module")
def inputs():
    return load_analysis(None)


def test_a_sample_does_not_depend_on_the_others_evaluated_with_it(inputs):
    model = build_model(inputs)
    whole = model.evaluate(inputs.sample(37, seed=11))
    pieces, start = [], 0
    for size in (1, 5, 31):
        pieces.append((start, model.evaluate(inputs.sample(size, seed=11, start=start))))
        start += size
    tables = []
    for first, results in pieces:
        table = per_sample_table(results)
        table["sample"] += first
        tables.append(table)
    expected = per_sample_table(whole).sort_values(["population", "strategy", "sample"], ignore_index=True)
    joined = pd.concat(tables).sort_values(["population", "strategy", "sample"], ignore_index=True)
    assert list(joined.columns) == list(expected.columns)
    for column in expected.columns:
        np.testing.assert_array_equal(joined[column].to_numpy(), expected[column].to_numpy(), err_msg=column)
    for i, result in enumerate(whole):
        assert result.floored_cycles == sum(results[i].floored_cycles for _, results in pieces)
        assert result.os_calibration_unreachable == sum(results[i].os_calibration_unreachable for _, results in pieces)


def test_bsc_fed_by_every_option_is_the_sum_of_one_sequence_per_option(inputs):
    model, params = build_model(inputs), inputs.sample(6, seed=5)  # BSC from a curve, the same in every sequence
    n, grid = params.n_samples, model.grid
    results = model.evaluate(params)
    checked = 0
    for p_name, population in inputs.populations.items():
        curves = build_curves(population.curves, params)
        gp = GeneralPopulationSurvival(inputs.perspective.life_table, params[population.start_age],
                                       params[population.share_female]).survival_on_grid(grid)

        def floored(option, curves=curves, gp=gp):
            if option.overall_survival:  # lasts until death
                return floor_survival(curves[option.overall_survival].survival_on_grid(grid), np.ones(n), gp)
            return floor_survival(curves[option.progression_free].survival_on_grid(grid),
                                  params[option.pre_progression_death_share], gp)

        for s_name, strategy in population.strategies.items():
            if len(strategy.lines) != 2:
                continue
            first_line, second_line = strategy.lines[0].options[0], strategy.lines[1].options
            result = next(r for r in results if (r.population, r.strategy) == (p_name, s_name))
            first, first_death, _ = floored(first_line)
            bsc, _, _ = floor_survival(curves[strategy.post_progression.survival
                                              or population.post_progression_survival].survival_on_grid(grid),
                                       np.ones(n), gp)
            shares = [params[line.share] for line in second_line]
            branches = [(1.0 - sum(shares), None), *zip(shares, second_line, strict=True)]
            # an option on and off treatment is one state of the sequence
            later = result.trace.state_names[len(result.progression_free):]
            group_of = [name.removesuffix("_on_treatment").removesuffix("_off_treatment") for name in later]
            groups = list(dict.fromkeys(group_of))
            expected = {"occupancy": np.zeros((n, grid.n_cycles + 1, len(groups))),
                        "entries": np.zeros((n, grid.n_cycles + 1, len(groups)))}
            for weight, line in branches:
                lines = [TreatmentLine("first_line", first, first_death, 0.0 if line is None else 1.0)]
                if line is not None:
                    curve, death, _ = floored(line)
                    lines.append(TreatmentLine("second_line", curve, death))
                trace = run_sequencing(lines, bsc)
                columns = [groups.index("best_supportive_care"), groups.index("dead")]
                if line is not None:
                    alone = len(second_line) == 1
                    columns.insert(0, groups.index("second_line" if alone else f"second_line_{line.treatment}"))
                for name, got in (("occupancy", trace.occupancy), ("entries", trace.entries)):
                    expected[name][:, :, columns] += weight[:, None, None] * got[:, :, -len(columns):]
            for name in ("occupancy", "entries"):
                values = getattr(result.trace, name)[:, :, len(result.progression_free):]
                grouped = np.stack([values[:, :, [k for k, g in enumerate(group_of) if g == group]].sum(axis=2)
                                    for group in groups], axis=2)
                np.testing.assert_allclose(grouped, expected[name], rtol=0, atol=1e-12,
                                           err_msg=f"{p_name}.{s_name} {name}")
            checked += 1
    assert checked >= 5


def _floor_vectorised(survival, death_share, population_survival):
    """The general-population floor as it was written before it was compiled."""
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(survival[:, :-1] > 0, survival[:, 1:] / survival[:, :-1], 1.0)
    events = 1.0 - step
    population_deaths = 1.0 - population_survival[:, 1:] / population_survival[:, :-1]
    binding = population_deaths > events
    events = np.maximum(events, population_deaths)
    share = np.broadcast_to(death_share[:, None], events.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        needed = np.where(events > 0, population_deaths / events, 0.0)
    floored = int(np.count_nonzero(binding | (needed > share)))
    share = np.clip(np.maximum(share, needed), 0.0, 1.0)
    curve = np.empty_like(survival)
    curve[:, 0] = survival[:, 0]
    np.cumprod(1.0 - events, axis=1, out=curve[:, 1:])
    curve[:, 1:] *= survival[:, :1]
    return curve, share, floored


def _assert_floor_is(got, expected):
    """The floored curve to 1e-14 relative (the formula multiplies from t = 0, the compiled
    floor from the first cycle it changes), the shares and the count exactly."""
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-14, atol=0)
    np.testing.assert_array_equal(np.broadcast_to(got[1], expected[1].shape), expected[1])
    assert got[2] == expected[2]


def test_compiled_floor_is_the_vectorised_formula():
    rng = np.random.default_rng(7)
    n, n_times = 9, 60
    steps = rng.uniform(0.85, 1.0, (n, n_times - 1))
    steps[0, 20:] = 0.0  # a curve that reaches 0 (no events after it)
    steps[1] = 1.0  # a flat curve (no events: the floor decides everything)
    survival = np.concatenate([np.ones((n, 1)), np.cumprod(steps, axis=1)], axis=1)
    population = np.concatenate([np.ones((n, 1)), np.cumprod(rng.uniform(0.95, 1.0, (n, n_times - 1)), axis=1)],
                                axis=1)
    death_share = rng.uniform(0.0, 1.0, n)
    got = floor_survival(survival, death_share, population)
    expected = _floor_vectorised(survival, death_share, population)
    _assert_floor_is(got, expected)
    assert got[2] > 0
    # a curve that ends only in death (share 1): the floor binds at least in every cycle of the flat curve
    dying_only = floor_survival(survival, np.ones(n), population)[2]
    assert dying_only == _floor_vectorised(survival, np.ones(n), population)[2] >= n_times - 1


def test_compiled_floor_decides_a_share_needed_next_to_the_share_given_as_the_formula_does():
    """The compiled floor divides deaths by events only where the quotient may exceed the
    share given (from 1 - 1e-9 of it): at and around that bound, and where the quotient is
    within rounding of the share, it raises and counts exactly as the formula."""
    n_times = 40
    events = np.full(n_times - 1, 0.02)
    survival = np.concatenate([[1.0], np.cumprod(1.0 - events)])
    # the general population's deaths in cycle 10 are 0.005 / 0.02 = 0.25 of the events there
    dying = np.full(n_times - 1, 1e-4)
    dying[10] = 0.005
    population = np.concatenate([[1.0], np.cumprod(1.0 - dying)])
    needed = (1.0 - population[11] / population[10]) / (1.0 - survival[11] / survival[10])
    factors = [1 - 3e-9, 1 - 1e-9, 1 - 9.9e-10, 1 - 1e-12, 1 - 2.3e-16, 1.0, 1 + 2.3e-16, 1 + 1e-12, 1 + 1e-9]
    shares = np.array([needed * f for f in factors] + [np.nextafter(needed, 0), np.nextafter(needed, 1), 0.0, 1.0])
    curves = np.repeat(survival[None, :], shares.size, axis=0)
    populations = np.repeat(population[None, :], shares.size, axis=0)
    got = floor_survival(curves, shares, populations)
    expected = _floor_vectorised(curves, shares, populations)
    _assert_floor_is(got, expected)
    raised = got[1][:, 10] > shares
    assert raised[:5].all() and not raised[6:9].any()  # raised below the share needed, never above it


def test_a_floor_that_changes_no_cycle_gives_back_the_curve_and_shares_and_a_sample_the_same_beside_others():
    times = np.arange(300) / 52
    rates = np.array([[0.8], [1.5], [3.0]])
    survival = np.exp(-rates * times[None, :])  # far above the general population's mortality
    population = np.exp(-0.01 * times[None, :])
    shares = np.array([0.2, 0.5, 1.0])
    curve, share, floored = floor_survival(survival, shares, population)
    assert curve is survival and floored == 0
    np.testing.assert_array_equal(share, shares[:, None])
    assert floor_survival(survival, np.ones(3), population)[1].shape == (1, 1)
    _assert_floor_is((curve, share, floored), _floor_vectorised(survival, shares, population))
    # beside a sample the floor changes (a share of 0: any death raises it), each unchanged one is the same
    beside = floor_survival(np.vstack([survival, survival[:1]]), np.append(shares, 0.0), population)
    assert beside[1].shape == (4, len(times) - 1) and beside[2] > 0
    np.testing.assert_array_equal(beside[0][:3], survival)
    np.testing.assert_array_equal(beside[1][:3], np.broadcast_to(shares[:, None], (3, len(times) - 1)))


@pytest.mark.parametrize("method", ["trapezoid", "life_table", "start", "end"])
def test_values_by_cycle_over_a_trace_stored_state_by_state(method):
    rng = np.random.default_rng(3)
    grid, n, k = TimeGrid(0.25, 8), 4, 3
    occupancy = rng.uniform(size=(n, k, grid.n_cycles + 1)).transpose(0, 2, 1)  # not C-contiguous
    entries = rng.uniform(size=(n, k, grid.n_cycles + 1)).transpose(0, 2, 1)
    trace = CohortTrace(occupancy, entries, ("a", "b", "c"))
    values = rng.uniform(size=(n, grid.n_cycles, k))
    at_start, at_end = cycle_weights(grid, 0.035, method)
    expected = (values * (at_start[None, :, None] * occupancy[:, :-1] + at_end[None, :, None] * occupancy[:, 1:])
                ).sum(axis=1)
    got = accumulate(trace, grid, per_year=values, discount_rate=0.035, method=method)
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    # constant values reuse the discounted years and entries, whatever the layout
    shared = Accumulator(trace, grid, discount_rate=0.035, method=method)
    same = accumulate(CohortTrace(np.ascontiguousarray(occupancy), np.ascontiguousarray(entries), ("a", "b", "c")),
                      grid, per_year=[1.0, 2.0, 3.0], on_entry=[4.0, 5.0, 6.0], discount_rate=0.035, method=method)
    np.testing.assert_allclose(shared.total([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]), same, rtol=1e-14)


def test_costs_and_utilities_of_a_population_are_made_once_per_parameter_set(inputs):
    """Strategies of a population share its cost model and general-population utilities
    (read-only); another parameter set gets its own, of its own values."""
    from markov.models.valuation import (
        CostModel,
        PopulationValues,
        State,
        utilities_by_state,
    )

    model = build_model(inputs)
    name, population = next(iter(inputs.populations.items()))
    params, other = inputs.sample(3, seed=2), inputs.sample(3, seed=3)
    values = model.population(name, population, params).values
    assert values.params is params and values.population is population
    component = inputs.treatments["sorafenib"].regimen[0]
    per_year = values.costs.drug_per_year(component)
    assert values.costs.drug_per_year(component) is per_year and not per_year.flags.writeable
    np.testing.assert_array_equal(per_year, CostModel(inputs, params, population).drug_per_year(component))
    states = [State("first_line", ("first_line",))]
    _, _, cap = utilities_by_state(values, states)
    assert utilities_by_state(values, states)[2] is cap and not cap.flags.writeable
    _, _, other_cap = utilities_by_state(PopulationValues(inputs, population, other, model.grid), states)
    assert not np.array_equal(other_cap, cap)


@pytest.mark.parametrize("rates", ["one rate", "costs and effects apart", "by sample", "calibrated"])
def test_a_strategy_valued_from_the_sums_written_with_its_trace_is_valued_as_from_the_trace(rates, monkeypatch):
    """The sequencing model's compiled steps write each state's discounted years, exits
    and entries as they fill it (StateSums), and the valuation takes them instead of
    passing over the trace: the same costs, life-years and QALYs as valued from the trace,
    to rounding. At one discount rate, at a rate for costs and another for effects (each
    from its own sums), at rates that vary by sample (valued from the trace), and with
    best supportive care calibrated to each strategy's OS median (lines built twice)."""
    from markov.models.valuation import PopulationValues

    if rates == "costs and effects apart":
        analysis = load_analysis(None, overrides={"perspectives": {"us_payer": {
            "discount_rate_effects": "nice_methods_guide_2008.discount_rate_nice"}}})
    else:
        analysis = load_analysis(None).scenario("os_calibration") if rates == "calibrated" else load_analysis(None)
    if rates == "by sample":
        params = analysis.with_values({"assumptions.discount_rate_us": np.linspace(0.0, 0.06, 7)}, 7)
    else:
        params = analysis.sample(7, seed=13)
    perspective = analysis.perspective
    apart = params[perspective.discount_rate_costs] != params[perspective.discount_rate_effects]
    assert apart.all() if rates == "costs and effects apart" else not apart.any()
    fused = per_sample_table(build_model(analysis).evaluate(params))
    made = [len(values.state_sum_weights[0]) if values.state_sum_weights is not None else None
            for values in (build_model(analysis).population(name, population, params).values
                           for name, population in analysis.populations.items())]
    assert made == [{"costs and effects apart": 4, "by sample": None}.get(rates, 2)] * len(made)
    monkeypatch.setattr(PopulationValues, "state_sum_weights", property(lambda self: None))
    from_trace = per_sample_table(build_model(analysis).evaluate(params))
    assert list(fused.columns) == list(from_trace.columns)
    for column in fused.columns:
        if fused[column].dtype.kind == "f":
            np.testing.assert_allclose(fused[column], from_trace[column], rtol=1e-12, atol=1e-9, err_msg=column)
        else:
            assert (fused[column] == from_trace[column]).all(), column


@pytest.mark.parametrize("scenario", [None, "os_calibration"])
def test_a_strategy_whose_trace_is_not_kept_is_valued_the_same_bits_from_entries_at_t0_only(scenario):
    """Evaluated without keeping traces (a PSA's draws), the sequencing model writes each
    state's entries at t = 0 only (its exits need no more; its values come from the sums):
    every result the same bits as with whole traces, with BSC calibrated (the anchor's
    lines built again) or not."""
    from markov.models.sequencing import SequencingModel

    analysis = load_analysis(None) if scenario is None else load_analysis(None).scenario(scenario)
    params = analysis.sample(5, seed=29)
    model = build_model(analysis)
    assert isinstance(model, SequencingModel)
    kept = model.evaluate(params)
    assert all(result.trace.keeps_entries for result in kept)
    prepared = model.population(*next(iter(analysis.populations.items())), params)
    name, strategy = next(iter(prepared.spec.strategies.items()))
    assert not model.strategy(prepared, name, strategy, keep_trace=False).trace.keeps_entries
    pd.testing.assert_frame_equal(per_sample_table(model.evaluate(params, keep_traces=False)),
                                  per_sample_table(kept), check_exact=True)


def test_sums_that_cannot_value_the_trace_are_refused(inputs, monkeypatch):
    """Sums made at one pair of discount rates for rates that vary by sample, or with a
    state left unwritten, are a defect the valuation names rather than values."""
    from markov.models import sequencing
    from markov.models.valuation import PopulationValues

    varying = inputs.with_values({"assumptions.discount_rate_us": np.linspace(0.0, 0.06, 3)}, 3)
    with monkeypatch.context() as patch:
        patch.setattr(PopulationValues, "discount_rates", property(lambda self: (0.03, 0.03)))
        with pytest.raises(ValueError, match="made at one pair of discount rates, but the rates vary"):
            build_model(inputs).evaluate(varying)
    unwritten = sequencing.add_post_progression
    monkeypatch.setattr(sequencing, "add_post_progression", lambda *args: unwritten(*args[:6]))  # without sums
    with pytest.raises(ValueError, match="a state's sums were not written"):
        build_model(inputs).evaluate(inputs.sample(3, seed=1))


@pytest.mark.parametrize("case", ["nowhere_above", "above_from_the_first_step", "above_late_only", "nan", "broadcast"])
def test_a_curve_capped_by_another_is_itself_where_nowhere_above_else_the_minimum(case):
    from markov.models.base import _at_most

    times = np.arange(60) / 10.0
    limit = np.exp(-np.outer([0.5, 0.8, 1.1], times))
    rates = {"nowhere_above": [0.6, 0.9, 1.2], "above_from_the_first_step": [0.6, 0.7, 1.2],
             "above_late_only": [0.6, 0.9, 1.2], "nan": [0.6, 0.9, 1.2], "broadcast": [0.6, 0.9, 1.2]}[case]
    curve = np.exp(-np.outer(rates, times))
    if case == "above_late_only":  # the first step within the limit: only the full check finds it
        curve[1, 40:] = limit[1, 40:] * 1.01
    if case == "nan":
        curve[2, 30] = np.nan
    if case == "broadcast":
        limit = limit[:1]
    found = _at_most(curve, limit)
    expected = np.minimum(curve, limit)
    np.testing.assert_array_equal(found, expected)
    assert (found is curve) == (case in ("nowhere_above", "broadcast"))


@pytest.mark.parametrize("scenario", [None, "os_calibration"])
def test_care_by_recursions_over_the_lines_gives_the_results_of_its_convolution(scenario, monkeypatch):
    """Every result of the shipped analysis (TACE +/- RT's care, fed by the first line and
    two second-line options, is where the recursions replace a convolution) with care's
    occupancy by :func:`~markov.engine.care_occupancy_by_recursion` and with it turned
    off (every sample convolved), to 1e-12 relative: the two differ by rounding alone."""
    from markov.models import sequencing

    analysis = load_analysis(None) if scenario is None else load_analysis(None).scenario(scenario)
    params = analysis.sample(40, seed=3)
    model = build_model(analysis)
    calls = []

    def counted(lines, survival, convolutions, samples):
        found, holds = recursions(lines, survival, convolutions, samples)
        calls.append(int(holds.sum()))
        return found, holds

    recursions = sequencing.care_occupancy_by_recursion
    monkeypatch.setattr(sequencing, "care_occupancy_by_recursion", counted)
    by_recursion = per_sample_table(model.evaluate(params, keep_traces=False))
    assert scenario is not None or max(calls) == 40  # every sample of TACE +/- RT
    monkeypatch.setattr(sequencing, "care_occupancy_by_recursion",
                        lambda lines, survival, convolutions, samples: (np.zeros((samples.size, survival.shape[1])),
                                                                        np.zeros(samples.size, dtype=bool)))
    convolved = per_sample_table(model.evaluate(params, keep_traces=False))
    for column in by_recursion.columns:
        if pd.api.types.is_float_dtype(by_recursion[column]):
            np.testing.assert_allclose(by_recursion[column], convolved[column], rtol=1e-12, atol=1e-12,
                                       err_msg=column)
        else:
            assert (by_recursion[column] == convolved[column]).all(), column
