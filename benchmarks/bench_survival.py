"""Survival-family benchmark: 10,000 parameter samples of each family on a weekly grid.

    python benchmarks/bench_survival.py [--draws 10000] [--repeats 7]

For each family, times S(t) for all samples on the 1,044-point weekly grid of 20 years
(one vectorised call) against scipy.stats doing the same work (its ``sf`` broadcast
over the same parameter arrays), checks that both agree to 1e-10, and prints the
medians and their ratio. Families scipy does not have (Royston–Parmar, piecewise
exponential, mixture cure, waning) are timed on their own. Parameter draws are
synthetic and only set the amount of work.
"""
from __future__ import annotations

import argparse

import numpy as np
from scipy import stats
from timing import median_seconds

import markov.survival as sv


def cases(n: int, rng: np.random.Generator):
    """(name, our curve, scipy frozen distribution or None), parameters drawn per sample."""
    u = lambda low, high: rng.uniform(low, high, n)  # noqa: E731
    k, s = u(0.8, 1.6), u(10, 30)
    yield "exp", sv.Exponential(1 / s, time_unit="months"), stats.expon(scale=s[:, None])
    yield "weibull", sv.Weibull(k, s, time_unit="months"), stats.weibull_min(k[:, None], scale=s[:, None])
    b = s ** -k
    yield "weibullPH", sv.WeibullPH(k, b, time_unit="months"), stats.weibull_min(k[:, None], scale=s[:, None])
    a, r = u(0.01, 0.05), u(0.02, 0.05)
    yield "gompertz", sv.Gompertz(a, r, time_unit="months"), stats.gompertz((r / a)[:, None], scale=(1 / a)[:, None])
    yield "llogis", sv.LogLogistic(k, s, time_unit="months"), stats.fisk(k[:, None], scale=s[:, None])
    mu, sd = u(2.0, 3.0), u(0.8, 1.3)
    yield "lnorm", sv.LogNormal(mu, sd, time_unit="months"), stats.lognorm(sd[:, None], scale=np.exp(mu)[:, None])
    yield "gamma", sv.Gamma(k, k / s, time_unit="months"), stats.gamma(k[:, None], scale=(s / k)[:, None])
    q = u(0.2, 0.9)
    gamma = q**-2
    yield ("gengamma", sv.GeneralizedGamma(mu, sd, q, time_unit="months"),
           stats.gengamma(gamma[:, None], (q / sd)[:, None], scale=(np.exp(mu) * gamma ** (-sd / q))[:, None]))
    knots = np.log([1.0, 8.0, 40.0])
    spline_gamma = np.column_stack([u(-3.2, -2.8), u(1.1, 1.4), u(-0.01, 0.01)])
    yield "survspline (hazard, 1 knot)", sv.RoystonParmar(spline_gamma, knots, scale="hazard", time_unit="months"), None
    yield "piecewise exponential (4 pieces)", sv.PiecewiseExponential(
        np.column_stack([1 / s, 0.8 / s, 1.2 / s, 1 / s]), [6.0, 12.0, 24.0], time_unit="months"), None
    yield "mixture cure (weibull, US life table)", sv.MixtureCure(
        u(0.05, 0.2), sv.Weibull(k, s, time_unit="months"), sv.GeneralPopulationSurvival("us_2023", 62, 0.2)), None
    yield "weibull, HR waning 12-60 months", sv.WaningHazardRatio(
        sv.Weibull(k, s, time_unit="months"), u(0.5, 0.8), 12.0, 60.0), None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    weeks = np.arange(1045) * 7 / 365.25  # 1,044 weekly cycles over 20 years, in years
    months = weeks * 12
    rng = np.random.default_rng(2026)
    print(f"S(t) for {args.draws:,} samples x {months.size:,} weekly time points; median of {args.repeats} runs")
    print(f"{'family':<40} {'ours':>9} {'scipy.stats':>12} {'ratio':>7}")
    for name, curve, reference in cases(args.draws, rng):
        ours, values = median_seconds(lambda: curve.survival(months), args.repeats)
        if reference is None:
            print(f"{name:<40} {ours:8.3f}s {'-':>12} {'-':>7}")
            continue
        theirs, expected = median_seconds(lambda: reference.sf(months[None, :]), args.repeats)
        np.testing.assert_allclose(values, expected, rtol=1e-10, atol=1e-300)
        print(f"{name:<40} {ours:8.3f}s {theirs:11.3f}s x{theirs / ours:6.1f}")


if __name__ == "__main__":
    main()
