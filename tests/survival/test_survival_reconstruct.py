"""Kaplan–Meier, Nelson–Aalen and smoothed hazards against hand-worked numbers;
reconstruction of patient data from a digitised curve (Guyot et al. 2012) by
round trip; and every bad-input rule of both."""
import numpy as np
import pytest
from scipy import stats

from markov._validate import InputError
from markov.survival.fitting.likelihood import PatientData, fit
from markov.survival.nonparametric import KaplanMeier, nelson_aalen, smoothed_hazard
from markov.survival.fitting.reconstruct import clean_digitised_curve, reconstruct_patient_data

# Freireich et al. (1963) 6-MP arm, weeks of remission; event 0 = censored.
FREIREICH_TIME = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
FREIREICH_EVENT = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
EVENT_TIMES = [6, 7, 10, 13, 16, 22, 23]
# By hand: at each event time S *= (n - d) / n with (n, d) = (21, 3), (17, 1), (15, 1), (12, 1), (11, 1), (7, 1), (6, 1).
HAND_SURVIVAL = np.cumprod([18 / 21, 16 / 17, 14 / 15, 11 / 12, 10 / 11, 6 / 7, 5 / 6])


@pytest.fixture(scope="module")
def freireich():
    return KaplanMeier.fit(FREIREICH_TIME, FREIREICH_EVENT, time_unit="weeks")


def at_event_times(km, values):
    return np.asarray(values)[km.n_events > 0]


@pytest.mark.verification(
    kind="textbook",
    against="the hand-worked Kaplan–Meier table of the Freireich 6-MP data, Greenwood SEs as printed (Klein & "
            "Moeschberger; R survfit)",
    tolerance="rtol 1e-12; printed SEs atol 5e-5")
def test_kaplan_meier_matches_the_hand_worked_freireich_table(freireich):
    km = freireich
    assert list(km.times) == [6, 7, 9, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 34, 35]
    assert list(at_event_times(km, km.n_at_risk)) == [21, 17, 15, 12, 11, 7, 6]
    assert list(at_event_times(km, km.n_events)) == [3, 1, 1, 1, 1, 1, 1]
    assert list(km.n_censored) == [1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 2, 1, 1]
    np.testing.assert_allclose(at_event_times(km, km.survival), HAND_SURVIVAL, rtol=1e-12)
    # Greenwood standard errors as printed in textbooks (Klein & Moeschberger, R's survfit).
    np.testing.assert_allclose(
        at_event_times(km, km.std_error), [0.0764, 0.0869, 0.0963, 0.1068, 0.1141, 0.1282, 0.1346], atol=5e-5
    )
    # Greenwood at t = 6 by hand: S² d / (n (n - d)) = (18/21)² · 3 / (21 · 18).
    assert km.variance[0] == pytest.approx((18 / 21) ** 2 * 3 / (21 * 18), rel=1e-12)
    assert km.to_frame().columns.tolist() == ["time", "n_at_risk", "n_events", "n_censored", "survival", "std_error"]
    assert km.to_frame().attrs["time_unit"] == "weeks"


def test_step_evaluation_numbers_at_risk_quantiles_and_restricted_mean(freireich):
    km = freireich
    np.testing.assert_allclose(
        km.survival_at([0, 5.99, 6, 6.5, 22.9, 23, 35]), [1, 1, HAND_SURVIVAL[0], HAND_SURVIVAL[0], HAND_SURVIVAL[5],
                                                           HAND_SURVIVAL[6], HAND_SURVIVAL[6]]
    )
    assert np.isnan(km.survival_at(35.1))  # beyond follow-up, curve not at 0
    assert list(km.n_at_risk_at([0, 6, 6.5, 23, 35, 36])) == [21, 21, 17, 6, 1, 0]
    assert km.median() == 23  # S(22) = 0.538, S(23) = 0.448
    assert km.quantile(0.25) == 13  # S(10) = 0.753 > 0.75, S(13) = 0.690
    assert np.isnan(km.quantile(0.6))  # S never reaches 0.4
    # Area under the steps to 35 weeks, segment by segment.
    widths = np.diff([0, 6, 7, 10, 13, 16, 22, 23, 35])
    assert km.restricted_mean(35) == pytest.approx(np.sum(widths * np.concatenate(([1.0], HAND_SURVIVAL))), rel=1e-12)
    assert km.restricted_mean(6.5) == pytest.approx(6 + 0.5 * 18 / 21, rel=1e-12)


