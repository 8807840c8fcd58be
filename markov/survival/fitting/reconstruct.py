"""Individual patient data reconstructed from a published Kaplan–Meier curve.

Implements the iterative algorithm of Guyot, Ades, Ouwens & Welton (2012),
"Enhanced secondary analysis of survival data: reconstructing the data from
published Kaplan-Meier survival curves", BMC Med Res Methodol 12:9.

Inputs are the digitised curve (points (t_k, S_k), read off the figure) and the
numbers at risk printed under it. Within each interval between two times of the
risk table, censoring is spread evenly and its amount adjusted until the
reconstructed number at risk at the start of the next interval matches the
table; events at each digitised point are those that make the reconstructed
Kaplan–Meier curve follow the digitised one.

Digitisation noise (a curve that rises slightly, points out of order, S(0)
read as 0.998) is refused by :func:`reconstruct_patient_data`; fix it
explicitly with :func:`clean_digitised_curve` so that the change is visible in
the analysis script.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..._validate import InputError, _first, _number, as_float_array, check_range
from .._base import check_time_unit

# Slack, in patients, when comparing the risk table and total_events with what
# the digitised curve implies: max(1, SLACK_FRACTION × patients concerned).
# Reading S off a figure to ±0.005 moves the implied numbers by a few patients;
# a table from another arm or in another time unit misses by far more.
SLACK_FRACTION = 0.02


def _slack(n_patients: ArrayLike) -> np.ndarray:
    """Slack in patients for ``n_patients`` concerned (scalar or array)."""
    return np.maximum(1.0, SLACK_FRACTION * np.asarray(n_patients, dtype=np.float64))


@dataclass(frozen=True, eq=False)
class ReconstructedData:
    """Reconstructed individual patient data, one row per patient, sorted by time.

    Attributes
    ----------
    time : numpy.ndarray
        Time of event or censoring, in ``time_unit``.
    event : numpy.ndarray
        1 for an event, 0 for censoring (int).
    time_unit : str
        Unit of ``time``.
    """

    time: np.ndarray
    event: np.ndarray
    time_unit: str

    def to_frame(self) -> pd.DataFrame:
        """Columns ``time`` and ``event``; ``attrs["time_unit"]`` holds the unit."""
        frame = pd.DataFrame({"time": self.time, "event": self.event})
        frame.attrs["time_unit"] = self.time_unit
        return frame


def clean_digitised_curve(times: ArrayLike, survival: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Remove the usual digitisation noise from a curve read off a figure.

    In order: negative times (clicks left of the axis) become 0 and survival
    is clipped to [0, 1]; points are sorted by time (ties by decreasing
    survival, so both corners of a step stay in order); the curve is made to
    start at S(0) = 1, by setting the first point to 1 if it is at time 0 or by
    adding (0, 1) otherwise; and survival is made non-increasing by taking the
    running minimum, so a point read slightly above its predecessor is lowered
    to it.

    Parameters
    ----------
    times, survival : array_like, shape (n,)
        Digitised points: time (any unit) and survival proportion.

    Returns
    -------
    times, survival : numpy.ndarray
        The cleaned curve, with one more point than given if (0, 1) was added.
    """
    times = np.maximum(as_float_array(times, "times", ndim=(1,)), 0.0)
    survival = np.clip(as_float_array(survival, "survival", ndim=(1,)), 0.0, 1.0)
    if times.size != survival.size:
        raise InputError(f"times has {times.size} points but survival has {survival.size}: each point needs both")
    if times.size == 0:
        raise InputError("times is empty: at least one digitised point is needed")
    order = np.lexsort((-survival, times))
    times, survival = times[order], survival[order]
    if times[0] > 0:
        times, survival = np.insert(times, 0, 0.0), np.insert(survival, 0, 1.0)
    survival[0] = 1.0
    return times, np.minimum.accumulate(survival)


