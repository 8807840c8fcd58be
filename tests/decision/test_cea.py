"""Incremental analysis and net benefit against hand-worked tables and the definitions of dominance."""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from markov import InputError
from markov.decision.cea import (
    COLUMNS,
    QUADRANTS,
    acceptability_curve,
    acceptability_frontier,
    expected_loss_curve,
    format_icer_table,
    icer_summary,
    incremental_analysis,
    incremental_samples,
    net_benefit,
    optimal_strategy,
)


def _rows(table):
    return table.set_index("strategy")


def _assert_frontier_row(row, *, d_cost, d_effect, icer, compared_with):
    assert row.status == "frontier"
    assert row.incremental_cost == pytest.approx(d_cost, rel=1e-12)
    assert row.incremental_effect == pytest.approx(d_effect, rel=1e-12)
    assert row.icer == pytest.approx(icer, rel=1e-12)
    assert row.compared_with == compared_with
    assert row.dominated_by is None


def _assert_removed_row(row, status, dominated_by):
    assert row.status == status
    assert row.dominated_by == dominated_by
    assert row.compared_with is None
    assert np.isnan([row.incremental_cost, row.incremental_effect, row.icer]).all()


def _assert_reference_row(row):
    _assert_removed_row(row, "reference", None)


# --- 1. five strategies: one strongly, one extendedly dominated ---------------------------

def test_five_strategies_by_hand():
    # given in a scrambled order; by cost: A 1000, B 4000, D 5000, C 6000, E 12000
    names = ["C", "A", "E", "D", "B"]
    costs = [6000, 1000, 12000, 5000, 4000]
    effects = [1.5, 1.0, 2.0, 1.125, 1.25]
    table = incremental_analysis(costs, effects, names)
    assert list(table.columns) == list(COLUMNS)
    assert list(table["strategy"]) == ["A", "B", "D", "C", "E"]  # sorted by cost
    rows = _rows(table)
    # D costs 1000 more than B and gives 1.125 < 1.25: strongly dominated by B
    _assert_removed_row(rows.loc["D"], "dominated", "B")
    # left: A, B, C, E. ICER B vs A = 3000 / 0.25 = 12000; C vs B = 2000 / 0.25 = 8000 < 12000,
    # so B is extendedly dominated: half A + half C gives 1.25 for 3500 < 4000.
    _assert_removed_row(rows.loc["B"], "extendedly dominated", ("A", "C"))
    # left: A, C, E. C vs A = 5000 / 0.5 = 10000; E vs C = 6000 / 0.5 = 12000 > 10000: done.
    _assert_reference_row(rows.loc["A"])
    _assert_frontier_row(rows.loc["C"], d_cost=5000, d_effect=0.5, icer=10000, compared_with="A")
    _assert_frontier_row(rows.loc["E"], d_cost=6000, d_effect=0.5, icer=12000, compared_with="C")
    assert list(table["cost"]) == [1000, 4000, 5000, 6000, 12000]
    assert list(table["effect"]) == [1.0, 1.25, 1.125, 1.5, 2.0]


# --- 2. textbook set ---------------------------------------------------------------------

def test_textbook_set_by_hand():
    table = incremental_analysis([0, 10000, 15000, 25000, 30000], [0, 0.5, 0.6, 1.0, 0.9], list("ABCDE"))
    rows = _rows(table)
    # E costs 5000 more than D for 0.1 less: dominated by D.
    _assert_removed_row(rows.loc["E"], "dominated", "D")
    # B vs A = 10000 / 0.5 = 20000; C vs B = 5000 / 0.1 = 50000; D vs C = 10000 / 0.4 = 25000 < 50000:
    # C is extendedly dominated (the B-D line costs 10000 + 30000 * 0.1 = 13000 < 15000 at 0.6).
    _assert_removed_row(rows.loc["C"], "extendedly dominated", ("B", "D"))
    # then D vs B = 15000 / 0.5 = 30000 > 20000: frontier A, B, D
    _assert_reference_row(rows.loc["A"])
    _assert_frontier_row(rows.loc["B"], d_cost=10000, d_effect=0.5, icer=20000, compared_with="A")
    _assert_frontier_row(rows.loc["D"], d_cost=15000, d_effect=0.5, icer=30000, compared_with="B")
    assert list(table["strategy"]) == list("ABCDE")


# --- 3. extended dominance revealed by an earlier removal --------------------------------

def test_extended_dominance_cascade_after_first_removal():
    # A (0, 0), B (3000, 0.25), C (4000, 0.5), D (7000, 1.0)
    # pass 1: B vs A = 12000, C vs B = 1000 / 0.25 = 4000, D vs C = 3000 / 0.5 = 6000.
    #         Only B is out of order (12000 > 4000); C (4000 < 6000) looks fine.
    # pass 2: C vs A = 4000 / 0.5 = 8000 > D vs C = 6000: now C is out.
    # pass 3: D vs A = 7000 / 1 = 7000. Frontier A, D; the A-D line costs 1750 at 0.25 and 3500 at 0.5.
    table = incremental_analysis([0, 3000, 4000, 7000], [0, 0.25, 0.5, 1.0], list("ABCD"))
    rows = _rows(table)
    _assert_reference_row(rows.loc["A"])
    _assert_removed_row(rows.loc["B"], "extendedly dominated", ("A", "D"))
    _assert_removed_row(rows.loc["C"], "extendedly dominated", ("A", "D"))
    _assert_frontier_row(rows.loc["D"], d_cost=7000, d_effect=1.0, icer=7000, compared_with="A")