@pytest.mark.verification(
    kind="other software",
    against="R survfit (conf.type log and log-log) on the same data, 3 decimals",
    tolerance="atol 5e-4")
def test_confidence_bands_follow_their_formulas_and_r_survfit(freireich):
    km = freireich
    s, z = HAND_SURVIVAL[0], stats.norm.ppf(0.975)
    sigma = np.sqrt(3 / (21 * 18))  # SE of log S at t = 6, by hand
    lower, upper = km.confidence_band(method="log")
    assert (lower[0], upper[0]) == pytest.approx((s * np.exp(-z * sigma), 1.0), rel=1e-12)
    lower, upper = km.confidence_band(method="plain")
    assert (lower[0], upper[0]) == pytest.approx((s - z * s * sigma, 1.0), rel=1e-12)
    lower, upper = km.confidence_band(method="log-log")
    assert (lower[0], upper[0]) == pytest.approx(
        (np.exp(-np.exp(np.log(-np.log(s)) + z * sigma / -np.log(s))),
         np.exp(-np.exp(np.log(-np.log(s)) - z * sigma / -np.log(s)))), rel=1e-12
    )
    # R: summary(survfit(Surv(time, event) ~ 1, conf.type = ...)) on the same data, 3 decimals.
    r_survfit = {
        "log": ([0.720, 0.653, 0.586, 0.510, 0.439, 0.337, 0.249], [1.000, 0.996, 0.968, 0.935, 0.896, 0.858, 0.807]),
        "log-log": ([0.620, 0.563, 0.503, 0.432, 0.368, 0.268, 0.188], [0.952, 0.923, 0.889, 0.849, 0.805, 0.747, 0.680]),
    }
    for method, (r_lower, r_upper) in r_survfit.items():
        lower, upper = km.confidence_band(method=method)
        np.testing.assert_allclose(at_event_times(km, lower), r_lower, atol=5e-4)
        np.testing.assert_allclose(at_event_times(km, upper), r_upper, atol=5e-4)
    # A wider level gives a wider band.
    lower_99, upper_99 = km.confidence_band(0.99)
    lower_95, upper_95 = km.confidence_band(0.95)
    assert np.all(lower_99 <= lower_95) and np.all(upper_99 >= upper_95)


@pytest.mark.verification(
    kind="other software",
    against="R quantile(survfit) median and its interval on the same data",
    tolerance="exact")
def test_median_interval_is_where_the_band_holds_one_half_as_r_survfit_gives_it(freireich):
    # R: quantile(survfit(Surv(time, event) ~ 1, conf.type = ...), 0.5) on the same data: median 23 weeks,
    # interval 13 (log-log) or 16 (log) to not reached (NA); the band's limits at the event times are
    # in the test above (the lower one first reaches 0.5 at 13 or 16 weeks, the upper one never does)
    low, high = freireich.median_interval()
    assert low == 13 and np.isnan(high)
    low, high = freireich.median_interval(method="log")
    assert low == 16 and np.isnan(high)
    # a curve that reaches 0: the upper limit is NaN there, read as 0
    km = KaplanMeier.fit([1, 2, 3], [1, 0, 1], time_unit="months")
    assert km.median_interval() == (1.0, 3.0)
    assert all(np.isnan(KaplanMeier.fit([1, 2, 3], [0, 0, 0], time_unit="months").median_interval()))


