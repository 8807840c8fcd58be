"""The uncertainty of the shipped HCC evidence: every strategy's second-line shares, with the
share starting none, drawn together (Dirichlet over shares, their concentrations sourced or
stated assumptions), so that they never sum above 1, with their stated means and variances;
the progressed utility drawn as the progression-free one minus a decrement, never above it;
the base case as before (tests/models/test_hcc_pinned.py pins its results)."""
import math

import numpy as np
import pytest
import yaml
from scipy import stats

from markov import InputError
from markov.decision import dsa
from markov.inputs import EvidenceLibrary, load_analysis
from markov.inputs.structures import share_groups

N = 10_000
PROGRESSED, FREE = "su_2021.utility_progressed", "su_2021.utility_progression_free"


@pytest.fixture(scope="module")
def shipped():
    inputs = load_analysis()
    return inputs, inputs.sample(N, seed=7)


def test_every_strategys_second_line_shares_sum_to_at_most_one_in_every_draw(shipped):
    inputs, draws = shipped
    groups = {tuple(group) for population in inputs.populations.values()
              for strategy in population.strategies.values() for group in share_groups(strategy)}
    assert len(groups) == 4  # after Atezo-Bev, sorafenib, lenvatinib and TACE ± RT
    for group in groups:
        assert all(ref in inputs.uncertain for ref in group), group  # none is fixed any more
        total = sum(draws[ref] for ref in group)
        assert (total <= 1.0 + 1e-12).all() and (total > 0).all(), group


@pytest.mark.parametrize("ref, mean, variance", [
    # Persano 2024: Dirichlet over 446 assumed progressors: each share Beta(446 p, 446 (1 - p))
    ("persano_2024.lenvatinib_after_progression", 0.1823, 0.1823 * 0.8177 / 447),
    ("persano_2024.sorafenib_after_progression", 0.1082, 0.1082 * 0.8918 / 447),
    # REFLECT (Alsina 2020): the lenvatinib arm's 478 patients
    ("reflect_alsina_2020.sorafenib_after_lenvatinib", 0.25, 0.25 * 0.75 / 479),
    ("reflect_alsina_2020.other_subsequent_after_lenvatinib", 0.076, 0.076 * 0.924 / 479),
    # after TACE ± RT, assumed: Dirichlet(6, 4, 10)
    ("assumptions.atezo_bev_after_locoregional", 0.3, 0.3 * 0.7 / 21),
    ("assumptions.sorafenib_after_locoregional", 0.2, 0.2 * 0.8 / 21),
    # after sorafenib: treated Beta(73.03, 35.97) (73/109, IMbrave150) times an assumed Beta(3, 3) split
    ("assumptions.regorafenib_after_sorafenib", 0.335,
     (0.67 * 0.33 / 110 + 0.67**2) * (0.25 / 7 + 0.25) - 0.335**2),
    ("assumptions.cabozantinib_after_sorafenib", 0.335,
     (0.67 * 0.33 / 110 + 0.67**2) * (0.25 / 7 + 0.25) - 0.335**2),
])
def test_shares_have_their_stated_means_and_variances(shipped, ref, mean, variance):
    inputs, draws = shipped
    assert inputs.evidence[ref].value.value == mean  # the base case, as before
    assert inputs.marginal(ref) == pytest.approx((mean, math.sqrt(variance)), rel=1e-9)
    x = draws[ref]
    assert abs(x.mean() - mean) < 4 * math.sqrt(variance / N), ref
    assert x.var() == pytest.approx(variance, rel=0.06), ref


def test_the_progressed_utility_is_never_above_the_progression_free_one(shipped):
    inputs, draws = shipped
    assert (draws[PROGRESSED] <= draws[FREE]).all()
    # the decrement: the published difference 0.76 - 0.68, with the progressed utility's published
    # SD, Beta(29, 13.6) (the progression-free imprecision enters through its own draw)
    sd = stats.beta(29, 13.6).std()
    assert sd == pytest.approx(0.0706, abs=5e-5)
    decrement = draws[FREE] - draws[PROGRESSED]
    assert abs(decrement.mean() - 0.08) < 4 * sd / math.sqrt(N)
    assert decrement.std() == pytest.approx(sd, rel=0.05)
    assert inputs.distributions[PROGRESSED].decrement.mean == pytest.approx(0.08, rel=1e-12)
    # the base case is the published value
    assert inputs.base_case()[PROGRESSED][0] == 0.68 and inputs.base_case()[FREE][0] == 0.76


def test_values_drawn_from_another_follow_it_in_a_deterministic_row(shipped):
    inputs, _ = shipped
    params = inputs.with_values({FREE: np.array([0.76, 0.5]),
                                 "su_2021.subsequent_therapy_after_sorafenib": np.array([0.67, 0.8])}, 2)
    np.testing.assert_allclose(params[PROGRESSED], [0.68, 0.42])
    np.testing.assert_allclose(params["assumptions.regorafenib_after_sorafenib"], [0.335, 0.4])
    # a value given itself is taken as given
    given = inputs.with_values({FREE: 0.5, PROGRESSED: 0.45}, 1)
    assert given[PROGRESSED][0] == 0.45
    # the one-way range of the progressed utility: the decrement's quantiles below the source's estimate
    ranges = dsa.input_ranges(inputs, [PROGRESSED]).iloc[0]
    decrement = inputs.distributions[PROGRESSED].decrement
    assert (ranges["low"], ranges["high"]) == pytest.approx((0.76 - decrement.ppf(0.975), 0.76 - decrement.ppf(0.025)))


def test_a_user_evidence_file_can_split_a_shipped_share(tmp_path):
    """The link is checked across files, for a user's evidence too."""
    directory = tmp_path / "ev"
    directory.mkdir()
    content = {"source": {"citation": "user", "url": "https://example.org/u", "kind": "assumptions"},
               "values": {"x": {"value": 0.5, "unit": "proportion", "status": "assumption", "range": [0, 1],
                                "note": "n"},
                          "y": {"value": 0.2, "unit": "proportion", "status": "assumption", "range": [0, 1],
                                "note": "n"},
                          "k": {"value": 10, "unit": "count", "status": "assumption", "range": [1, 100], "note": "n"}},
               "joint": {"s": {"values": ["x", "y"], "distribution": "dirichlet", "concentration": "k",
                               "of": "su_2021.subsequent_therapy_after_sorafenib"}}}
    (directory / "user.yaml").write_text(yaml.safe_dump(content))
    with pytest.raises(InputError, match=r"user.yaml: joint.s: the shares sum to 0.7, but they split"):
        EvidenceLibrary.load([directory])
    content["values"]["x"]["value"] = 0.47
    (directory / "user.yaml").write_text(yaml.safe_dump(content))
    assert str(EvidenceLibrary.load([directory]).joint_of("user.x")).startswith(
        "su_2021.subsequent_therapy_after_sorafenib x Dirichlet([7.01493, 2.98507])")


def test_a_concentration_sets_the_spread_not_the_shares(shipped):
    inputs, _ = shipped
    share, concentration = "persano_2024.lenvatinib_after_progression", "persano_2024.progressors_effective_sample_size"
    assert concentration not in inputs.uncertain and concentration not in set(dsa.input_ranges(inputs)["reference"])
    wider = inputs.with_changes({concentration: 200})
    assert wider.evidence[share].value.value == 0.1823
    assert wider.marginal(share) == pytest.approx((0.1823, math.sqrt(0.1823 * 0.8177 / 201)), rel=1e-9)
