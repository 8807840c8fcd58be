"""Input distributions as transforms of U(0, 1) draws: quantiles against scipy.stats,
moment-matching constructors, intervals, Dirichlet shares, seeds and bad input."""
import numpy as np
import pytest
from scipy import stats

from markov import InputError
from markov.uncertainty import (
    Beta,
    Dirichlet,
    Fixed,
    Gamma,
    LogNormal,
    MultivariateNormal,
    Normal,
    Triangular,
    TruncatedNormal,
    Uniform,
)

# the tails as well as the body; all strictly inside (0, 1)
GRID = np.array([1e-12, 1e-6, 1e-3, 0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975, 0.999, 1 - 1e-6])
N = 200_000

# each distribution with the scipy.stats distribution of the same input
CASES = {
    "beta": (Beta(24.9, 58.1), stats.beta(24.9, 58.1)),
    "beta U-shaped": (Beta(0.5, 0.5), stats.beta(0.5, 0.5)),
    "beta skewed": (Beta(0.05, 7.0), stats.beta(0.05, 7.0)),
    "gamma": (Gamma(16.0, 75.0), stats.gamma(16.0, scale=75.0)),
    "gamma shape<1": (Gamma(0.3, 2.5), stats.gamma(0.3, scale=2.5)),
    "lognormal": (LogNormal(-0.5447, 0.1612), stats.lognorm(0.1612, scale=np.exp(-0.5447))),
    "normal": (Normal(0.72, 0.035), stats.norm(0.72, 0.035)),
    "uniform": (Uniform(-2.0, 5.0), stats.uniform(-2.0, 7.0)),
    "triangular": (Triangular(1.0, 2.5, 6.0), stats.triang(0.3, loc=1.0, scale=5.0)),
    "triangular mode=low": (Triangular(1.0, 1.0, 6.0), stats.triang(0.0, loc=1.0, scale=5.0)),
    "triangular mode=high": (Triangular(1.0, 6.0, 6.0), stats.triang(1.0, loc=1.0, scale=5.0)),
}


@pytest.mark.verification(
    kind="other software",
    against="scipy.stats quantiles, means and standard deviations of each distribution",
    tolerance="rtol 1e-12")
@pytest.mark.parametrize("name", CASES)
def test_ppf_and_moments_match_scipy(name):
    dist, reference = CASES[name]
    # same inverse-CDF algorithms or closed forms: agreement to 1e-12, relative (absolute near 0)
    np.testing.assert_allclose(dist.ppf(GRID), reference.ppf(GRID), rtol=1e-12, atol=1e-300)
    assert dist.mean == pytest.approx(reference.mean(), rel=1e-12)
    assert dist.sd == pytest.approx(reference.std(), rel=1e-12)
    # vectorised: any shape in, the same shape out
    assert dist.ppf(GRID.reshape(3, 4)).shape == (3, 4)
    assert dist.n_uniforms == 1


# a utility's normal truncated to [-1, 1]; a price's to [0, inf); bounds both above the mean
TRUNCATED = {
    "both bounds": (TruncatedNormal(0.9, 0.5, -1.0, 1.0), stats.truncnorm(-3.8, 0.2, loc=0.9, scale=0.5)),
    "one bound": (TruncatedNormal(100.0, 80.0, 0.0, np.inf), stats.truncnorm(-1.25, np.inf, loc=100.0, scale=80.0)),
    "upper tail": (TruncatedNormal(-2.0, 1.0, 0.0, 1.0), stats.truncnorm(2.0, 3.0, loc=-2.0)),
}


@pytest.mark.verification(
    kind="other software",
    against="scipy.stats.truncnorm quantiles, means and standard deviations",
    tolerance="quantiles to 1e-10 of sigma, absolute; moments rtol 1e-12")
@pytest.mark.parametrize("name", TRUNCATED)
def test_truncated_normal_matches_scipy(name):
    dist, reference = TRUNCATED[name]
    # Φ⁻¹(Φ(a) + u·Z) loses the digits of u·Z below Φ(a)'s last bit: absolute, not relative, accuracy near a bound
    np.testing.assert_allclose(dist.ppf(GRID), reference.ppf(GRID), rtol=0, atol=1e-10 * dist.sigma)
    assert dist.mean == pytest.approx(reference.mean(), rel=1e-12)
    assert dist.sd == pytest.approx(reference.std(), rel=1e-12)
    low, high = dist.ppf([GRID[0], GRID[-1]])
    assert dist.low <= low and high <= dist.high