def test_curve_reaching_zero_and_a_median_exactly_on_a_flat_segment():
    km = KaplanMeier.fit([1, 2, 2, 3, 4], [1, 1, 1, 1, 1], time_unit="months")
    np.testing.assert_allclose(km.survival, [0.8, 0.4, 0.2, 0.0])
    assert km.survival_at(10.0) == 0.0  # known beyond the last time once at 0
    assert km.restricted_mean(10) == pytest.approx(1 + 0.8 + 0.4 + 0.2)
    assert np.isnan(km.variance[-1]) and all(np.isnan(band[-1]) for band in km.confidence_band())
    # S = 0.5 exactly from t = 5 to 6 (10 patients, one death a month): the start
    # of the segment (R would report the midpoint, 5.5).
    km = KaplanMeier.fit(np.arange(1, 11), np.ones(10), time_unit="months")
    assert km.median() == 5
    # Before any event the band is the point estimate itself.
    km = KaplanMeier.fit([1, 2, 3], [0, 1, 1], time_unit="months")
    assert all(band[0] == 1.0 for band in km.confidence_band())


def test_delayed_entry_risk_sets_by_hand():
    # (entry, time, event); at risk at t when entry < t <= time.
    entry, time, event = [0, 0, 1, 2.5, 0], [2, 4, 3, 5, 6], [1, 0, 1, 1, 1]
    km = KaplanMeier.fit(time, event, time_unit="years", entry=entry)
    assert list(km.n_at_risk) == [4, 4, 3, 2, 1]  # at t = 2 patient 4 has not entered yet
    np.testing.assert_allclose(km.survival, [3 / 4, 9 / 16, 9 / 16, 9 / 32, 0.0])
    assert list(km.n_at_risk_at([2.5, 2.6])) == [3, 4]  # entering at 2.5 is not at risk at 2.5
    # All entries at 0 (with positive times) changes nothing.
    plain = KaplanMeier.fit(FREIREICH_TIME, FREIREICH_EVENT, time_unit="weeks")
    zero_entry = KaplanMeier.fit(FREIREICH_TIME, FREIREICH_EVENT, time_unit="weeks", entry=np.zeros(21))
    np.testing.assert_array_equal(plain.survival, zero_entry.survival)


def test_nelson_aalen_by_hand():
    na = nelson_aalen(FREIREICH_TIME, FREIREICH_EVENT)
    n = np.array([21, 17, 15, 12, 11, 7, 6])
    d = np.array([3, 1, 1, 1, 1, 1, 1])
    mask = na.n_events > 0
    np.testing.assert_allclose(na.cumulative_hazard[mask], np.cumsum(d / n), rtol=1e-12)
    np.testing.assert_allclose(na.variance[mask], np.cumsum(d / n**2), rtol=1e-12)
    assert na.cumulative_hazard[mask][0] == pytest.approx(3 / 21)


