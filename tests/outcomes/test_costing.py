"""Drug costing (markov/costing.py) against hand calculations and brute force."""
import itertools
import math

import numpy as np
import pytest
from scipy import special

from markov import InputError
from markov.outcomes.costing import (
    WEIGHT_NODES,
    Pack,
    cost_of_dose,
    expected_cost_per_administration,
    weight_nodes,
)


def vial(strength_mg, price, units=1):
    return Pack(strength_mg, units, np.array([float(price)]))


def cheapest_by_brute_force(dose_mg, packs):
    """Cheapest whole number of units (any mix of strengths) covering ``dose_mg``: every
    count of each strength up to the number that alone would cover the dose."""
    unit_prices = [float(p.price[0]) / p.units for p in packs]
    limits = [math.ceil(dose_mg / p.strength_mg) for p in packs]
    best = math.inf
    for counts in itertools.product(*(range(n + 1) for n in limits)):
        mg = sum(c * p.strength_mg for c, p in zip(counts, packs))
        if mg >= dose_mg and mg > 0:
            best = min(best, sum(c * u for c, u in zip(counts, unit_prices)))
    return best


def test_vial_rounding_by_hand():
    # 1050 mg from 100 mg vials: ceil(10.5) = 11 vials x $841 = $9,251 (exact).
    cost = cost_of_dose(np.array([[1050.0]]), [vial(100, 841)], vial_sharing=False)
    assert cost.shape == (1, 1)
    assert cost[0, 0] == pytest.approx(9251.0, abs=1e-9)
    # exactly 1000 mg needs 10 vials, not 11 (no spurious rounding up): $8,410
    exact = cost_of_dose(np.array([[1000.0]]), [vial(100, 841)], vial_sharing=False)
    assert exact[0, 0] == pytest.approx(8410.0, abs=1e-9)


def test_mixed_vials_choose_the_cheapest_covering_combination():
    packs = [vial(100, 242.66), vial(400, 924.40)]
    # dose 450 by hand: 5 x 100 = 1213.30; 400 + 100 = 1167.06; 2 x 400 = 1848.80 -> 1167.06
    cost = cost_of_dose(np.array([[450.0]]), packs, vial_sharing=False)
    assert cost[0, 0] == pytest.approx(1167.06, abs=1e-9)
    # dose 350: 4 x 100 = 970.64 but one 400 mg vial = 924.40 is cheaper (not greedy by size)
    cost = cost_of_dose(np.array([[350.0]]), packs, vial_sharing=False)
    assert cost[0, 0] == pytest.approx(924.40, abs=1e-9)
    # every dose from 10 mg to 1600 mg against the brute force
    doses = np.arange(10.0, 1601.0, 10.0)
    got = cost_of_dose(doses[None, :], packs, vial_sharing=False)[0]
    expected = np.array([cheapest_by_brute_force(d, packs) for d in doses])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


def test_a_dose_of_one_unit_of_1_mg_is_that_unit():
    # 1 mg tablets at $5 and 10 mg at $30: 1 mg and 0.5 mg are one small tablet, 10 mg one large
    cost = cost_of_dose(np.array([[1.0, 0.5, 10.0]]), [vial(1, 5.0), vial(10, 30.0)], vial_sharing=False)
    np.testing.assert_allclose(cost[0], [5.0, 5.0, 30.0], rtol=0, atol=1e-12)