def test_a_truncated_normal_keeps_enough_of_its_normal():
    with pytest.raises(InputError, match=r"keeps 0 of the probability of Normal\(5\.0, 0\.1\), less than 0\.001"):
        TruncatedNormal(5.0, 0.1, -1.0, 1.0)
    with pytest.raises(InputError, match=r"bounds \[1\.0, 1\.0\]: need low < high"):
        TruncatedNormal(0.5, 0.1, 1.0, 1.0)


def test_fixed_returns_its_value_for_every_uniform():
    fixed = Fixed(0.85)
    np.testing.assert_array_equal(fixed.ppf(GRID), np.full(GRID.size, 0.85))
    assert (fixed.mean, fixed.sd, fixed.n_uniforms) == (0.85, 0.0, 1)
    np.testing.assert_array_equal(fixed.sample(4, seed=1), [0.85] * 4)


def mc_standard_errors(draws):
    """Monte-Carlo standard errors of the sample mean and the sample sd (delta method:
    var(s²) ≈ (μ4 − σ⁴)/n, so se(s) ≈ sqrt((μ4 − s⁴)/n) / (2s))."""
    n, s = draws.size, draws.std(ddof=1)
    fourth = np.mean((draws - draws.mean()) ** 4)
    return s / np.sqrt(n), np.sqrt((fourth - s**4) / n) / (2 * s)


@pytest.mark.parametrize("cls, mean, se", [
    (Beta, 0.3, 0.05),          # a response probability
    (Beta, 0.92, 0.01),         # a utility near 1
    (Beta, 0.5, 0.45),          # U-shaped: alpha, beta < 1
    (Gamma, 1200.0, 300.0),     # a cost
    (Gamma, 0.5, 0.9),          # shape < 1
    (LogNormal, 2.0, 0.7),
    (LogNormal, 150.0, 1.5),    # a small relative SE
])
def test_from_mean_se_round_trips(cls, mean, se):
    dist = cls.from_mean_se(mean, se)
    # closed-form moments of the fitted distribution: equal to the targets to 1e-12 (relative)
    assert dist.mean == pytest.approx(mean, rel=1e-12)
    assert dist.sd == pytest.approx(se, rel=1e-12)
    # 200,000 draws: sample mean and sd within 4 Monte-Carlo standard errors of the targets
    draws = dist.sample(N, seed=11)
    se_mean, se_sd = mc_standard_errors(draws)
    assert abs(draws.mean() - mean) < 4 * se_mean
    assert abs(draws.std(ddof=1) - se) < 4 * se_sd


def test_lognormal_from_mean_se_with_zero_se_is_a_point():
    dist = LogNormal.from_mean_se(3.0, 0.0)
    assert dist.sdlog == 0.0
    np.testing.assert_allclose(dist.ppf(GRID), 3.0, rtol=1e-15)


def test_normal_from_ci_reproduces_the_interval():
    # utility 0.72 (95% CI 0.65 to 0.79): quantiles 2.5% and 97.5% give the interval back to 1e-9
    dist = Normal.from_ci(0.72, 0.65, 0.79)
    assert dist.sd == pytest.approx(0.14 / (2 * 1.959963984540054), rel=1e-12)
    np.testing.assert_allclose(dist.ppf([0.025, 0.5, 0.975]), [0.65, 0.72, 0.79], rtol=1e-9)
    ninety = Normal.from_ci(0.72, 0.65, 0.79, level=0.9)
    np.testing.assert_allclose(ninety.ppf([0.05, 0.95]), [0.65, 0.79], rtol=1e-9)


def test_lognormal_from_ci_reproduces_the_interval_on_the_log_scale():
    # HR 0.6 (95% CI 0.45 to 0.8): symmetric on the log scale (0.6² = 0.45·0.8), so the
    # 2.5% and 97.5% quantiles give the interval back to 1e-9 and the median is the estimate
    dist = LogNormal.from_ci(0.6, 0.45, 0.8)
    np.testing.assert_allclose(dist.ppf([0.025, 0.5, 0.975]), [0.45, 0.6, 0.8], rtol=1e-9)
    ninety = LogNormal.from_ci(0.6, 0.45, 0.8, level=0.9)
    np.testing.assert_allclose(ninety.ppf([0.05, 0.95]), [0.45, 0.8], rtol=1e-9)