def test_smoothed_hazard_by_hand_and_at_the_boundary():
    # One event at 5 of 2 at risk: ΔH = 1/2, so inside the data h(t) = K((t - 5)/b) / (2 b).
    hazard = smoothed_hazard([5, 20], [1, 0], [5, 6, 8], bandwidth=2)
    np.testing.assert_allclose(hazard, [0.75 / 4, 0.75 * (1 - 0.25) / 4, 0])
    # Constant hazard 0.1: the boundary kernels keep the estimate near 0.1 at t = 0
    # (a plain kernel cut at 0 would give about half).
    rng = np.random.default_rng(7)
    event_time, censor_time = rng.exponential(10, 4000), rng.uniform(0, 40, 4000)
    time, event = np.minimum(event_time, censor_time), (event_time <= censor_time).astype(int)
    hazard = smoothed_hazard(time, event, [0, 1, 10, 20], bandwidth=4)
    np.testing.assert_allclose(hazard, 0.1, rtol=0.1)
    assert np.isnan(smoothed_hazard(time, event, [time.max() + 1], bandwidth=4)[0])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: KaplanMeier.fit([1, 2], [1, 0], time_unit="month"), r"time_unit is 'month': unknown time unit"),
        (lambda: KaplanMeier.fit([1, -2], [1, 0], time_unit="days"), r"time \[patient 1\] is -2\.0: .*not be negative"),
        (lambda: KaplanMeier.fit([1, 2], [1, 2], time_unit="days"), r"event \[patient 1\] is 2\.0: must be 1 .* or 0"),
        (lambda: KaplanMeier.fit([1, 2], [1], time_unit="days"), r"event has 1 values but time has 2"),
        (lambda: KaplanMeier.fit([1, np.nan], [1, 1], time_unit="days"), r"time\[1\] is nan: every value must be a finite number"),
        (lambda: KaplanMeier.fit([], [], time_unit="days"), r"time is empty"),
        (lambda: KaplanMeier.fit([1, 2], [1, 1], time_unit="days", entry=[0, 2]),
         r"entry \[patient 1\] is 2\.0 with time 2\.0: .*entry < time"),
        (lambda: KaplanMeier.fit([1, 2], [1, 1], time_unit="days").quantile(1.0), r"p is 1\.0: must lie strictly"),
        (lambda: KaplanMeier.fit([1, 2], [1, 1], time_unit="days").confidence_band(95), r"level is 95: .*between 0 and 1"),
        (lambda: KaplanMeier.fit([1, 2], [1, 1], time_unit="days").confidence_band(method="logit"),
         r"method is 'logit': unknown confidence band"),
        (lambda: KaplanMeier.fit([1, 2], [1, 0], time_unit="days").restricted_mean(3),
         r"tau is 3\.0 days: after the last observed time 2\.0 days, where survival is still 0\.5"),
        (lambda: KaplanMeier.fit([1, 2], [1, 0], time_unit="days").survival_at([1, -1]), r"t\[1\] is -1\.0: .*not be negative"),
        (lambda: smoothed_hazard([1, 2], [1, 1], [1], bandwidth=1.5), r"bandwidth is 1\.5: .*at most half the last"),
    ],
)
def test_nonparametric_bad_input(call, message):
    with pytest.raises(InputError, match=message):
        call()


# ---------------------------------------------------------------- round trip

RESOLUTION = 0.1  # months: digitised times are read to this


def simulate(seed: int, shape: float, n: int = 400):
    """Weibull event times with median 12 months, uniform censoring over 36 months."""
    rng = np.random.default_rng(seed)
    event_time = 12.0 / np.log(2) ** (1 / shape) * rng.weibull(shape, n)
    censor_time = rng.uniform(0, 36, n)
    return np.minimum(event_time, censor_time), (event_time <= censor_time).astype(int)


def digitise(km: KaplanMeier, spacing: float = 1.0, visible: float = 0.0125):
    """Read a Kaplan–Meier figure as a digitiser would: both corners of a step
    wherever the curve has fallen another ``visible`` since the last corner read
    (so every step in the tail, where single steps are that large), a point
    every ``spacing`` months along the way, and the curve's end; time read to
    ``RESOLUTION`` and survival to 0.001."""
    steps = km.n_events > 0
    level = np.floor((1.0 - km.survival[steps]) / visible + 1e-9)
    corners = km.times[steps][np.diff(level, prepend=0.0) > 0]
    grid = np.arange(0.0, km.times[-1], spacing)
    time = np.concatenate((grid, corners, corners, km.times[-1:]))
    survival = np.concatenate((km.survival_at(grid), km.survival_at(np.maximum(corners - 1e-9, 0)),
                               km.survival_at(corners), km.survival[-1:]))
    order = np.lexsort((-survival, time))
    return np.round(time[order] / RESOLUTION) * RESOLUTION, np.round(survival[order], 3)


