"""Values drawn from one another (markov/inputs/draws.py, links in markov/inputs/evidence.py):
a Dirichlet over shares with a concentration, one splitting another share (``of``), and a
value drawn as another minus a decrement, checked on small test files against closed
forms (the shipped HCC evidence: tests/models/test_hcc_uncertainty.py)."""
import math

import numpy as np
import pytest
from scipy import stats

from markov import InputError
from markov.inputs import EvidenceLibrary
from markov.inputs.evidence import EvidenceFile

N = 10_000


def value(v, unit, **extra):
    return {"value": v, "unit": unit, "status": "verified", "where": "test", **extra}


def library(values: dict, joint: dict | None = None, stem: str = "t", others: dict | None = None) -> EvidenceLibrary:
    """A library of one test file ``stem`` (and ``others``: stem -> (values, joint))."""
    files = {}
    for name, (vals, blocks) in {stem: (values, joint or {}), **(others or {})}.items():
        files[name] = EvidenceFile.model_validate({
            "source": {"citation": name, "url": "https://example.org/t", "kind": "trial"},
            "values": vals, "joint": blocks})
    result = EvidenceLibrary(files, {name: f"{name}.yaml" for name in files})
    result.check_links()
    return result


SHARES = {"a": value(0.2, "proportion"), "b": value(0.3, "proportion"), "rest": value(0.5, "proportion"),
          "n": value(40, "count")}
BLOCK = {"row": {"values": ["a", "b", "rest"], "distribution": "dirichlet", "concentration": "n"}}


# ---------------------------------------------------------------------------------
# a Dirichlet over shares
# ---------------------------------------------------------------------------------

def test_shares_with_a_concentration_are_a_dirichlet_summing_to_one():
    draw = library(SHARES, BLOCK).joint_of("t.a")
    assert str(draw) == "Dirichlet([8, 12, 20]) (concentration t.n), jointly (t.row)"
    shares = draw.transform(np.random.default_rng(1).uniform(size=(N, 3)))
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, rtol=1e-12)
    for j, share in enumerate((0.2, 0.3, 0.5)):
        beta = stats.beta(40 * share, 40 * (1 - share))  # each share's marginal
        assert abs(shares[:, j].mean() - beta.mean()) < 4 * beta.std() / math.sqrt(N)
        assert shares[:, j].std() == pytest.approx(beta.std(), rel=0.04)
    # one at a time (a one-way analysis): the share's own Beta quantiles
    np.testing.assert_allclose(draw.one_at_a_time("t.b", [0.025, 0.975]), stats.beta(12, 28).ppf([0.025, 0.975]))


def test_shares_splitting_a_share_sum_to_its_draw():
    """A Beta(60, 40) share treated, split 3:1 by Dirichlet(3, 1): the split shares sum to
    the treated share in every draw; mean and variance of a product of independents."""
    parent = {"treated": value(0.6, "proportion", n=100)}
    split = {"x": value(0.45, "proportion"), "y": value(0.15, "proportion"), "k": value(4, "count")}
    lib = library(split, {"s": {"values": ["x", "y"], "distribution": "dirichlet", "concentration": "k",
                                "of": "p.treated"}}, others={"p": (parent, {})})
    draw = lib.joint_of("t.x")
    assert draw.parent == "p.treated" and draw.needs == ("p.treated",) and draw.scale == pytest.approx(0.6)
    rng = np.random.default_rng(2)
    treated = stats.beta(60, 40).ppf(rng.uniform(size=N))
    shares = draw.transform(rng.uniform(size=(N, 2)), treated)
    np.testing.assert_allclose(shares.sum(axis=1), treated, rtol=1e-12)
    p, s = stats.beta(60, 40), stats.beta(3, 1)
    mean, variance = p.mean() * s.mean(), (p.var() + p.mean() ** 2) * (s.var() + s.mean() ** 2) - (p.mean() * s.mean()) ** 2
    assert abs(shares[:, 0].mean() - mean) < 4 * math.sqrt(variance / N)
    assert shares[:, 0].var() == pytest.approx(variance, rel=0.06)
    # the split at its quantile times the treated share at its estimate
    np.testing.assert_allclose(draw.one_at_a_time("t.x", [0.5]), 0.6 * s.ppf(0.5))


@pytest.mark.parametrize("values, joint, rule", [
    ({**SHARES, "rest": value(0.4, "proportion")}, BLOCK, "the shares sum to 0.9"),
    (SHARES, {"row": {**BLOCK["row"], "concentration": "a"}}, "must be a value of this file with unit count"),
    (SHARES, {"row": {**BLOCK["row"], "concentration": "m"}}, "must be a value of this file with unit count"),
    ({**SHARES, "c": value(3, "count")}, {"row": {"values": ["a", "c"], "distribution": "dirichlet",
                                                  "concentration": "n", "of": "t.b"}}, "unit 'count'"),
    (SHARES, {"row": {"values": ["a", "b"], "distribution": "dirichlet", "of": "t.rest"}}, "needs a concentration"),
    (SHARES, {"row": {**BLOCK["row"], "distribution": "multivariate_normal", "covariance": [[1, 0, 0]] * 3}},
     "belong to a dirichlet"),
    (SHARES, {"row": {"values": ["a", "b", "rest"], "distribution": "dirichlet"}}, "a dirichlet is over counts"),
])
def test_a_badly_given_dirichlet_over_shares_is_refused(values, joint, rule):
    with pytest.raises(ValueError, match=rule):
        library(values, joint)