def test_extended_dominance_cascade_of_two_by_one_strategy():
    # A (0, 0), B (1000, 0.5), C (3000, 1.0), D (6000, 1.5), E (7000, 3.0)
    # pass 1: ICERs B 2000, C 2000 / 0.5 = 4000, D 3000 / 0.5 = 6000, E 1000 / 1.5 = 666.7: only D > E's.
    # pass 2: E vs C = 4000 / 2 = 2000 < C's 4000: C out.
    # pass 3: E vs B = 6000 / 2.5 = 2400 > B's 2000: frontier A, B, E.
    # B-E line: 1000 + 2400 * 0.5 = 2200 < 3000 at 1.0, 1000 + 2400 * 1.0 = 3400 < 6000 at 1.5.
    table = incremental_analysis([0, 1000, 3000, 6000, 7000], [0, 0.5, 1.0, 1.5, 3.0], list("ABCDE"))
    rows = _rows(table)
    _assert_reference_row(rows.loc["A"])
    _assert_frontier_row(rows.loc["B"], d_cost=1000, d_effect=0.5, icer=2000, compared_with="A")
    _assert_removed_row(rows.loc["C"], "extendedly dominated", ("B", "E"))
    _assert_removed_row(rows.loc["D"], "extendedly dominated", ("B", "E"))
    _assert_frontier_row(rows.loc["E"], d_cost=6000, d_effect=2.5, icer=2400, compared_with="B")


# --- 4. ties -----------------------------------------------------------------------------

def test_equal_cost_less_effect_is_dominated():
    # A and B both cost 1000; B gives 1.5 > 1.0, so B comes first and A is dominated by it.
    # C vs B = 2000 / 0.5 = 4000.
    table = incremental_analysis([1000, 1000, 3000], [1.0, 1.5, 2.0], list("ABC"))
    assert list(table["strategy"]) == ["B", "A", "C"]
    rows = _rows(table)
    _assert_reference_row(rows.loc["B"])
    _assert_removed_row(rows.loc["A"], "dominated", "B")
    _assert_frontier_row(rows.loc["C"], d_cost=2000, d_effect=0.5, icer=4000, compared_with="B")


def test_equal_effect_more_cost_is_dominated():
    # B gives the same 1.0 as A for 1000 more: dominated by A. C vs A = 3000 / 1 = 3000.
    rows = _rows(incremental_analysis([1000, 2000, 4000], [1.0, 1.0, 2.0], list("ABC")))
    _assert_reference_row(rows.loc["A"])
    _assert_removed_row(rows.loc["B"], "dominated", "A")
    _assert_frontier_row(rows.loc["C"], d_cost=3000, d_effect=1.0, icer=3000, compared_with="A")


@pytest.mark.parametrize("names", [["X", "Y", "Z"], ["Y", "X", "Z"]])
def test_identical_strategies_keep_the_first(names):
    # the first two are identical (1000, 1.0): the first given stays; Z vs it = 2000 / 0.5 = 4000
    table = incremental_analysis([1000, 1000, 3000], [1.0, 1.0, 1.5], names)
    first, second = names[:2]
    assert list(table["strategy"]) == [first, second, "Z"]
    rows = _rows(table)
    _assert_reference_row(rows.loc[first])
    _assert_removed_row(rows.loc[second], "dominated", first)
    _assert_frontier_row(rows.loc["Z"], d_cost=2000, d_effect=0.5, icer=4000, compared_with=first)


def test_strategy_on_the_line_between_neighbours_is_extendedly_dominated():
    # B vs A = 1000 / 0.5 = 2000 = C vs B: B equals the half-and-half mix of A and C.
    rows = _rows(incremental_analysis([0, 1000, 2000], [0, 0.5, 1.0], list("ABC")))
    _assert_removed_row(rows.loc["B"], "extendedly dominated", ("A", "C"))
    _assert_frontier_row(rows.loc["C"], d_cost=2000, d_effect=1.0, icer=2000, compared_with="A")


def test_equal_icers_are_judged_before_rounding():
    # in decimals both ICERs are 100 / 0.1 = 1000; in floating point 0.2 - 0.1 and 0.3 - 0.2
    # make them 1000.0 and 1000.0000000000002, which alone would keep B
    assert (200 - 100) / (0.2 - 0.1) < (300 - 200) / (0.3 - 0.2)
    rows = _rows(incremental_analysis([100, 200, 300], [0.1, 0.2, 0.3], list("ABC")))
    _assert_removed_row(rows.loc["B"], "extendedly dominated", ("A", "C"))
    _assert_frontier_row(rows.loc["C"], d_cost=200, d_effect=0.2, icer=1000, compared_with="A")


# --- 5. one and two strategies -----------------------------------------------------------

def test_single_strategy_is_the_reference():
    table = incremental_analysis([5000.0], [2.0], ["only"])
    assert len(table) == 1
    _assert_reference_row(_rows(table).loc["only"])


def test_new_strategy_cheaper_and_better_dominates():
    rows = _rows(incremental_analysis([5000, 3000], [1.0, 1.5], ["current", "new"]))
    _assert_reference_row(rows.loc["new"])
    _assert_removed_row(rows.loc["current"], "dominated", "new")


def test_two_strategies_icer_and_default_names():
    # no names: positions. 1 vs 0 = (9000 - 4000) / (1.5 - 1.25) = 20000
    table = incremental_analysis(np.array([4000.0, 9000.0]), np.array([1.25, 1.5]))
    assert list(table["strategy"]) == [0, 1]
    rows = _rows(table)
    _assert_reference_row(rows.loc[0])
    _assert_frontier_row(rows.loc[1], d_cost=5000, d_effect=0.25, icer=20000, compared_with=0)


# --- 6. properties over random strategy sets ---------------------------------------------

@st.composite
def strategy_sets(draw):
    """Integer costs and effects in hundredths (as QALYs to two decimals), with many ties
    and collinear points from a coarse grid mixed in. Half the sets pair costs and effects
    in the same order, so that few strategies are strongly dominated and extended
    dominance has room to act."""
    n = draw(st.integers(1, 8))
    cost = st.one_of(st.integers(0, 100_000), st.integers(0, 20).map(lambda k: 1000 * k))
    hundredths = st.one_of(st.integers(0, 1_000), st.integers(0, 10).map(lambda k: 25 * k))
    costs = draw(st.lists(cost, min_size=n, max_size=n))
    effects = draw(st.lists(hundredths, min_size=n, max_size=n))
    if draw(st.booleans()):
        costs, effects = sorted(costs), sorted(effects)
    return costs, effects


PROPERTY_SETTINGS = settings(max_examples=200, derandomize=True, deadline=None)