def gap(original: KaplanMeier, rebuilt: KaplanMeier, at: np.ndarray) -> float:
    """Largest vertical distance between the curves at times ``at``, letting the
    original move by up to half the digitising resolution in time: a step read
    at 7.0 may have been at 6.96 or 7.04, and in the tail one step is 0.02–0.04."""
    shift = RESOLUTION / 2
    at = at[at <= min(original.times[-1], rebuilt.times[-1]) - shift]
    value = rebuilt.survival_at(at)
    upper, lower = original.survival_at(np.maximum(at - shift, 0)), original.survival_at(at + shift)
    return float(np.max(np.maximum(0.0, np.maximum(value - upper, lower - value))))


def weibull_median(time: np.ndarray, event: np.ndarray) -> float:
    data = stats.CensoredData(uncensored=time[event == 1], right=time[event == 0])
    shape, _, scale = stats.weibull_min.fit(data, floc=0)
    return scale * np.log(2) ** (1 / shape)


@pytest.mark.verification(
    kind="simulation",
    against="simulated patients, digitised and reconstructed (Guyot 2012): numbers at risk, Kaplan–Meier "
            "curve, medians",
    tolerance="numbers at risk exact; curves within 0.02; medians rel 0.05")
@pytest.mark.parametrize("seed, shape", [(1, 0.7), (2, 2.5), (3, 1.0), (4, 1.5)])
def test_round_trip_from_patients_to_digitised_curve_and_back(seed, shape):
    time, event = simulate(seed, shape)
    original = KaplanMeier.fit(time, event, time_unit="months")
    times, survival = digitise(original)
    assert 100 <= times.size <= 200
    risk_times = np.arange(0.0, original.times[-1], 3.0)
    n_at_risk = original.n_at_risk_at(risk_times)

    data = reconstruct_patient_data(times, survival, risk_times, n_at_risk, time_unit="months")
    rebuilt = KaplanMeier.fit(data.time, data.event, time_unit="months")

    assert data.time.size == time.size
    np.testing.assert_array_equal(rebuilt.n_at_risk_at(risk_times), n_at_risk)
    assert gap(original, rebuilt, times) <= 0.02
    assert gap(original, rebuilt, np.linspace(0, times[-1], 2000)) <= 0.02
    assert rebuilt.median() == pytest.approx(original.median(), rel=0.05)
    assert weibull_median(data.time, data.event) == pytest.approx(weibull_median(time, event), rel=0.05)
    # and refitted with the project's own maximum likelihood, for two families
    for family in ("weibull", "llogis"):
        refitted = fit(family, PatientData(data.time, data.event, "months")).curve.median()[0]
        assert refitted == pytest.approx(fit(family, PatientData(time, event, "months")).curve.median()[0], rel=0.05)


def test_round_trip_with_total_events_and_the_frame():
    time, event = simulate(5, 1.2)
    original = KaplanMeier.fit(time, event, time_unit="months")
    times, survival = digitise(original)
    risk_times = np.arange(0.0, original.times[-1], 3.0)
    data = reconstruct_patient_data(times, survival, risk_times, original.n_at_risk_at(risk_times),
                                    total_events=int(event.sum()), time_unit="months")
    assert abs(int(data.event.sum()) - int(event.sum())) <= 0.02 * event.sum()
    assert data.time[-1] == times[-1]  # followed to the end of the curve
    frame = data.to_frame()
    assert frame.columns.tolist() == ["time", "event"] and len(frame) == 400
    assert frame.attrs["time_unit"] == "months"