def test_shares_splitting_a_share_must_sum_to_it():
    split = {"x": value(0.45, "proportion"), "y": value(0.25, "proportion"), "k": value(4, "count")}
    with pytest.raises(InputError, match=r"sum to 0\.7, but they split p\.treated = 0\.6"):
        library(split, {"s": {"values": ["x", "y"], "distribution": "dirichlet", "concentration": "k",
                              "of": "p.treated"}}, others={"p": ({"treated": value(0.6, "proportion")}, {})})


def test_changing_a_share_moves_the_rest_or_the_share_it_splits():
    lib = library(SHARES, BLOCK)
    changed = lib.with_changes({"t.a": 0.4}, "test")
    assert changed["t.rest"].value.value == pytest.approx(0.3) and changed["t.b"].value.value == 0.3
    with pytest.raises(InputError, match="the rest of joint distribution t.row"):
        lib.with_changes({"t.rest": 0.4}, "test")
    with pytest.raises(InputError, match="would sum above 1"):
        lib.with_changes({"t.a": 0.8}, "test")
    with pytest.raises(InputError, match="must be a value of this file with unit count, above 0"):
        lib.with_changes({"t.n": 0}, "test")
    split = {"x": value(0.45, "proportion"), "y": value(0.15, "proportion"), "k": value(4, "count")}
    nested = library(split, {"s": {"values": ["x", "y"], "distribution": "dirichlet", "concentration": "k",
                                   "of": "p.treated"}}, others={"p": ({"treated": value(0.6, "proportion", n=100)}, {})})
    scaled = nested.with_changes({"p.treated": 0.8}, "test")  # the split is kept
    assert (scaled["t.x"].value.value, scaled["t.y"].value.value) == pytest.approx((0.6, 0.2))
    moved = nested.with_changes({"t.x": 0.5}, "test")  # more treated, the other share as it was
    assert (moved["p.treated"].value.value, moved["t.y"].value.value) == pytest.approx((0.65, 0.15))


# ---------------------------------------------------------------------------------
# a value drawn as another minus a decrement
# ---------------------------------------------------------------------------------

DECREMENT = {"free": value(0.8, "utility", distribution={"type": "beta", "alpha": 8, "beta": 2}),
             "progressed": value(0.7, "utility", decrement_from="t.free",
                                 decrement={"type": "gamma", "mean": 0.1, "se": 0.05})}


def test_a_decrement_is_drawn_below_its_source():
    drawn = library(DECREMENT).drawn("t.progressed")
    assert (drawn.source, drawn.base, str(drawn)) == ("t.free", pytest.approx(0.1), "t.free - Gamma(4, 0.025)")
    rng = np.random.default_rng(3)
    free = stats.beta(8, 2).ppf(rng.uniform(size=N))
    progressed = drawn.transform(rng.uniform(size=N), free)
    assert (progressed <= free).all()
    decrement = free - progressed
    assert abs(decrement.mean() - 0.1) < 4 * 0.05 / math.sqrt(N) and decrement.std() == pytest.approx(0.05, rel=0.04)


@pytest.mark.parametrize("change, rule", [
    ({"progressed": value(0.7, "utility", decrement_from="t.free")}, "go together"),
    ({"progressed": value(0.7, "utility", decrement_from="t.free", decrement={"type": "normal", "mean": 0.1,
                                                                               "se": 0.1})}, "can be negative"),
    ({"progressed": value(0.7, "utility", decrement_from="t.free", decrement={"type": "fixed"}, se=0.1)},
     "takes no se of its own"),
])
def test_a_badly_given_decrement_is_refused(change, rule):
    with pytest.raises(ValueError, match=rule):
        library({**DECREMENT, **change})


@pytest.mark.parametrize("change, rule", [
    ({"progressed": value(0.9, "utility", decrement_from="t.free", decrement={"type": "fixed"})},
     "is above t.free"),
    ({"progressed": value(0.7, "utility", decrement_from="t.nowhere", decrement={"type": "fixed"})},
     "no such evidence value"),
    ({"progressed": value(0.7, "proportion", decrement_from="t.free", decrement={"type": "fixed"})},
     "a decrement is within one unit"),
    ({"free": value(0.8, "utility", decrement_from="t.progressed", decrement={"type": "fixed"}),
      "progressed": value(0.8, "utility", decrement_from="t.free", decrement={"type": "fixed"})},
     "cannot be drawn from itself"),
])
def test_a_decrement_must_fit_its_source(change, rule):
    with pytest.raises(InputError, match=rule):
        library({**DECREMENT, **change})


def test_changing_a_decrement_or_its_source():
    lib = library(DECREMENT)
    moved = lib.with_changes({"t.free": 0.9}, "test")  # the decrement is kept
    assert moved["t.progressed"].value.value == pytest.approx(0.8)
    recentred = lib.with_changes({"t.progressed": 0.6}, "test")  # the decrement's SD is kept
    assert str(recentred.drawn("t.progressed")) == "t.free - Gamma(16, 0.0125)"
    with pytest.raises(InputError, match="cannot exceed it"):
        lib.with_changes({"t.progressed": 0.85}, "test")