@PROPERTY_SETTINGS
@given(strategy_sets())
def test_statuses_match_the_definitions(data):
    """Checked in exact arithmetic against the definitions, one strategy at a time."""
    costs, hundredths = data
    n = len(costs)
    names = [f"s{i}" for i in range(n)]
    c = [Fraction(x) for x in costs]
    e = [Fraction(x, 100) for x in hundredths]
    rows = _rows(incremental_analysis(costs, [x / 100 for x in hundredths], names))
    position = {name: i for i, name in enumerate(names)}

    def dominates(i, j):  # no more cost, no less effect, better in one; or identical and given earlier
        no_worse = c[i] <= c[j] and e[i] >= e[j]
        return no_worse and (c[i] < c[j] or e[i] > e[j] or i < j)

    def mix_cost(i, k, j):  # cost of the mix of i and k with the effect of j
        return c[i] + (c[k] - c[i]) * (e[j] - e[i]) / (e[k] - e[i])

    for j, name in enumerate(names):
        row = rows.loc[name]
        strongly = any(dominates(i, j) for i in range(n) if i != j)
        extendedly = not strongly and any(
            e[i] < e[j] < e[k] and mix_cost(i, k, j) <= c[j] for i in range(n) for k in range(n)
        )
        if strongly:
            assert row.status == "dominated"
            assert dominates(position[row.dominated_by], j)
        elif extendedly:
            assert row.status == "extendedly dominated"
            low, high = (position[s] for s in row.dominated_by)
            assert rows.loc[names[low]].status in ("reference", "frontier")
            assert rows.loc[names[high]].status in ("reference", "frontier")
            assert e[low] < e[j] < e[high] and mix_cost(low, high, j) <= c[j]
        else:
            assert row.status in ("reference", "frontier")
            if row.status == "frontier":
                previous = position[row.compared_with]
                icer = (c[j] - c[previous]) / (e[j] - e[previous])
                assert row.icer == pytest.approx(float(icer), rel=1e-12)
    # exactly one reference: the cheapest strategy (the most effective of the cheapest, the first of equals)
    assert (rows["status"] == "reference").sum() == 1
    reference = position[rows.index[rows["status"] == "reference"][0]]
    assert not any(dominates(i, reference) for i in range(n) if i != reference)
    assert c[reference] == min(c)


@PROPERTY_SETTINGS
@given(strategy_sets())
def test_frontier_agrees_with_net_benefit(data):
    costs, hundredths = data
    costs = np.array(costs, dtype=float)
    effects = np.array(hundredths) / 100
    names = [f"s{i}" for i in range(costs.size)]
    table = incremental_analysis(costs, effects, names)
    on_frontier = table["status"].isin(["reference", "frontier"]).to_numpy()
    frontier = table[on_frontier]
    breakpoints = frontier["icer"].to_numpy()[1:]

    # along the frontier cost, effect and ICER all strictly increase
    assert np.all(np.diff(frontier["cost"]) > 0)
    assert np.all(np.diff(frontier["effect"]) > 0)
    assert np.all(np.diff(breakpoints) > 0)
    assert np.all(breakpoints > 0)

    # between breakpoints (and below the first, above the last) the frontier strategy
    # for that interval is the unique maximum of net monetary benefit
    edges = np.concatenate([[0.0], breakpoints, [2 * breakpoints[-1] + 1 if breakpoints.size else 1.0]])
    for k, wtp in enumerate(0.5 * (edges[:-1] + edges[1:])):
        assert optimal_strategy(costs, effects, wtp, names) == frontier["strategy"].iloc[k]
    # at wtp = 0 the cheapest wins: the reference
    assert optimal_strategy(costs, effects, 0.0, names) == frontier["strategy"].iloc[0]

    # Removed strategies are never the only best. Net benefit is linear in wtp and the
    # frontier's maximum is linear between breakpoints, so it is enough that a removed
    # strategy does no better at 0 and at each breakpoint, and gains no faster beyond the last.
    by_name = {name: i for i, name in enumerate(names)}
    checkpoints = np.concatenate([[0.0], breakpoints])
    benefit = net_benefit(costs, effects, checkpoints)  # (n_wtp, n_strategies)
    order = [by_name[s] for s in table["strategy"]]
    benefit, removed = benefit[:, order], ~on_frontier
    tolerance = 1e-9 * (1 + np.abs(costs).max() + checkpoints.max() * np.abs(effects).max())
    best = benefit[:, on_frontier].max(axis=1)
    assert np.all(benefit[:, removed] <= best[:, None] + tolerance)
    assert np.all(effects <= frontier["effect"].iloc[-1])
    # a strongly dominated strategy does no better than the one named, at every wtp >= 0
    # (linear in wtp, so at 0 and in the limit: no less effect)
    for row in table[table["status"] == "dominated"].itertuples():
        i, j = by_name[row.strategy], by_name[row.dominated_by]
        assert costs[j] <= costs[i] and effects[j] >= effects[i]


# --- 7. net benefit, optimal strategy, bad input -----------------------------------------

def test_net_benefit_by_hand():
    costs, effects = [1000.0, 3000.0], [1.0, 1.5]
    # NMB at 5000: 5000 * 1.0 - 1000 = 4000; 5000 * 1.5 - 3000 = 4500
    np.testing.assert_allclose(net_benefit(costs, effects, 5000), [4000, 4500], rtol=1e-15)
    # NHB at 5000: 1.0 - 1000 / 5000 = 0.8; 1.5 - 3000 / 5000 = 0.9
    np.testing.assert_allclose(net_benefit(costs, effects, 5000, kind="health"), [0.8, 0.9], rtol=1e-15)
    # NMB at 0 is minus the cost
    np.testing.assert_array_equal(net_benefit(costs, effects, 0.0), [-1000, -3000])