def test_reconstruction_by_hand_without_censoring():
    # 10 patients, nobody censored: drops of 1, 2 and 3 patients; 4 left at the end.
    data = reconstruct_patient_data([0, 1, 2, 3], [1, 0.9, 0.7, 0.4], [0], [10], total_events=6, time_unit="weeks")
    assert list(data.time) == [1, 2, 2, 3, 3, 3, 3, 3, 3, 3]
    assert list(data.event) == [1, 1, 1, 1, 1, 1, 0, 0, 0, 0]
    # One censoring needed by t = 2 (9 would remain): spread to the middle of [0, 2).
    data = reconstruct_patient_data([0, 1, 2, 3], [1, 0.9, 0.9, 0.675], [0, 2], [10, 8], time_unit="weeks")
    assert list(data.time[:2]) == [1, 1] and sorted(data.event[:2]) == [0, 1]
    assert data.event.sum() == 3  # 0.9 × (8 - 2) / 8 = 0.675


def test_risk_time_between_digitised_points_and_trailing_zero_column():
    # No point at 3 (flat from 2 to 5) and a column at 9 after the curve ends, with 0 at risk.
    data = reconstruct_patient_data([0, 2, 5, 6], [1, 0.8, 0.6, 0.5], [0, 3, 6, 9], [100, 75, 40, 0],
                                    time_unit="months")
    assert data.time.size == 100
    rebuilt = KaplanMeier.fit(data.time, data.event, time_unit="months")
    assert list(rebuilt.n_at_risk_at([0, 3, 6])) == [100, 75, 40]
    np.testing.assert_allclose(rebuilt.survival_at([2, 5, 6]), [0.8, 0.6, 0.5], atol=0.01)