def test_dirichlet_shares():
    dist = Dirichlet.from_counts([12, 5, 0, 3])
    alpha, total = dist.alpha, dist.alpha.sum()
    assert dist.n_uniforms == 4
    np.testing.assert_allclose(dist.mean, alpha / total, rtol=1e-15)
    positive = alpha > 0
    np.testing.assert_array_equal(dist.sd[~positive], 0.0)
    np.testing.assert_allclose(dist.sd[positive], np.sqrt(stats.dirichlet.var(alpha[positive])), rtol=1e-12)
    shares = dist.sample(N, seed=5)
    assert shares.shape == (N, 4)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, rtol=0, atol=1e-12)  # rows sum to 1 to 1e-12
    assert np.all(shares[:, 2] == 0.0)  # alpha 0: exactly 0, not merely small
    # sample means within 4 Monte-Carlo standard errors (closed-form sd / sqrt(n)) of alpha/sum(alpha)
    assert np.all(np.abs(shares.mean(axis=0) - dist.mean) <= 4 * dist.sd / np.sqrt(N))
    # each share's marginal is Beta(alpha_j, sum − alpha_j): KS test on 200,000 draws, fixed seed, p > 0.001
    for j in (0, 1, 3):
        marginal = stats.beta(alpha[j], total - alpha[j])
        assert stats.kstest(shares[:, j], marginal.cdf).pvalue > 0.001


def test_dirichlet_transform_is_the_gamma_construction():
    dist = Dirichlet([2.0, 0.5, 7.0])
    u = np.array([[0.1, 0.5, 0.9], [0.7, 0.2, 0.4]])
    gamma = stats.gamma([2.0, 0.5, 7.0]).ppf(u)
    np.testing.assert_allclose(dist.transform(u), gamma / gamma.sum(axis=1, keepdims=True), rtol=1e-12)
    # a single component is always the whole
    np.testing.assert_array_equal(Dirichlet([3.0]).sample(5, seed=1), np.ones((5, 1)))


def test_dirichlet_with_tiny_alpha_stays_finite():
    # gamma quantiles for alpha 0.001 underflow to 0 for most u; rows must still be shares, not 0/0
    dist = Dirichlet([0.001, 0.001, 0.002])
    shares = dist.sample(N, seed=8)
    assert np.isfinite(shares).all()
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # nearly every row puts (almost) all its mass on one component, with probability alpha_j/sum
    winners = np.bincount(shares.argmax(axis=1), minlength=3) / N
    assert np.all(np.abs(winners - dist.mean) <= 4 * np.sqrt(dist.mean * (1 - dist.mean) / N))


@pytest.mark.parametrize("dist", [
    Beta(2.0, 5.0), Gamma(2.0, 3.0), LogNormal(0.0, 0.5), Normal(0.0, 1.0), Uniform(0.0, 1.0),
    Triangular(0.0, 0.2, 1.0), Dirichlet([1.0, 2.0, 3.0]), MultivariateNormal([0.0, 1.0], np.eye(2)),
], ids=str)
def test_seeds(dist):
    np.testing.assert_array_equal(dist.sample(100, seed=42), dist.sample(100, seed=42))
    np.testing.assert_array_equal(dist.sample(100, seed=42), dist.sample(100, seed=np.random.default_rng(42)))
    assert not np.array_equal(dist.sample(100, seed=42), dist.sample(100, seed=43))


def test_names_and_block_sizes():
    assert str(Beta(12.3, 4.5)) == "Beta(12.3, 4.5)"
    assert str(Triangular(0, 0.25, 1)) == "Triangular(0, 0.25, 1)"
    assert str(Dirichlet([12, 5, 0])) == "Dirichlet([12, 5, 0])"
    mvn = MultivariateNormal([1.0, -2.0], [[0.04, 0.01], [0.01, 0.09]])
    assert str(mvn) == "MultivariateNormal(mean=[1, -2], sd=[0.2, 0.3])"
    assert mvn.n_uniforms == 2
    np.testing.assert_allclose(mvn.sd, [0.2, 0.3], rtol=1e-15)
    # the existing dataclass repr is unchanged
    assert repr(LogNormal(0.5, 0.25)) == "LogNormal(meanlog=0.5, sdlog=0.25)"