def _curve(times, survival, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """The digitised curve, validated (rules 1–3 of :func:`reconstruct_patient_data`)."""
    times = as_float_array(times, "times", ndim=(1,))
    survival = as_float_array(survival, "survival", ndim=(1,))
    if times.size != survival.size:
        raise InputError(f"times has {times.size} points but survival has {survival.size}: each point needs both")
    if times.size < 2:
        raise InputError(f"times has {times.size} points: a digitised curve needs at least 2")
    bad = times < 0
    if bad.any():
        k = _first(bad)[0]
        raise InputError(f"times [point {k}] is {_number(times[k])}: a time must not be negative")
    bad = np.diff(times) < 0
    if bad.any():
        k = _first(bad)[0] + 1
        raise InputError(
            f"times [point {k}]: {_number(times[k])} after {_number(times[k - 1])}; digitised times must not "
            "decrease (sort the points, or call clean_digitised_curve)"
        )
    check_range(survival, "survival", 0.0, 1.0, ("point",))
    if times[0] == 0 and survival[0] != 1:
        raise InputError(
            f"survival [point 0] is {_number(survival[0])} at time 0: a survival curve starts at 1 "
            "(call clean_digitised_curve to set S(0) = 1)"
        )
    bad = np.diff(survival) > 0
    if bad.any():
        k = _first(bad)[0] + 1
        raise InputError(
            f"survival [point {k}]: {_number(survival[k])} after {_number(survival[k - 1])} at "
            f"{_number(times[k])} {unit}; a digitised survival curve must not increase "
            "(call clean_digitised_curve to remove digitisation noise)"
        )
    return times, survival


def _risk_table(risk_times, n_at_risk, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """The numbers-at-risk table, validated (rules 4–5)."""
    risk_times = as_float_array(risk_times, "risk_times", ndim=(1,))
    n_at_risk = as_float_array(n_at_risk, "n_at_risk", ndim=(1,))
    if risk_times.size != n_at_risk.size:
        raise InputError(
            f"risk_times has {risk_times.size} columns but n_at_risk has {n_at_risk.size}: one number per time"
        )
    if risk_times.size == 0:
        raise InputError("risk_times is empty: the table needs at least the number at risk at time 0")
    if risk_times[0] != 0:
        raise InputError(f"risk_times [column 0] is {_number(risk_times[0])}: the numbers-at-risk table must start at time 0")
    bad = np.diff(risk_times) <= 0
    if bad.any():
        i = _first(bad)[0] + 1
        raise InputError(
            f"risk_times [column {i}]: {_number(risk_times[i])} after {_number(risk_times[i - 1])}; risk times must increase"
        )
    bad = (n_at_risk < 0) | (n_at_risk != np.round(n_at_risk))
    if bad.any():
        i = _first(bad)[0]
        raise InputError(f"n_at_risk [column {i}] is {_number(n_at_risk[i])}: numbers at risk must be whole numbers, not negative")
    if n_at_risk[0] == 0:
        raise InputError("n_at_risk [column 0] is 0: at least one patient must be at risk at time 0")
    bad = np.diff(n_at_risk) > 0
    if bad.any():
        i = _first(bad)[0] + 1
        raise InputError(
            f"n_at_risk [column {i}] is {n_at_risk[i]:.0f} after {n_at_risk[i - 1]:.0f} at {_number(risk_times[i])} "
            f"{unit}; numbers at risk must not increase"
        )
    return risk_times, n_at_risk.astype(np.int64)


def _survival_before(t: np.ndarray, s: np.ndarray, r: np.ndarray) -> np.ndarray:
    """S(r-): the curve just before each time r (its last point before r; 1 if none)."""
    before = np.searchsorted(t, r, side="left") - 1
    return np.where(before >= 0, s[np.maximum(before, 0)], 1.0)


def _check_consistency(t: np.ndarray, s: np.ndarray, r: np.ndarray, n: np.ndarray, unit: str) -> None:
    """Raise if the risk table cannot belong to the curve (rules 6–9)."""
    beyond = (r > t[-1]) & (n > 0)
    if beyond.any():
        i = _first(beyond)[0]
        raise InputError(
            f"n_at_risk [column {i}] is {n[i]} at {_number(r[i])} {unit}, after the digitised curve ends at "
            f"{_number(t[-1])} {unit}; digitise the curve up to the last time with patients at risk"
        )
    s_before = _survival_before(t, s, r)
    bad = (s_before == 0) & (n > 0)
    if bad.any():
        i = _first(bad)[0]
        t_zero = t[np.argmax(s == 0)]
        raise InputError(
            f"n_at_risk [column {i}] is {n[i]} at {_number(r[i])} {unit}, but the curve reached 0 at "
            f"{_number(t_zero)} {unit}: nobody can remain at risk once survival has fallen to 0"
        )
    if (n == 0).any():
        i = int(np.argmax(n == 0))
        falls = (t >= r[i]) & (s < s_before[i])
        if falls.any():
            k = _first(falls)[0]
            raise InputError(
                f"survival [point {k}] falls to {_number(s[k])} at {_number(t[k])} {unit}, after n_at_risk "
                f"[column {i}] is 0 at {_number(r[i])} {unit}: the curve cannot fall when nobody is at risk"
            )
    # With no censoring the survivors of an interval are n_i × S(r_i+1 -) / S(r_i -);
    # censoring only lowers that, so it bounds the next number at risk.
    with np.errstate(divide="ignore", invalid="ignore"):
        most = n[:-1] * s_before[1:] / s_before[:-1]
    excess = n[1:] - most > _slack(n[:-1])
    if excess.any():
        i = _first(excess)[0]
        raise InputError(
            f"n_at_risk [column {i + 1}] is {n[i + 1]} at {_number(r[i + 1])} {unit}, but the curve falls from "
            f"{_number(s_before[i])} to {_number(s_before[i + 1])} between {_number(r[i])} and {_number(r[i + 1])} "
            f"{unit} while {n[i]} are at risk: even with no censoring at most {most[i]:.1f} remain (slack "
            f"{_slack(n[i]):g}); check that the curve and the table are from the same arm and time unit"
        )


def _total_events(total_events, s: np.ndarray, n: np.ndarray, s_before: np.ndarray) -> int | None:
    """``total_events`` validated against the curve and the risk table (rule 10)."""
    if total_events is None:
        return None
    if not (isinstance(total_events, (int, float, np.integer, np.floating)) and float(total_events).is_integer()
            and total_events >= 0):
        raise InputError(f"total_events is {total_events!r}: must be a whole number of events, not negative")
    if total_events > n[0]:
        raise InputError(f"total_events is {int(total_events)}: more than the {n[0]} patients at risk at time 0")
    # Over an interval with survival ratio ρ, deaths before any censoring give the
    # most events, n_i (1 - ρ); censoring first gives the fewest, n_i+1 (1/ρ - 1).
    ratio = np.append(s_before[1:], s[-1]) / np.where(s_before > 0, s_before, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        fewest = np.where(n[1:] > 0, n[1:] * (1.0 / ratio[:-1] - 1.0), 0.0).sum()
    most = (n * (1.0 - ratio)).sum()
    slack = _slack(n[0])
    if not fewest - slack <= total_events <= most + slack:
        raise InputError(
            f"total_events is {int(total_events)}, but the curve and the numbers at risk allow between "
            f"{fewest:.1f} and {most:.1f} events (slack {slack:g}); check that they are from the same arm"
        )
    return int(total_events)


def _knots(t: np.ndarray, s: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The curve from (0, 1), with a point at every risk time so that each
    interval of the table starts on a point (S there is the step value)."""
    if t[0] > 0:
        t, s = np.insert(t, 0, 0.0), np.insert(s, 0, 1.0)
    missing = r[~np.isin(r, t)]
    where = np.searchsorted(t, missing, side="left")
    return np.insert(t, where, missing), np.insert(s, where, s[where - 1])


@dataclass(frozen=True)
class _Interval:
    """Reconstruction over one interval of the risk table for one amount of censoring."""

    events: np.ndarray  # events at each point of the interval
    censor_times: np.ndarray  # times of the censorings kept
    at_risk_end: int  # reconstructed number at risk after the interval
    km_end: float  # reconstructed Kaplan–Meier at the last event so far


def _interval(t: np.ndarray, s: np.ndarray, k0: int, k1: int, t_end: float, n_start: int, km_start: float,
              n_censor: int) -> _Interval:
    """Points k0..k1 (times t[k0] … t[k1], the interval running to t_end) with
    ``n_censor`` censorings spread evenly over (t[k0], t_end)."""
    censor_times = t[k0] + (t_end - t[k0]) * np.arange(1, n_censor + 1) / (n_censor + 1)
    # Censorings in [t_k, t_k+1) belong to point k: counted at risk for its events.
    point = np.searchsorted(t[k0:k1 + 1], censor_times, side="right") - 1
    planned = np.bincount(point, minlength=k1 - k0 + 1)
    events = np.zeros(k1 - k0 + 1, dtype=np.int64)
    kept = np.zeros_like(events)
    at_risk, km = n_start, km_start
    for j, k in enumerate(range(k0, k1 + 1)):
        if at_risk > 0 and km > 0:
            # Events that take the reconstructed curve from its last value down to S_k.
            events[j] = min(max(round(at_risk * (1.0 - s[k] / km)), 0), at_risk)
            km *= 1.0 - events[j] / at_risk
        kept[j] = min(planned[j], at_risk - events[j])
        at_risk -= events[j] + kept[j]
    # Keep the first `kept` censorings of each point (fewer only when nobody is left).
    rank = np.arange(n_censor) - np.searchsorted(point, point, side="left")
    return _Interval(events, censor_times[rank < kept[point]], int(at_risk), km)


def _adjust_censoring(run: Callable[[int], _Interval], gap: Callable[[_Interval], int], guess: int,
                      most: int) -> _Interval:
    """Guyot's iteration: add ``gap`` (reconstructed minus published) to the number
    censored, kept within [0, ``most``], until the gap is 0 or cannot shrink
    further. Stops at a repeated number (rounding can make it cycle, and a
    bound can make it stick) with the closest fit."""
    tried: dict[int, _Interval] = {}
    n_censor = min(max(guess, 0), most)
    while n_censor not in tried:
        result = tried[n_censor] = run(n_censor)
        miss = gap(result)
        if miss == 0:
            return result
        n_censor = min(max(n_censor + miss, 0), most)
    return min(tried.values(), key=lambda result: abs(gap(result)))


def reconstruct_patient_data(
    times: ArrayLike,
    survival: ArrayLike,
    risk_times: ArrayLike,
    n_at_risk: ArrayLike,
    *,
    total_events: int | None = None,
    time_unit: str,
) -> ReconstructedData:
    """Reconstruct individual patient data from a digitised Kaplan–Meier curve.

    Guyot et al. (2012). Events are placed at digitised times (the drop from
    S_k-1 to S_k at t_k); censorings are spread evenly over each interval of
    the risk table, their number adjusted until the reconstructed number at
    risk at the next table time matches the published one. After the last
    table time the censoring rate is that of the earlier intervals (leaving at
    least one patient followed to the end of the curve), or, if
    ``total_events`` is given, whatever brings the total number of events
    closest to it (see Notes). Patients still at risk at the end of the curve
    are censored at its last time. Two deliberate differences from the published R code: when an
    interval cannot be matched exactly (rounding, digitisation error within the
    slack below) the next interval starts from the reconstructed number, not the
    published one, so the data always hold exactly ``n_at_risk[0]`` patients;
    and each censoring keeps its evenly spread time rather than the midpoint
    between digitised points.

    Parameters
    ----------
    times, survival : array_like, shape (m,)
        Digitised curve: times in ``time_unit``, survival proportions. Both
        corners of a step may be given (two points at one time). If the first
        time is after 0, (0, 1) is assumed before it.
    risk_times, n_at_risk : array_like, shape (q,)
        The numbers-at-risk table: times in ``time_unit`` and patients at risk
        (time ≥ t) at each.
    total_events : int, optional
        Total number of events, if published; fixes censoring after the last
        table time.
    time_unit : str
        One of "days", "weeks", "months", "years".

    Returns
    -------
    ReconstructedData
        ``n_at_risk[0]`` patients.

    Raises
    ------
    InputError
        Naming the point or table column and the rule broken. Write S(r-) for
        the curve just before time r (the last point before r; 1 if none), and
        slack(n) = max(1, 0.02 n) patients. Curve:

        1. times and survival have equal length, at least 2 points, finite;
        2. times are ≥ 0 and non-decreasing;
        3. survival lies in [0, 1], is 1 at a point at time 0, never increases.

        Risk table:

        4. risk_times start at 0 and increase;
        5. n_at_risk are whole numbers ≥ 0, non-increasing, n_at_risk[0] ≥ 1.

        Curve against table:

        6. no patients at risk after the curve's last time (a later column
           must hold 0; it is then ignored);
        7. no patients at risk at r once S(r-) = 0;
        8. once n_at_risk is 0 at r, the curve does not fall at or after r;
        9. n_i+1 ≤ n_i S(r_i+1 -) / S(r_i -) + slack(n_i): with no censoring,
           n_i S(r_i+1 -) / S(r_i -) patients survive the interval, and
           censoring only lowers that;
        10. total_events is a whole number in [0, n_at_risk[0]] and, with
            ρ_i the curve's fall S(r_i+1 -) / S(r_i -) over interval i (to the
            curve's end for the last), lies within slack(n_at_risk[0]) of
            [Σ n_i+1 (1/ρ_i - 1), Σ n_i (1 - ρ_i)]: the fewest events (all
            censoring first) and the most (no censoring) the curve allows.

    Notes
    -----
    Guyot's algorithm honours ``total_events`` only through censoring after the
    last table time. Events before it are fixed by the table, and a coarsely
    digitised curve (drops lumped at the next digitised point, after the
    censorings in between) tends to yield a few percent fewer of them than
    the trial had; where the last interval cannot make up the difference the
    total falls short of ``total_events`` rather than the fit to the curve
    being spoilt.
    """
    unit = check_time_unit(time_unit)
    t, s = _curve(times, survival, unit)
    r, n = _risk_table(risk_times, n_at_risk, unit)
    _check_consistency(t, s, r, n, unit)
    r, n = r[r <= t[-1]], n[r <= t[-1]]
    total = _total_events(total_events, s, n, _survival_before(t, s, r))
    t, s = _knots(t, s, r)
    first = np.searchsorted(t, r, side="left")
    last = np.append(first[1:] - 1, t.size - 1)

    events = np.zeros(t.size, dtype=np.int64)
    censor_times = []
    at_risk, km = int(n[0]), 1.0
    for i in range(r.size - 1):
        k0, k1 = int(first[i]), int(last[i])

        run = partial(_interval, t, s, k0, k1, r[i + 1], at_risk, km)
        ratio = s[first[i + 1]] / s[k0] if s[k0] > 0 else 0.0
        result = _adjust_censoring(run, lambda result, i=i: result.at_risk_end - int(n[i + 1]),
                                   round(at_risk * ratio - n[i + 1]), at_risk)
        events[k0:k1 + 1] = result.events
        censor_times.append(result.censor_times)
        at_risk, km = result.at_risk_end, result.km_end

    k0, t_end = int(first[-1]), t[-1]

    run_last = partial(_interval, t, s, k0, t.size - 1, t_end, at_risk, km)
    most = int(run_last(0).events.sum())
    if total is None:
        # Censor at the average rate of the earlier intervals, but leave someone
        # followed to the end of the curve, as its drawn length shows.
        censored_before = sum(part.size for part in censor_times)
        guess = round(censored_before * (t_end - r[-1]) / r[-1]) if r.size > 1 else 0
        result = run_last(min(guess, max(at_risk - most - 1, 0)))
    else:
        target = min(max(total - int(events.sum()), 0), most)
        result = _adjust_censoring(run_last, lambda result: int(result.events.sum()) - target, 0, at_risk)
    events[k0:] = result.events
    censor_times.append(result.censor_times)
    censor_times.append(np.full(result.at_risk_end, t_end))

    censored = np.concatenate(censor_times)
    time = np.concatenate((np.repeat(t, events), censored))
    event = np.concatenate((np.ones(events.sum(), dtype=np.int64), np.zeros(censored.size, dtype=np.int64)))
    order = np.argsort(time, kind="stable")
    return ReconstructedData(time[order], event[order], unit)
