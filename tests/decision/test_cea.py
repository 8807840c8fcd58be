"""Incremental analysis and net benefit against hand-worked tables and the definitions of dominance."""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from markov import InputError
from markov.decision.cea import (
    COLUMNS,
    format_icer_table,
    incremental_analysis,
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

@pytest.mark.verification(
    kind="closed form",
    against="a hand-worked five-strategy incremental analysis with strong and extended dominance",
    tolerance="exact")
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

@pytest.mark.verification(
    kind="closed form",
    against="a hand-worked set where extended dominance follows strong dominance",
    tolerance="exact")
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


def test_markov_cea_still_gives_every_name_from_its_new_home():
    import markov.cea
    from markov.decision import acceptability, cea

    homes = {cea: ["format_icer_table", "incremental_analysis", "net_benefit", "optimal_strategy"],
             acceptability: ["acceptability_curve", "acceptability_frontier", "expected_loss_curve", "icer_summary",
                             "incremental_samples"]}
    for module, names in homes.items():
        for name in names:
            assert getattr(markov.cea, name) is getattr(module, name)