def test_net_benefit_shapes():
    costs = np.array([[1000.0, 3000.0], [2000.0, 2000.0], [0.0, 500.0]])  # (3 samples, 2 strategies)
    effects = np.array([[1.0, 1.5], [0.5, 1.0], [0.25, 0.25]])
    assert net_benefit(costs, effects, 100.0).shape == (3, 2)
    assert net_benefit(costs, effects, np.float64(100.0)).shape == (3, 2)
    assert net_benefit(costs[0], effects[0], 100.0).shape == (2,)
    many = net_benefit(costs, effects, [0.0, 2000.0, 4000.0, 8000.0])
    assert many.shape == (4, 3, 2)
    assert net_benefit(costs[0], effects[0], [1.0, 2.0]).shape == (2, 2)
    # at 2000: 2000 - 1000 = 1000, 3000 - 3000 = 0; 1000 - 2000 = -1000, 2000 - 2000 = 0; 500 - 0, 500 - 500
    np.testing.assert_allclose(many[1], [[1000, 0], [-1000, 0], [500, 0]], rtol=1e-15)
    for j, wtp in enumerate([0.0, 2000.0, 4000.0, 8000.0]):
        np.testing.assert_array_equal(many[j], net_benefit(costs, effects, wtp))
    health = net_benefit(costs, effects, [1000.0, 4000.0], kind="health")
    assert health.shape == (2, 3, 2)
    np.testing.assert_allclose(health[1], effects - costs / 4000.0, rtol=1e-15)


def test_optimal_strategy_by_hand():
    # samples average to costs (1500, 2500) and effects (0.75, 1.25): ICER = 1000 / 0.5 = 2000
    costs = [[1000.0, 3000.0], [2000.0, 2000.0]]
    effects = [[1.0, 1.5], [0.5, 1.0]]
    # wtp 1000: NMB -750 vs -1250 -> 0; wtp 2000: 0 vs 0, tie -> cheaper 0; wtp 3000: 750 vs 1250 -> 1
    assert optimal_strategy(costs, effects, 1000.0) == 0
    assert optimal_strategy(costs, effects, 2000.0) == 0
    assert optimal_strategy(costs, effects, 3000.0) == 1
    np.testing.assert_array_equal(optimal_strategy(costs, effects, [1000.0, 2000.0, 3000.0]), [0, 0, 1])
    named = optimal_strategy(costs, effects, [1000.0, 2000.0, 3000.0], ["old", "new"])
    assert list(named) == ["old", "old", "new"]
    assert optimal_strategy(costs, effects, 3000.0, ["old", "new"]) == "new"


def test_optimal_strategy_ties():
    # wtp 0, equal cost: the more effective
    assert optimal_strategy([1000.0, 1000.0], [1.0, 2.0], 0.0) == 1
    # identical: the first given
    assert optimal_strategy([1000.0, 1000.0, 1000.0], [1.0, 1.0, 0.5], 500.0, ["a", "b", "c"]) == "a"
    # equal net benefit at 4000 (4000 - 1000 = 3000 = 6000 - 3000), different costs: the cheaper
    assert optimal_strategy([3000.0, 1000.0], [1.5, 1.0], 4000.0) == 1


