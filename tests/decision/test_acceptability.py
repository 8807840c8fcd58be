"""Acceptability, expected loss and ICER summaries of PSA samples against hand-worked values and their definitions."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from markov import InputError
from markov.decision import acceptability
from markov.decision.acceptability import (
    QUADRANTS,
    acceptability_curve,
    acceptability_frontier,
    expected_loss_curve,
    icer_summary,
    incremental_samples,
)
from markov.decision.cea import optimal_strategy

PROPERTY_SETTINGS = settings(max_examples=200, derandomize=True, deadline=None)


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
    # one wtp value per block of the expected loss gives the same numbers, bit for bit
    monkeypatch.setattr(acceptability, "CHUNK_BYTES", 1)
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


def test_acceptability_counts_ties_as_optimal_strategy_sample_by_sample():
    # costs in thousands and effects in quarters: ties in net benefit are common and exact
    rng = np.random.default_rng(5)
    costs, effects = 1000.0 * rng.integers(0, 5, (300, 4)), rng.integers(0, 5, (300, 4)) / 4
    wtp = [0.0, 1000.0, 2000.0, 4000.0]
    ceac = acceptability_curve(costs, effects, wtp).to_numpy()
    votes = np.zeros((len(wtp), 4))
    for s in range(300):
        for j, lam in enumerate(wtp):
            votes[j, optimal_strategy(costs[s], effects[s], lam)] += 1
    np.testing.assert_array_equal(np.round(ceac * 300), votes)


def test_acceptability_counts_as_numpy_compares_net_benefits_at_rounding_ties():
    # continuous draws at wtp values equal to sample ICERs computed in floating point: net
    # benefits then tie or differ by one rounding, and each sample's winner must be the one
    # numpy's own arithmetic (wtp * effect - cost, then argmax in tie-break order) picks
    rng = np.random.default_rng(11)
    costs, effects = rng.gamma(4.0, 2500.0, (3000, 3)), rng.normal(1.0, 0.3, (3000, 3))
    icers = (costs[:, 1] - costs[:, 0]) / (effects[:, 1] - effects[:, 0])
    wtp = np.abs(icers[:40])
    counts = np.round(acceptability_curve(costs, effects, wtp).to_numpy() * 3000)
    expected = np.zeros((wtp.size, 3))
    for j, lam in enumerate(wtp):
        benefit = lam * effects - costs
        for s in range(3000):
            order = np.lexsort((np.arange(3), -effects[s], costs[s]))
            expected[j, order[np.argmax(benefit[s, order])]] += 1
    np.testing.assert_array_equal(counts, expected)


def test_acceptability_frontier_takes_the_curve_already_computed():
    rng = np.random.default_rng(3)
    costs, effects = rng.gamma(4.0, 500.0, (200, 3)), rng.normal(1.0, 0.3, (200, 3))
    wtp = np.linspace(0, 10000, 11)
    curve = acceptability_curve(costs, effects, wtp, ["x", "y", "z"])
    frontier = acceptability_frontier(costs, effects, wtp, ["x", "y", "z"])
    assert acceptability_frontier(costs, effects, wtp, ["x", "y", "z"], curve=curve).equals(frontier)
    with pytest.raises(InputError, match="curve has shape"):
        acceptability_frontier(costs, effects, wtp[:5], ["x", "y", "z"], curve=curve)


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