def test_clean_digitised_curve_removes_the_usual_noise():
    times, survival = clean_digitised_curve([0.0, 2.1, 1.0, -0.05, 3.0, 3.0], [0.998, 0.71, 0.9, 1.002, 0.6, 0.62])
    np.testing.assert_array_equal(times, [0.0, 0.0, 1.0, 2.1, 3.0, 3.0])
    np.testing.assert_array_equal(survival, [1.0, 0.998, 0.9, 0.71, 0.62, 0.6])
    times, survival = clean_digitised_curve([1.0, 2.0, 3.0], [0.9, 0.91, 0.8])
    np.testing.assert_array_equal(times, [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(survival, [1.0, 0.9, 0.9, 0.8])
    data = reconstruct_patient_data(times, survival, [0, 2], [20, 17], time_unit="months")
    assert data.time.size == 20


# A valid curve and table; each case below breaks one rule.
CURVE_T = [0, 1, 2, 3, 4, 5, 6]
CURVE_S = [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
RISK_T = [0, 3, 6]
RISK_N = [100, 68, 38]


def reconstruct(times=CURVE_T, survival=CURVE_S, risk_times=RISK_T, n_at_risk=RISK_N, **kwargs):
    kwargs.setdefault("time_unit", "months")
    return reconstruct_patient_data(times, survival, risk_times, n_at_risk, **kwargs)


def test_the_valid_example_is_accepted():
    assert reconstruct().time.size == 100


@pytest.mark.parametrize(
    "kwargs, message",
    [
        # the curve
        ({"survival": CURVE_S[:-1]}, r"times has 7 points but survival has 6"),
        ({"times": [0], "survival": [1]}, r"times has 1 points: a digitised curve needs at least 2"),
        ({"times": [-0.1, 1, 2, 3, 4, 5, 6]}, r"times \[point 0\] is -0\.1: a time must not be negative"),
        ({"times": [0, 1, 2, 1.5, 4, 5, 6]}, r"times \[point 3\]: 1\.5 after 2\.0; digitised times must not decrease"),
        ({"survival": [1, 0.9, 1.2, 0.7, 0.6, 0.5, 0.4]}, r"survival \[point 2\] is 1\.2: must lie in \[0\.0, 1\.0\]"),
        ({"survival": [1, 0.9, 0.8, 0.7, 0.6, 0.5, -0.01]}, r"survival \[point 6\] is -0\.01: must lie in"),
        ({"survival": [0.98, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4]}, r"survival \[point 0\] is 0\.98 at time 0: .*starts at 1"),
        ({"survival": [1, 0.9, 0.8, 0.7, 0.6, 0.65, 0.4]},
         r"survival \[point 5\]: 0\.65 after 0\.6 at 5\.0 months; a digitised survival curve must not increase"),
        ({"survival": [1, 0.9, np.nan, 0.7, 0.6, 0.5, 0.4]}, r"survival\[2\] is nan: every value must be a finite"),
        # the table
        ({"n_at_risk": [100, 68]}, r"risk_times has 3 columns but n_at_risk has 2"),
        ({"risk_times": [1, 3, 6]}, r"risk_times \[column 0\] is 1\.0: .*must start at time 0"),
        ({"risk_times": [0, 3, 3]}, r"risk_times \[column 2\]: 3\.0 after 3\.0; risk times must increase"),
        ({"n_at_risk": [100, 67.5, 38]}, r"n_at_risk \[column 1\] is 67\.5: numbers at risk must be whole numbers"),
        ({"n_at_risk": [100, 68, -1]}, r"n_at_risk \[column 2\] is -1\.0: .*not negative"),
        ({"n_at_risk": [0, 0, 0]}, r"n_at_risk \[column 0\] is 0: at least one patient"),
        ({"n_at_risk": [100, 38, 68]}, r"n_at_risk \[column 2\] is 68 after 38 at 6\.0 months; .*must not increase"),
        # the table against the curve
        ({"risk_times": [0, 3, 6, 9], "n_at_risk": [100, 68, 38, 5]},
         r"n_at_risk \[column 3\] is 5 at 9\.0 months, after the digitised curve ends at 6\.0 months"),
        ({"survival": [1, 0.5, 0.2, 0, 0, 0, 0], "n_at_risk": [100, 20, 1]},
         r"n_at_risk \[column 2\] is 1 at 6\.0 months, but the curve reached 0 at 3\.0 months"),
        ({"n_at_risk": [100, 0, 0]},
         r"survival \[point 3\] falls to 0\.7 at 3\.0 months, after n_at_risk \[column 1\] is 0 at 3\.0 months"),
        # S(3-) = 0.8 so at most 80 of 100 survive to 3; slack max(1, 2% of 100) = 2.
        ({"n_at_risk": [100, 83, 38]},
         (r"n_at_risk \[column 1\] is 83 at 3\.0 months, but the curve falls from 1\.0 to 0\.8 between 0\.0 and 3\.0 "
         r"months while 100 are at risk: even with no censoring at most 80\.0 remain")),
        ({"risk_times": [0, 13, 26], "n_at_risk": [100, 68, 38], "times": [0, 10, 20, 30], "survival": [1, 0.5, 0.3, 0.2]},
         r"n_at_risk \[column 1\] is 68 at 13\.0 months, but the curve falls from 1\.0 to 0\.5"),
        # total_events: the curve allows between 39.8 (censoring first) and 53.1 (no censoring) events.
        ({"total_events": 10.5}, r"total_events is 10\.5: must be a whole number"),
        ({"total_events": -1}, r"total_events is -1: must be a whole number of events, not negative"),
        ({"total_events": 101}, r"total_events is 101: more than the 100 patients at risk at time 0"),
        ({"total_events": 37}, r"total_events is 37, but the curve and the numbers at risk allow between 39\.8 and 53\.1"),
        ({"total_events": 56}, r"total_events is 56, but .* allow between 39\.8 and 53\.1 events \(slack 2\)"),
        ({"time_unit": "month"}, r"time_unit is 'month': unknown time unit"),
    ],
)
def test_reconstruction_bad_input(kwargs, message):
    with pytest.raises(InputError, match=message):
        reconstruct(**kwargs)


@pytest.mark.parametrize("kwargs", [{"n_at_risk": [100, 82, 38]}, {"total_events": 38}, {"total_events": 55}])
def test_reconstruction_consistency_rules_allow_their_slack(kwargs):
    assert reconstruct(**kwargs).time.size == 100
