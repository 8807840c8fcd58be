"""Plain mistakes in calls of the Python API (issue 17, case 7): each raises an InputError
naming the argument and the rule, before any array is allocated; none is silently
truncated, converted or taken for something else."""
import numpy as np
import pytest

import markov
from markov import InputError, TimeGrid, TreatmentLine, accumulate, run_markov, run_sequencing
from markov.grid import MAX_CYCLES, WEEK_YEARS
from markov.outcomes.costing import Pack, cost_of_dose

VALID = np.array([[0.9, 0.1], [0.0, 1.0]])


@pytest.mark.parametrize("args, message", [
    ((20, 0), r"cycle_length_years is 0: must be a positive number"),
    ((20, -WEEK_YEARS), r"cycle_length_years is -0\.0191.*: must be a positive number"),
    ((20, "1/52"), r"cycle_length_years is '1/52': must be a positive number"),
    ((20, True), r"cycle_length_years is True: must be a positive number"),
    ((float("nan"), WEEK_YEARS), r"horizon_years is nan: must be a positive number"),
    ((20, 0.001 / 365.25), (r"horizon_years 20 in cycles of 2\.7.*e-06 years: 7,305,000 cycles, more than 10,000; "
                            r"lengthen the cycle \(cycle_length_days\) or shorten the horizon \(horizon_years\)")),
])
def test_a_time_grid_needs_a_positive_cycle_and_a_bounded_number_of_cycles(args, message):
    with pytest.raises(InputError, match=message):
        TimeGrid.from_horizon(*args)


def test_a_time_grid_is_refused_before_it_allocates():
    with pytest.raises(InputError, match=f"n_cycles is 1,000,000,000: at most {MAX_CYCLES:,} cycles"):
        TimeGrid(WEEK_YEARS, 10**9)
    with pytest.raises(InputError, match=r"n_cycles is 2\.5: must be a whole number of at least 1"):
        TimeGrid(WEEK_YEARS, 2.5)
    assert TimeGrid.from_horizon(20, WEEK_YEARS).n_cycles == 1044 and TimeGrid(1.0, MAX_CYCLES).n_cycles == MAX_CYCLES


@pytest.mark.parametrize("rate, message", [
    ("0.035", r"discount_rate is '0\.035': must be a number \(0\.035 for 3\.5% a year\), not str"),
    (None, r"discount_rate is None: must be a number"),
    (True, r"discount_rate is True: must be a number"),
    (5, r"discount_rate is 5: a percentage\? A rate is at most 1: give 0\.05 for 5% a year"),
    (3.5, r"discount_rate is 3\.5: a percentage\? A rate is at most 1: give 0\.035 for 3\.5% a year"),
    (float("inf"), r"discount_rate is inf: must be a number above -1"),
])
def test_a_discount_rate_is_a_number_per_year_not_text_or_a_percentage(rate, message):
    trace = run_markov(VALID, [1, 0], n_cycles=4)
    with pytest.raises(InputError, match=message):
        accumulate(trace, TimeGrid(1.0, 4), per_year=[1, 0], discount_rate=rate)


def test_a_discount_rate_of_one_is_still_a_rate():
    trace = run_markov(VALID, [1, 0], n_cycles=1)
    total = accumulate(trace, TimeGrid(1.0, 1), per_year=[1, 0], discount_rate=1, method="start")
    assert total[0, 0] == pytest.approx(1.0)  # the first cycle is counted at t = 0, undiscounted


def test_treatment_lines_must_be_treatment_lines_not_tuples():
    curve = 0.9 ** np.arange(5)
    with pytest.raises(InputError, match=r"lines\[0\] is a tuple: each line must be a TreatmentLine\(name, "
                                         r"progression_free, death_share, next_line_share\)"):
        run_sequencing([("first", curve, 0.2, 0.0)], curve)
    with pytest.raises(InputError, match=r"lines\[1\] is a dict"):
        run_sequencing([TreatmentLine("first", curve, 0.2, 0.5), {"name": "second"}], curve)


@pytest.mark.parametrize("cycle_matrix, message", [
    ([0.7, 1.9, 1.2], r"cycle_matrix\[0\] is 0\.7: matrix indices must be whole numbers \(never rounded\)"),
    ([0, 1, np.nan], r"cycle_matrix\[2\] is nan: matrix indices must be whole numbers"),
    (["0", "1", "1"], r"cycle_matrix: holds <U1 values; matrix indices must be whole numbers"),
    ([True, False, True], r"cycle_matrix: holds bool values; matrix indices must be whole numbers"),
])
def test_matrix_indices_are_never_truncated(cycle_matrix, message):
    with pytest.raises(InputError, match=message):
        run_markov(np.stack([VALID, VALID]), [1, 0], cycle_matrix=cycle_matrix)


def test_whole_indices_in_any_numeric_type_still_run():
    matrices = np.stack([VALID, np.eye(2)])
    by_int = run_markov(matrices, [1, 0], cycle_matrix=[0, 1, 1])
    by_float = run_markov(matrices, [1, 0], cycle_matrix=np.array([0.0, 1.0, 1.0]))
    np.testing.assert_array_equal(by_int.occupancy, by_float.occupancy)
    assert by_int.occupancy[0, -1, 0] == pytest.approx(0.9)  # matrix 0 once, then the identity


def test_an_implausible_dose_is_refused_rather_than_costed_for_ever():
    packs = [Pack(100.0, 1, np.array([500.0])), Pack(400.0, 1, np.array([1800.0]))]
    assert cost_of_dose(np.array([[1200.0]]), packs, vial_sharing=False)[0, 0] == pytest.approx(5400.0)
    for dose in (1e9, np.inf):
        with pytest.raises(InputError, match=r"a dose of .* mg from units of 100, 400 mg: over 100,000 combinations"):
            cost_of_dose(np.array([[dose]]), packs, vial_sharing=False)


@pytest.mark.parametrize("change, message", [
    ({"populations": []}, r"populations = \[\]: List should have at least 1 item"),
    ({"horizon_years": "20"}, r"horizon_years = '20': Input should be a valid number"),
    ({"psa_samples": 1.5}, r"psa_samples = 1\.5: Input should be a valid integer"),
    ({"su_2021.utility_progression_free": -50}, r"utility -50\.0: cannot be below -1\.0"),
    ({"su_2021.utility_progression_free": float("nan")}, r"Input should be a finite number"),
])
def test_analysis_set_refuses_what_a_file_would(change, message):
    with pytest.raises(InputError, match=message):
        markov.load().set(change)