def test_the_cheapest_cover_is_found_exactly_for_every_sample_and_dose():
    """Per sample and dose, the minimum over every covering combination of its price summed
    pack by pack in floats: the same numbers to the last bit, whatever the search."""
    rng = np.random.default_rng(16)
    packs = [Pack(40.0, 1, rng.uniform(90, 110, 4)), Pack(100.0, 2, rng.uniform(380, 520, 4)),
             Pack(250.0, 1, rng.uniform(700, 1300, 4))]
    doses = np.concatenate([rng.uniform(0.5, 900, (4, 60)), np.tile([40.0, 100.0, 500.0 + 5e-10, 500.0 + 2e-9,
                                                                     140.0, 900.0], (4, 1))], axis=1)
    units = [range(math.ceil(900.0 / pack.strength_mg) + 1) for pack in packs]

    def cheapest(s, dose):
        best = math.inf
        for counts in itertools.product(*units):
            mg = sum(c * pack.strength_mg for c, pack in zip(counts, packs))
            if mg != 0 and dose <= mg + 1e-9:
                best = min(best, sum(c * float(pack.unit_price[s]) for c, pack in zip(counts, packs)))
        return best

    expected = np.array([[cheapest(s, dose) for dose in row] for s, row in enumerate(doses)])
    np.testing.assert_array_equal(cost_of_dose(doses, packs, vial_sharing=False), expected)
    # one row of doses for every sample's prices, and every row of doses at one sample's prices
    np.testing.assert_array_equal(cost_of_dose(doses[:1], packs, vial_sharing=False),
                                  [[cheapest(s, dose) for dose in doses[0]] for s in range(4)])
    first = [Pack(pack.strength_mg, pack.units, pack.price[:1]) for pack in packs]
    np.testing.assert_array_equal(cost_of_dose(doses, first, vial_sharing=False), np.broadcast_to(
        [[cheapest(0, dose) for dose in row] for row in doses], doses.shape))

def test_vial_sharing_pays_for_milligrams_at_the_cheapest_price_per_mg():
    packs = [vial(100, 242.66), vial(400, 924.40)]
    # per mg: 2.4266 (100 mg) and 2.311 (400 mg) -> 450 mg x 2.311 = 1039.95
    cost = cost_of_dose(np.array([[450.0, 75.0]]), packs, vial_sharing=True)
    np.testing.assert_allclose(cost[0], [450 * 2.311, 75 * 2.311], rtol=1e-12)


def test_cost_varies_by_sample_with_the_price():
    # two PSA samples with different vial prices; dose 250 mg -> 3 vials each
    pack = Pack(100, 1, np.array([800.0, 900.0]))
    cost = cost_of_dose(np.array([[250.0], [250.0]]), [pack], vial_sharing=False)
    np.testing.assert_allclose(cost[:, 0], [2400.0, 2700.0], rtol=0, atol=1e-9)


def test_vial_sharing_prices_each_sample_at_its_own_cheapest_price_per_mg():
    # per mg: 100 mg vials at $2.00 and $3.00, 400 mg at $2.25 and $2.50 in samples 0 and 1: the
    # cheapest is the small vial in sample 0 and the large one in sample 1
    packs = [Pack(100, 1, np.array([200.0, 300.0])), Pack(400, 1, np.array([900.0, 1000.0]))]
    doses = np.array([[100.0, 200.0, 50.0], [100.0, 200.0, 50.0]])
    cost = cost_of_dose(doses, packs, vial_sharing=True)
    np.testing.assert_allclose(cost, [[200.0, 400.0, 100.0], [250.0, 500.0, 125.0]], rtol=1e-12)


def test_the_expected_cost_is_the_mean_over_the_last_axis_of_any_shape():
    # doses (samples, 2, 3 patients) from 100 mg vials at $841 and $900: 1, 2, 3 vials (mean 2) and 1
    # each (mean 1) in both samples
    doses = np.array([[[50.0, 150.0, 250.0], [100.0, 100.0, 100.0]]] * 2)
    pack = Pack(100, 1, np.array([841.0, 900.0]))
    cost = expected_cost_per_administration(doses, [pack], vial_sharing=False)
    np.testing.assert_allclose(cost, [[2 * 841.0, 841.0], [1800.0, 900.0]], rtol=1e-12)