def test_format_icer_table():
    table = incremental_analysis([0, 10000, 15000, 25000, 30000], [0, 0.5, 0.6, 1.0, 0.9], list("ABCDE"))
    text = format_icer_table(table, currency="GBP")
    assert list(text.columns) == [
        "Strategy", "Cost (GBP)", "Effect (QALY)", "Incremental cost (GBP)", "Incremental effect (QALY)",
        "ICER (GBP per QALY)",
    ]
    assert list(text["ICER (GBP per QALY)"]) == [
        "reference", "20,000", "extendedly dominated by B and D", "30,000", "dominated by D",
    ]
    assert list(text["Cost (GBP)"]) == ["0", "10,000", "15,000", "25,000", "30,000"]
    assert list(text["Incremental effect (QALY)"]) == ["", "0.500", "", "0.500", ""]
    with pytest.raises(InputError, match="lacks columns"):
        format_icer_table(table.drop(columns="icer"))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: incremental_analysis([1000, np.nan], [1, 2], ["A", "B"]),
         r"costs \[strategy 'B'\] is nan: every value must be a finite number"),
        (lambda: incremental_analysis([1000, 2000], [np.inf, 2], ["A", "B"]),
         r"effects \[strategy 'A'\] is inf: every value must be a finite number"),
        (lambda: incremental_analysis([1, 2, 3], [1, 2, 3], ["A", "B", "A"]),
         r"strategies: 'A' is at positions 0 and 2: strategy names must be unique"),
        (lambda: incremental_analysis([1, 2, 3], [1, 2], ["A", "B", "C"]),
         r"costs has shape \(3,\) but effects has shape \(2,\)"),
        (lambda: incremental_analysis([1, 2, 3], [1, 2, 3], ["A", "B"]),
         r"strategies has 2 names but there are 3 strategies"),
        (lambda: incremental_analysis([1, 2], [1, 2], "AB"), r"strategies is the string 'AB'"),
        (lambda: incremental_analysis([], []), r"at least one strategy"),
        (lambda: incremental_analysis([[1, 2]], [[1, 2]]), r"costs: has 2 dimensions"),
        (lambda: net_benefit([[1.0, 2.0], [3.0, -np.inf]], np.ones((2, 2)), 1.0),
         r"costs \[sample 1, strategy 1\] is -inf"),
        (lambda: net_benefit([1.0, 2.0], [1.0, 2.0], -1.0), r"wtp is -1\.0: willingness to pay must be 0 or more"),
        (lambda: net_benefit([1.0, 2.0], [1.0, 2.0], [10.0, -5.0]), r"wtp\[1\] is -5\.0: .* must be 0 or more"),
        (lambda: net_benefit([1.0, 2.0], [1.0, 2.0], np.nan), r"wtp is nan: every value must be a finite number"),
        (lambda: net_benefit([1.0, 2.0], [1.0, 2.0], 0.0, kind="health"),
         r"wtp is 0\.0: willingness to pay must be above 0 for net health benefit"),
        (lambda: net_benefit([1.0, 2.0], [1.0, 2.0], 1.0, kind="qaly"), r"kind is 'qaly'"),
        (lambda: net_benefit(np.ones((2, 3)), np.ones((2, 2)), 1.0), r"costs has shape \(2, 3\) but effects"),
        (lambda: optimal_strategy([1.0, 2.0], [1.0, 2.0], -0.5), r"wtp is -0\.5"),
        (lambda: optimal_strategy([1.0, 2.0], [1.0, 2.0], [[1.0]]), r"wtp: has 2 dimensions"),
        (lambda: optimal_strategy([1.0, 2.0], [1.0, 2.0], 1.0, ["x", "x"]), r"'x' is at positions 0 and 1"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(InputError, match=message):
        call()


# --- 8. probabilistic analysis: CEAC, CEAF, expected loss, ICER from samples ---------------

def _psa(rows):
    """Costs and effects (n_samples, n_strategies) from rows of (cost, effect) pairs."""
    array = np.array(rows, dtype=float)
    return array[..., 0], array[..., 1]


def test_acceptability_curve_by_hand():
    # Input order C, B, A, so that the tie-break rule, not input order, decides most ties.
    #        C (cost, effect)  B               A
    costs, effects = _psa([
        [(3000, 1.75), (1000, 1.5), (0, 1.0)],     # s0
        [(2000, 2.0), (500, 1.0), (0, 1.0)],       # s1
        [(5000, 1.25), (100, 1.0), (100, 1.0)],    # s2: B and A identical
        [(1000, 1.0), (2000, 0.5), (1000, 1.5)],   # s3
    ])
    ceac = acceptability_curve(costs, effects, [0.0, 2000.0, 4000.0], ["C", "B", "A"])
    # wtp 0 (NMB = -cost): s0 A; s1 A; s2 B = A identical -> B, first given; s3 C = A = -1000, same cost ->
    #   A, more effective.                                                   A 3/4, B 1/4, C 0
    # wtp 2000: s0 A 2000 = B 2000 > C 500 -> A, cheaper; s1 A 2000 = C 2000 > B 1500 -> A, cheaper;
    #   s2 B = A 1900 -> B; s3 A 2000 > C 1000 > B -1000 -> A.               A 3/4, B 1/4, C 0
    # wtp 4000: s0 B 5000 > A = C 4000; s1 C 6000; s2 B = A 3900 -> B; s3 A 5000 > C 3000.
    #                                                                         A 1/4, B 2/4, C 1/4
    assert list(ceac.columns) == ["C", "B", "A"]
    assert ceac.columns.name == "strategy"
    assert ceac.index.name == "wtp"
    assert list(ceac.index) == [0.0, 2000.0, 4000.0]
    np.testing.assert_array_equal(ceac.to_numpy(), [[0, 0.25, 0.75], [0, 0.25, 0.75], [0.25, 0.5, 0.25]])


def test_acceptability_curve_scalar_wtp_default_names_and_chunks(monkeypatch):
    rng = np.random.default_rng(7)
    costs = rng.normal(1000, 300, (200, 4))
    effects = rng.normal(1.0, 0.3, (200, 4))
    wtp = np.linspace(0, 5000, 11)
    whole = acceptability_curve(costs, effects, wtp)
    loss = expected_loss_curve(costs, effects, wtp)
    assert list(whole.columns) == [0, 1, 2, 3]
    one = acceptability_curve(costs, effects, 2500.0)
    assert one.shape == (1, 4) and list(one.index) == [2500.0]
    np.testing.assert_array_equal(one.to_numpy(), whole.loc[[2500.0]].to_numpy())
    # one wtp value per block gives the same numbers, bit for bit
    import markov.decision.cea as cea_module
    monkeypatch.setattr(cea_module, "CHUNK_BYTES", 1)
    np.testing.assert_array_equal(acceptability_curve(costs, effects, wtp).to_numpy(), whole.to_numpy())
    np.testing.assert_array_equal(expected_loss_curve(costs, effects, wtp).to_numpy(), loss.to_numpy())


@st.composite
def tied_samples(draw):
    """PSA samples on a coarse grid (costs in thousands, effects in quarters) so that exact
    ties in net benefit are common at the wtp values used; every product is exact in binary."""
    n_samples, n_strategies = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    cells = st.tuples(st.integers(0, 4).map(lambda k: 1000.0 * k), st.integers(0, 4).map(lambda k: k / 4))
    rows = draw(st.lists(st.lists(cells, min_size=n_strategies, max_size=n_strategies),
                         min_size=n_samples, max_size=n_samples))
    return _psa(rows)


@PROPERTY_SETTINGS
@given(tied_samples())
def test_acceptability_curve_counts_each_sample_once_with_optimal_strategy_rule(data):
    costs, effects = data
    n_samples, n_strategies = costs.shape
    wtp = [0.0, 1000.0, 2000.0, 4000.0, 8000.0]
    ceac = acceptability_curve(costs, effects, wtp).to_numpy()
    counts = ceac * n_samples
    # each row is whole counts adding up to the number of samples (tolerance: rounding of k / n)
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-9)
    assert (np.round(counts).sum(axis=1) == n_samples).all()
    np.testing.assert_allclose(ceac.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # expectation: optimal_strategy applied to each sample alone, one vote per sample
    votes = np.zeros((len(wtp), n_strategies))
    for s in range(n_samples):
        for j, lam in enumerate(wtp):
            votes[j, optimal_strategy(costs[s], effects[s], lam)] += 1
    np.testing.assert_allclose(ceac, votes / n_samples, rtol=0, atol=1e-15)


def test_acceptability_frontier_follows_expected_net_benefit_not_probability():
    # A costs and gives nothing. B costs 10 in every sample and gives 200, 9, 9, 9.
    # At wtp 1, B's NMB is 190, -1, -1, -1: B is best in one sample of four (CEAC 0.25, A 0.75),
    # yet its mean NMB (190 - 3) / 4 = 46.75 beats A's 0, so the frontier follows B.
    # At wtp 0, B's NMB is -10 everywhere: A, in every sample, with expected NMB 0.
    costs, effects = _psa([[(0, 0), (10, 200)], [(0, 0), (10, 9)], [(0, 0), (10, 9)], [(0, 0), (10, 9)]])
    frontier = acceptability_frontier(costs, effects, [0.0, 1.0], ["A", "B"])
    assert list(frontier.columns) == ["wtp", "strategy", "probability_cost_effective", "expected_net_benefit"]
    assert list(frontier["wtp"]) == [0.0, 1.0]
    assert list(frontier["strategy"]) == ["A", "B"]
    np.testing.assert_allclose(frontier["probability_cost_effective"], [1.0, 0.25], rtol=0, atol=1e-15)
    np.testing.assert_allclose(frontier["expected_net_benefit"], [0.0, 46.75], rtol=1e-15, atol=0)
    ceac = acceptability_curve(costs, effects, 1.0, ["A", "B"])
    assert ceac.loc[1.0, "A"] == 0.75  # the strategy most often best is not the one chosen


def test_acceptability_frontier_agrees_with_expected_loss():
    rng = np.random.default_rng(11)
    costs = rng.gamma(4.0, 500.0, (500, 3)) + [0, 800, 2000]
    effects = rng.normal([1.0, 1.2, 1.4], 0.3, (500, 3))
    wtp = np.linspace(0, 20000, 21)
    frontier = acceptability_frontier(costs, effects, wtp, ["x", "y", "z"])
    loss = expected_loss_curve(costs, effects, wtp, ["x", "y", "z"])
    # the strategy of least expected loss is the one of largest expected NMB (no ties in continuous data)
    assert list(frontier["strategy"]) == list(loss.idxmin(axis=1))
    ceac = acceptability_curve(costs, effects, wtp, ["x", "y", "z"])
    chosen = [ceac.iloc[j][name] for j, name in enumerate(frontier["strategy"])]
    np.testing.assert_array_equal(frontier["probability_cost_effective"], chosen)


def test_expected_loss_by_hand():
    #        X            Y             Z
    costs, effects = _psa([
        [(0, 1.0), (500, 1.5), (1000, 2.0)],
        [(0, 1.0), (800, 1.25), (400, 1.5)],
        [(0, 1.0), (300, 1.0), (2000, 2.5)],
    ])
    loss = expected_loss_curve(costs, effects, [0.0, 1000.0], ["X", "Y", "Z"])
    # wtp 0, NMB = -cost: X is best in every sample; Y loses 500, 800, 300; Z 1000, 400, 2000.
    # wtp 1000: NMB s0 1000, 1000, 1000; s1 1000, 450, 1100; s2 1000, 700, 500.
    #   losses X 0, 100, 0; Y 0, 650, 300; Z 0, 0, 500.
    expected = [[0, 1600 / 3, 3400 / 3], [100 / 3, 950 / 3, 500 / 3]]
    np.testing.assert_allclose(loss.to_numpy(), expected, rtol=1e-14, atol=0)
    assert loss.index.name == "wtp" and list(loss.columns) == ["X", "Y", "Z"]
    # EVPI at 1000: mean of the maxima (1000 + 1100 + 1000) / 3 less the best mean, X's 1000
    assert loss.loc[1000.0].min() == pytest.approx(3100 / 3 - 1000, rel=1e-12)


def test_expected_loss_minimum_is_evpi():
    rng = np.random.default_rng(3)
    costs = rng.normal([1000, 3000, 6000, 6500], 800, (1000, 4))
    effects = rng.normal([1.0, 1.1, 1.3, 1.25], 0.2, (1000, 4))
    wtp = [0.0, 5000.0, 20000.0, 50000.0]
    loss = expected_loss_curve(costs, effects, wtp)
    assert (loss.to_numpy() >= 0).all()
    for lam in wtp:
        benefit = lam * effects - costs  # (samples, strategies), straight from the definition
        evpi = benefit.max(axis=1).mean() - benefit.mean(axis=0).max()
        assert loss.loc[lam].min() == pytest.approx(evpi, rel=1e-9, abs=1e-9)


def test_incremental_samples_quadrants_and_axes():
    # comparator "old" costs 1000 and gives 2.0 in every sample; "other" is never looked at
    d = [(100, 0.5), (-100, 0.5), (100, -0.5), (-100, -0.5), (100, 0), (-100, 0), (0, 0.5), (0, -0.5), (0, 0)]
    costs = np.array([[5.0, 1000 + dc, 1000] for dc, _ in d])
    effects = np.array([[9.0, 2.0 + de, 2.0] for _, de in d])
    table = incremental_samples(costs, effects, "new", "old", ["other", "new", "old"])
    assert list(table.columns) == ["incremental_cost", "incremental_effect", "quadrant", "icer"]
    assert table.index.name == "sample" and list(table.index) == list(range(9))
    assert list(table["quadrant"]) == ["NE", "SE", "NW", "SW", "N axis", "S axis", "E axis", "W axis", "origin"]
    assert list(table["quadrant"].cat.categories) == list(QUADRANTS)
    np.testing.assert_array_equal(table["incremental_cost"], [dc for dc, _ in d])
    np.testing.assert_array_equal(table["incremental_effect"], [de for _, de in d])
    # 100 / 0.5 = 200; -100 / 0.5 = -200; 100 / -0.5 = -200; -100 / -0.5 = 200; no ICER where ΔE = 0
    np.testing.assert_array_equal(table["icer"], [200, -200, -200, 200, np.nan, np.nan, 0, 0, np.nan])
    assert not np.signbit(table["icer"].iloc[7])  # 0 / -0.5 reads as 0, not -0
    # swapping the two strategies mirrors every point through the origin
    swapped = incremental_samples(costs, effects, "old", "new", ["other", "new", "old"])
    assert list(swapped["quadrant"]) == ["SW", "NW", "SE", "NE", "S axis", "N axis", "W axis", "E axis", "origin"]
    # positions when no names are given
    by_position = incremental_samples(costs, effects, 1, 2)
    np.testing.assert_array_equal(by_position["icer"], table["icer"])
    summary = icer_summary(costs, effects, "new", "old", ["other", "new", "old"])
    assert summary["quadrant_shares"] == {label: pytest.approx(1 / 9, rel=1e-15) for label in QUADRANTS}


def test_icer_interval_with_a_sample_at_the_origin_is_not_given():
    # samples 0-2 and 4 in NE, sample 3 at the origin: it has no direction, so no angular order
    costs, effects = _pair_samples([100, 200, 300, 0, 500], [0.5, 0.5, 0.25, 0, 1.0])
    summary = icer_summary(costs, effects, 1, 0)
    assert summary["quadrant_shares"]["origin"] == 0.2 and summary["quadrant_shares"]["NE"] == 0.8
    assert summary["icer"] == pytest.approx(1100 / 2.25, rel=1e-12)  # (1100 / 5) / (2.25 / 5)
    assert np.isnan(summary["icer_lower"]) and np.isnan(summary["icer_upper"])
    assert summary["interval_method"] is None
    assert "same cost and effect" in summary["interval_note"]


def _pair_samples(d_cost, d_effect):
    """Two strategies whose differences (second minus first) are d_cost and d_effect, exactly."""
    d_cost, d_effect = np.asarray(d_cost, dtype=float), np.asarray(d_effect, dtype=float)
    base_cost = 100.0 * np.arange(1, d_cost.size + 1)
    base_effect = 1.0 + 0.5 * (np.arange(d_cost.size) % 3)
    costs = np.column_stack([base_cost, base_cost + d_cost])
    effects = np.column_stack([base_effect, base_effect + d_effect])
    return costs, effects


def test_icer_summary_by_hand():
    costs, effects = _pair_samples([1000, 3000, 2000, 6000], [0.5, 1.0, 0.25, 0.25])
    summary = icer_summary(costs, effects, "new", "old", ["old", "new"], wtp=[0.0, 2000.0, 5000.0, 10000.0])
    assert summary["intervention"] == "new" and summary["comparator"] == "old" and summary["n_samples"] == 4
    # means: ΔC 12000 / 4 = 3000, ΔE 2 / 4 = 0.5; ICER of the means 3000 / 0.5 = 6000
    assert summary["mean_incremental_cost"] == pytest.approx(3000, rel=1e-15)
    assert summary["mean_incremental_effect"] == pytest.approx(0.5, rel=1e-15)
    assert summary["icer"] == pytest.approx(6000, rel=1e-15)
    # ...not the mean of the sample ICERs (2000 + 3000 + 8000 + 24000) / 4 = 9250
    assert summary["icer"] != pytest.approx(9250, rel=1e-3)
    assert summary["quadrant_shares"]["NE"] == 1.0
    # all NE: percentiles of 2000, 3000, 8000, 24000 at positions 3 * 0.025 = 0.075 and 3 * 0.975 = 2.925:
    # 2000 + 0.075 * 1000 = 2075 and 8000 + 0.925 * 16000 = 22800
    assert summary["icer_lower"] == pytest.approx(2075, rel=1e-12)
    assert summary["icer_upper"] == pytest.approx(22800, rel=1e-12)
    assert summary["interval_method"] == "percentile" and summary["interval_level"] == 0.95
    assert "all samples lie in NE" in summary["interval_note"]
    # incremental NMB λ ΔE − ΔC: at 0 all < 0; at 2000 sample 0 is 1000 − 1000 = 0, a tie, not counted;
    # at 5000: 1500, 2000, -750, -4750; at 10000: 4000, 7000, 500, -3500
    probability = summary["probability_cost_effective"]
    assert probability.index.name == "wtp" and probability.name == "probability_cost_effective"
    np.testing.assert_array_equal(probability.to_numpy(), [0.0, 0.0, 0.5, 0.75])
    assert icer_summary(costs, effects, 1, 0)["probability_cost_effective"] is None


@pytest.mark.parametrize("label, sign", [("NE", 1.0), ("SW", -1.0)])
def test_icer_interval_in_one_quadrant_is_the_percentile_interval(label, sign):
    rng = np.random.default_rng(5)
    d_effect = sign * rng.uniform(0.05, 1.0, 1000)
    d_cost = sign * rng.lognormal(8.0, 0.7, 1000)
    summary = icer_summary(*_pair_samples(d_cost, d_effect), 1, 0, level=0.9)
    assert summary["quadrant_shares"][label] == 1.0
    expected = np.percentile(d_cost / d_effect, [5.0, 95.0])
    assert [summary["icer_lower"], summary["icer_upper"]] == pytest.approx(expected, rel=1e-12)
    assert summary["interval_method"] == "percentile" and f"in {label}" in summary["interval_note"]
    assert summary["icer"] == pytest.approx(d_cost.mean() / d_effect.mean(), rel=1e-12)


def test_icer_interval_across_ne_and_se_orders_by_icer():
    # every ΔE > 0, ΔC of both signs: in that half-plane angle order is ICER order, so the
    # angular interval is the plain percentile interval of the sample ICERs, with a negative lower bound
    rng = np.random.default_rng(9)
    d_effect = rng.uniform(0.1, 1.0, 800)
    d_cost = rng.normal(300, 600, 800)
    summary = icer_summary(*_pair_samples(d_cost, d_effect), 1, 0)
    assert 0 < summary["quadrant_shares"]["SE"] < 1
    expected = np.percentile(d_cost / d_effect, [2.5, 97.5])
    assert [summary["icer_lower"], summary["icer_upper"]] == pytest.approx(expected, rel=1e-12)
    assert expected[0] < 0
    assert summary["interval_method"] == "angular"
    assert "negative bound" in summary["interval_note"]


def _ne_with_outliers(n_south_axis, n_northwest, seed=13):
    """1000 samples: NE ones plus some on the negative cost axis and some in NW, mean in NE."""
    rng = np.random.default_rng(seed)
    n_ne = 1000 - n_south_axis - n_northwest
    ne = (rng.uniform(1000, 50000, n_ne) * (e := rng.uniform(0.1, 1.0, n_ne)), e)
    south = (-rng.uniform(100, 1000, n_south_axis), np.zeros(n_south_axis))
    northwest = (rng.uniform(100, 1000, n_northwest), -rng.uniform(0.01, 0.1, n_northwest))
    d_cost = np.concatenate([ne[0], south[0], northwest[0]])
    d_effect = np.concatenate([ne[1], south[1], northwest[1]])
    order = rng.permutation(1000)
    return d_cost[order], d_effect[order], np.sort(ne[0] / ne[1])


def test_icer_interval_trims_samples_beyond_the_cost_axis():
    # Ordered by angle from the mean's direction (in NE): the 10 samples on the negative cost axis
    # come first (ICER -> -inf side), then the 980 NE samples by ICER, then the 10 NW (+inf side).
    # Percentile positions 999 * 0.025 = 24.975 and 999 * 0.975 = 974.025 fall on NE samples
    # 24.975 - 10 = 14.975 and 964.025 of the sorted NE ICERs.
    d_cost, d_effect, ne_sorted = _ne_with_outliers(10, 10)
    summary = icer_summary(*_pair_samples(d_cost, d_effect), 1, 0)
    lower = ne_sorted[14] + 0.975 * (ne_sorted[15] - ne_sorted[14])
    upper = ne_sorted[964] + 0.025 * (ne_sorted[965] - ne_sorted[964])
    assert summary["icer_lower"] == pytest.approx(lower, rel=1e-12)
    assert summary["icer_upper"] == pytest.approx(upper, rel=1e-12)
    assert summary["interval_method"] == "angular"
    assert summary["quadrant_shares"]["S axis"] == 0.01 and summary["quadrant_shares"]["NW"] == 0.01
    # the naive percentile of the ICERs would put the NW samples' negative ICERs at the bottom
    naive = np.nanpercentile(np.where(d_effect != 0, d_cost / np.where(d_effect != 0, d_effect, 1), np.nan), 2.5)
    assert naive != pytest.approx(lower, rel=1e-6)


def test_icer_interval_reaching_the_cost_axis_is_not_given():
    # 40 NW samples (4 %) at the top of the angular order: position 974.025 lies among them
    d_cost, d_effect, _ = _ne_with_outliers(0, 40)
    summary = icer_summary(*_pair_samples(d_cost, d_effect), 1, 0)
    assert np.isnan(summary["icer_lower"]) and np.isnan(summary["icer_upper"])
    assert summary["interval_method"] is None
    assert "acceptability curve" in summary["interval_note"] and "+inf and -inf" in summary["interval_note"]
    assert np.isfinite(summary["icer"])  # the ICER of the means is still reported


def test_icer_summary_spanning_all_quadrants():
    rng = np.random.default_rng(21)
    d_cost, d_effect = rng.normal(100, 1000, 2000), rng.normal(0.02, 0.2, 2000)
    summary = icer_summary(*_pair_samples(d_cost, d_effect), 1, 0, wtp=[0.0, 50000.0])
    assert all(summary["quadrant_shares"][q] > 0.15 for q in ("NE", "SE", "NW", "SW"))
    assert sum(summary["quadrant_shares"].values()) == pytest.approx(1.0, abs=1e-12)
    assert np.isnan(summary["icer_lower"]) and np.isnan(summary["icer_upper"])
    assert summary["interval_method"] is None
    assert "span quadrants" in summary["interval_note"] and "net benefit" in summary["interval_note"]
    # the probability still stands: share of samples with λ ΔE − ΔC > 0
    expected = [np.mean(lam * d_effect - d_cost > 0) for lam in (0.0, 50000.0)]
    np.testing.assert_allclose(summary["probability_cost_effective"], expected, rtol=0, atol=1e-12)


def test_icer_summary_zero_mean_effect():
    costs, effects = _pair_samples([100, 300], [0.5, -0.5])
    summary = icer_summary(costs, effects, 1, 0)
    assert summary["mean_incremental_effect"] == 0.0 and np.isnan(summary["icer"])
    assert np.isnan(summary["icer_lower"]) and summary["interval_method"] is None
    assert "mean incremental effect is 0" in summary["interval_note"]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: acceptability_curve(np.ones((3, 2)), np.ones((3, 3)), 1.0),
         r"costs has shape \(3, 2\) but effects has shape \(3, 3\)"),
        (lambda: acceptability_curve([1.0, 2.0], [1.0, 2.0], 1.0), r"costs: has 1 dimensions .* expected 2"),
        (lambda: acceptability_curve([[1.0, np.nan]], [[1.0, 2.0]], 1.0, ["A", "B"]),
         r"costs \[sample 0, strategy 'B'\] is nan"),
        (lambda: acceptability_curve(np.ones((2, 2)), np.ones((2, 2)), 1.0, ["A", "B", "C"]),
         r"strategies has 3 names but there are 2 strategies"),
        (lambda: acceptability_frontier(np.ones((2, 2)), np.ones((2, 2)), [100.0, -1.0]),
         r"wtp\[1\] is -1\.0: willingness to pay must be 0 or more"),
        (lambda: expected_loss_curve(np.ones((2, 2)), np.ones((2, 2)), -5.0), r"wtp is -5\.0: .* 0 or more"),
        (lambda: incremental_samples(np.ones((2, 3)), np.ones((2, 3)), "D", "A", ["A", "B", "C"]),
         r"intervention is 'D': not one of the strategies \['A', 'B', 'C'\]"),
        (lambda: incremental_samples(np.ones((2, 3)), np.ones((2, 3)), 5, 0),
         r"intervention is 5: not one of the strategies \[0, 1, 2\]"),
        (lambda: icer_summary(np.ones((2, 3)), np.ones((2, 3)), "A", "Z", ["A", "B", "C"]), r"comparator is 'Z'"),
        (lambda: icer_summary(np.ones((2, 3)), np.ones((2, 3)), "A", "A", ["A", "B", "C"]),
         r"intervention and comparator are both 'A'"),
        (lambda: icer_summary(np.ones((2, 2)), np.ones((2, 2)), 1, 0, wtp=[-1.0]), r"wtp\[0\] is -1\.0"),
        (lambda: icer_summary(np.ones((2, 2)), np.ones((2, 2)), 1, 0, level=1.5),
         r"level is 1\.5: the coverage of an interval must lie in \(0, 1\)"),
        (lambda: icer_summary(np.ones((2, 2)), np.ones((3, 2)), 1, 0), r"costs has shape \(2, 2\) but effects"),
    ],
)
def test_probabilistic_bad_input(call, message):
    with pytest.raises(InputError, match=message):
        call()