@pytest.mark.parametrize("make, message", [
    (lambda: Beta.from_mean_se(1.2, 0.1), r"Beta mean is 1.2: must lie strictly between 0 and 1"),
    (lambda: Beta.from_mean_se(0.3, 0.5), r"Beta se is 0.5: a beta with mean 0.3 needs se below"),
    (lambda: Beta.from_mean_se(0.3, 0.6, name="response rate"), r"^response rate se is 0.6: a beta with mean 0.3"),
    (lambda: Beta.from_mean_se(0.3, 0.0), r"Beta se is 0.0: must be a positive"),
    (lambda: Beta(0.0, 2.0), r"Beta alpha is 0.0: must be a positive"),
    (lambda: Gamma.from_mean_se(0.0, 1.0), r"Gamma mean is 0.0: must be a positive"),
    (lambda: Gamma.from_mean_se(-5.0, 1.0, name="drug cost"), r"drug cost mean is -5.0: must be a positive"),
    (lambda: Gamma(2.0, np.nan), r"Gamma scale is nan: must be a positive finite number"),
    (lambda: LogNormal.from_mean_se(-1.0, 0.2), r"LogNormal mean is -1.0: must be a positive"),
    (lambda: LogNormal(0.0, -0.1), r"LogNormal sdlog is -0.1: must be a non-negative"),
    (lambda: Normal(0.0, -1.0), r"Normal sd is -1.0: must be a non-negative"),
    (lambda: Normal.from_ci(0.72, 0.79, 0.65), r"Normal interval \(0.79, 0.65\) around 0.72: need lower < estimate"),
    (lambda: Uniform(2.0, 1.0), r"Uniform low is 2.0: must be a finite number below high \(1.0\)"),
    (lambda: Uniform(1.0, 1.0), r"Uniform low is 1.0: must be a finite number below high"),
    (lambda: Triangular(0.0, 5.0, 3.0), r"Triangular mode is 5.0: must lie in \[low, high\] = \[0.0, 3.0\]"),
    (lambda: Triangular(0.0, -1.0, 3.0), r"Triangular mode is -1.0: must lie in \[low, high\]"),
    (lambda: Dirichlet([1.0, -0.5, 2.0]), r"Dirichlet alpha \[1\] is -0.5: every entry must be non-negative"),
    (lambda: Dirichlet([0.0, 0.0]), r"Dirichlet alpha: all 2 entries are 0; at least one must be positive"),
    (lambda: Dirichlet.from_counts([3, -1]), r"Dirichlet counts \[1\] is -1.0: counts must be non-negative"),
    (lambda: Beta(2.0, 3.0).ppf([0.5, 1.0]), r"u \[1\] is 1.0: uniform draws must lie strictly between 0 and 1"),
    (lambda: Normal(0.0, 1.0).ppf(0.0), r"u is 0.0: uniform draws must lie strictly between 0 and 1"),
    (lambda: Dirichlet([1.0, 2.0]).transform([[0.5, 0.5], [0.2, -0.1]]), r"u \[1, 1\] is -0.1: uniform draws"),
    (lambda: Dirichlet([1.0, 2.0]).transform([[0.5, 0.5, 0.5]]), r"u: has 3 columns, expected 2"),
])
def test_bad_input_names_the_field(make, message):
    with pytest.raises(InputError, match=message):
        make()


def test_open_uniforms_never_reach_one_even_at_the_largest_integer_drawn():
    from markov.uncertainty import open_uniforms

    class Extremes(np.random.Generator):  # draws the smallest and the largest integers
        def integers(self, low, high, size=None, **options):
            return np.array([low, high - 1, high - 2, 2**52, 2**52 + 1])

    u = open_uniforms(Extremes(np.random.PCG64(0)), 5)
    assert ((u > 0) & (u < 1)).all()
    assert u[1] == np.nextafter(1.0, 0.0) and u[0] == 0.5 / 2.0**53
    np.testing.assert_array_equal(u[2:], (np.array([2**53 - 2, 2**52, 2**52 + 1]) + 0.5) / 2.0**53)