def test_a_dose_needing_more_than_100_000_combinations_of_units_is_refused():
    # 99,999 mg from 1 mg units: 100,000 counts to try, the most searched; 100,000 mg is one more
    cost = cost_of_dose(np.array([[99_999.0]]), [vial(1, 0.5)], vial_sharing=False)
    assert cost[0, 0] == pytest.approx(49_999.5, abs=1e-6)
    with pytest.raises(InputError) as error:
        cost_of_dose(np.array([[100_000.0]]), [vial(1, 0.5)], vial_sharing=False)
    assert str(error.value) == ("a dose of 100000 mg from units of 1 mg: over 100,000 combinations of units to cost; "
                                "check the dose, the pack strengths and the body weight")
    with pytest.raises(InputError, match=r"^a dose of 500 mg from units of 1, 2 mg: over 100,000"):
        cost_of_dose(np.array([[500.0]]), [vial(1, 0.5), vial(2, 0.9)], vial_sharing=False)


def test_no_pack_is_an_input_error():
    with pytest.raises(InputError, match=r"^cost_of_dose: a drug needs at least one priced pack$"):
        cost_of_dose(np.array([[10.0]]), [], vial_sharing=False)


def test_weight_nodes_match_the_normal_distribution():
    mean, sd = np.array([70.0, 71.4]), np.array([15.0, 10.0])
    nodes = weight_nodes(mean, sd)
    assert nodes.shape == (2, WEIGHT_NODES)
    # midpoint quantiles of a symmetric distribution: the mean is exact (to 1e-3 relative
    # here; in fact to rounding)
    np.testing.assert_allclose(nodes.mean(axis=1), mean, rtol=1e-3)
    # equally likely midpoint quantiles slightly understate the spread: with 200 nodes the
    # sd is 0.3% low; accept within 1% and never above the target
    spread = nodes.std(axis=1)
    np.testing.assert_allclose(spread, sd, rtol=1e-2)
    assert np.all(spread <= sd)
    # the nodes are the (i + 1/2)/200 quantiles, spot-checked at the median pair
    z = special.ndtri(100.5 / 200)
    assert nodes[0, 100] == pytest.approx(70 + 15 * z, rel=1e-12)


def test_weight_nodes_are_truncated_at_one_kg():
    nodes = weight_nodes(np.array([5.0]), np.array([15.0]))
    assert nodes.min() == pytest.approx(1.0)
    assert np.count_nonzero(nodes == 1.0) == np.count_nonzero(5 + 15 * special.ndtri((np.arange(200) + 0.5) / 200) < 1)


@pytest.mark.verification(
    kind="closed form",
    against="vials counted patient by patient over the weight nodes, and the mean dose priced per mg",
    tolerance="rel 1e-12")
def test_expected_cost_over_weight_nodes_equals_brute_force_average():
    # bevacizumab 15 mg/kg from 100 mg vials at $841, weight ~ N(70, 15)
    nodes = weight_nodes(np.array([70.0]), np.array([15.0]))
    dose = 15.0 * nodes
    got = expected_cost_per_administration(dose, [vial(100, 841)], vial_sharing=False)
    brute = np.mean([math.ceil(d / 100 - 1e-12) * 841 for d in dose[0]])
    assert got.shape == (1,)
    assert got[0] == pytest.approx(brute, rel=1e-12)
    # vial rounding costs more than the mean dose priced per mg (15 x 70 x 8.41 = 8830.5)
    assert got[0] > 15 * 70 * 8.41
    shared = expected_cost_per_administration(dose, [vial(100, 841)], vial_sharing=True)
    assert shared[0] == pytest.approx(15 * nodes.mean() * 8.41, rel=1e-12)


def test_flat_priced_lenvatinib_pack_costs_the_same_for_8_and_12_mg():
    # strength 12 mg, 30 units, $15,970 -> one daily dose of 8 or 12 mg = 15970 / 30 = 532.333...
    pack = Pack(12, 30, np.array([15970.0]))
    cost = cost_of_dose(np.array([[8.0, 12.0]]), [pack], vial_sharing=False)
    np.testing.assert_allclose(cost[0], [15970 / 30, 15970 / 30], rtol=1e-12)
    # and 24 mg would take two units
    assert cost_of_dose(np.array([[24.0]]), [pack], vial_sharing=False)[0, 0] == pytest.approx(2 * 15970 / 30)
