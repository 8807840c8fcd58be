"""Probabilistic sensitivity analysis (markov/psa.py): seeded, chunk-invariant draws,
the inputs' distributions, and the decision-analysis views of the results."""
import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from markov import uncertainty
from markov.decision import cea, voi
from markov._validate import InputError
from markov.cli import main
from markov.inputs import load_analysis
from markov.decision import probabilistic as decide
from markov.decision.probabilistic import running_mean
from markov.probabilistic import psa as psa_module
from markov.probabilistic.psa import evaluate_chunk, read_psa, run_psa
from markov.probabilistic.store import Plan, default_chunk_size
from markov.uncertainty import DRAWS_PER_SEED_BLOCK, uniform_rows


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The shipped model on a coarse grid (monthly cycles, 10 years) to keep runs short."""
    path = tmp_path_factory.mktemp("analysis") / "small.yaml"
    path.write_text(yaml.safe_dump({"name": "small", "cycle_length_days": 30.4375, "horizon_years": 10}))
    return load_analysis(path)


def test_uniform_rows_do_not_depend_on_how_they_are_split():
    whole = uniform_rows(11, 0, 3 * DRAWS_PER_SEED_BLOCK + 5, 4)
    pieces = np.concatenate([uniform_rows(11, i, min(i + 333, len(whole)), 4) for i in range(0, len(whole), 333)])
    np.testing.assert_array_equal(whole, pieces)
    assert ((whole > 0) & (whole < 1)).all()
    assert not np.array_equal(uniform_rows(12, 0, 10, 4), whole[:10])
    with pytest.raises(InputError, match="seed is -1"):
        uniform_rows(-1, 0, 10, 4)


def test_psa_is_identical_whatever_the_chunk_size(small):
    one = run_psa(small, 40, seed=5, chunk_size=40)
    many = run_psa(small, 40, seed=5, chunk_size=7)
    pd.testing.assert_frame_equal(one.outcomes, many.outcomes, check_exact=True)
    pd.testing.assert_frame_equal(one.parameters, many.parameters, check_exact=True)
    # and draw i is the same as when asked for alone
    later = small.sample(5, seed=5, start=30)
    for ref in small.uncertain:
        np.testing.assert_array_equal(later[ref], one.parameters[ref].to_numpy()[30:35])


def test_a_chunk_larger_than_an_evaluation_block_is_evaluated_block_by_block_with_the_same_bits(small, monkeypatch):
    model = psa_module.build_model(small)
    whole = evaluate_chunk(small, 5, 0, 40, model)  # one block (blocks hold 500)
    sizes = []
    evaluate = model.evaluate

    def counted(params, **options):
        sizes.append(params.n_samples)
        return evaluate(params, **options)

    monkeypatch.setattr(model, "evaluate", counted)
    monkeypatch.setattr(psa_module, "EVALUATION_BLOCK_DRAWS", 7)
    chunk = evaluate_chunk(small, 5, 0, 40, model)
    assert sizes == [7, 7, 7, 7, 7, 5]
    assert (chunk.start, chunk.stop) == (0, 40)
    for part in ("parameters", "outcomes", "unreachable"):
        pd.testing.assert_frame_equal(getattr(chunk, part), getattr(whole, part), check_exact=True)
        assert isinstance(getattr(chunk, part).index, pd.RangeIndex)


@pytest.mark.parametrize(("n", "size"), [(1, 500), (7_999, 500), (10_000, 500), (15_999, 500), (16_000, 1_000),
                                         (31_999, 1_500), (32_000, 2_000), (159_999, 9_500), (160_000, 10_000),
                                         (1_000_000, 10_000)])
def test_a_stored_psa_takes_chunks_of_500_to_10000_draws_at_least_16_where_the_draws_allow(n, size):
    assert default_chunk_size(n) == size
    plan = Plan(n, 1)
    assert plan.chunk_size == size and plan.n_chunks >= min(16, -(-n // 500))
    assert Plan(n, 1, 7).chunk_size == 7  # asked for: kept


def test_psa_results_feed_the_decision_analysis(small):
    psa = run_psa(small, 60, seed=2)
    costs, effects, strategies = psa.costs_and_effects("imbrave150")
    assert costs.shape == (60, len(strategies)) == effects.shape
    first = psa.outcomes[("imbrave150", strategies[0], "cost")].to_numpy()
    np.testing.assert_array_equal(costs[:, 0], first)
    long = psa.long_outcomes()
    assert len(long) == 60 * sum(len(psa.strategies(p)) for p in psa.populations)
    np.testing.assert_array_equal(long[(long["population"] == "imbrave150") & (long["strategy"] == strategies[0])]
                                  ["cost"], first)
    wtp = [0.0, 100_000.0, 300_000.0]
    ceac = decide.acceptability(psa, "imbrave150", wtp)
    np.testing.assert_allclose(ceac.groupby("wtp")["probability_cost_effective"].sum(), 1.0, rtol=0, atol=1e-12)
    assert list(ceac["strategy"].unique()) == strategies  # keyed by strategy, labels beside
    assert list(ceac["label"].unique()) == psa.strategy_labels("imbrave150")
    nmb = psa.net_benefit("imbrave150", 100_000.0)
    np.testing.assert_allclose(nmb, cea.net_benefit(costs, effects, 100_000.0), rtol=1e-15)
    assert decide.evpi(psa, "imbrave150", [100_000.0])["evpi"].iloc[0] == pytest.approx(voi.evpi(nmb), rel=1e-12)
    intervention, comparator = psa.comparisons["imbrave150"]
    expected = nmb[:, strategies.index(intervention)] - nmb[:, strategies.index(comparator)]
    np.testing.assert_allclose(psa.incremental_net_benefit("imbrave150", 100_000.0), expected, rtol=1e-12)
    frontier = decide.frontier(psa, "imbrave150", wtp)
    assert list(frontier["strategy"]) == list(np.asarray(strategies, dtype=object)[cea.optimal_strategy(costs, effects,
                                                                                                         wtp)])
    plane = decide.ce_plane(psa, "imbrave150")
    chosen = plane[plane["strategy"] == intervention]
    np.testing.assert_allclose(chosen["incremental_cost"], costs[:, strategies.index(intervention)]
                               - costs[:, strategies.index(comparator)], rtol=1e-15)


def test_running_mean_matches_direct_computation():
    values = np.random.default_rng(0).normal(size=(500, 2))
    table = running_mean(values, ["a", "b"], points=20)
    for row in table.itertuples():
        column = values[:row.n, ["a", "b"].index(row.comparison)]
        assert row.mean == pytest.approx(column.mean(), rel=1e-10, abs=1e-12)
        half = 1.96 * column.std(ddof=1) / np.sqrt(row.n)
        assert row.upper - row.mean == pytest.approx(half, rel=1e-8)
    assert table["n"].max() == 500


def test_every_uncertain_input_is_sampled_from_its_distribution():
    """20,000 draws of each uncertain input of the base case: the sample mean lies within
    4 Monte-Carlo standard errors of the distribution's mean, the sample SD within 5% of
    its SD, and for ratios and durations reported with a 95% CI (log-normal centred on
    the estimate, with the CI's width on the log scale), the sample's 2.5%–97.5% range
    has the CI's ratio upper/lower and the estimate as its geometric midpoint, within 3%."""
    inputs = load_analysis()
    n = 20_000
    params = inputs.sample(n, seed=3)
    checked_ci = 0
    for ref in inputs.uncertain:
        distribution, item = inputs.distributions[ref], inputs.evidence[ref].value
        values = params[ref]
        mean, sd = inputs.marginal(ref)  # of a value drawn jointly or as a decrement too
        assert abs(values.mean() - mean) <= 4 * sd / np.sqrt(n), ref
        assert values.std(ddof=1) == pytest.approx(sd, rel=0.05), ref
        if item.ci95 is not None and isinstance(distribution, uncertainty.LogNormal):
            low, high = np.quantile(values, [0.025, 0.975])
            assert high / low == pytest.approx(item.ci95[1] / item.ci95[0], rel=0.03), ref
            assert np.sqrt(low * high) == pytest.approx(item.value, rel=0.03), ref
            checked_ci += 1
    assert checked_ci >= 4  # hazard ratios and durations with a CI that a strategy uses
    # and the draws are independent across inputs (no accidental reuse of a column), but for
    # those drawn from one another (a joint distribution, a share it splits, a decrement's source)
    linked = {ref: {other for other, _ in inputs.evidence.dependencies(ref)} for ref in inputs.uncertain}
    independent = [ref for ref in inputs.uncertain
                   if not linked[ref] and not any(ref in others for others in linked.values())]
    assert len(independent) >= 20
    ranks = np.column_stack([stats.rankdata(params[ref]) for ref in independent])
    correlation = np.corrcoef(ranks, rowvar=False)
    off_diagonal = correlation[~np.eye(len(independent), dtype=bool)]
    assert np.abs(off_diagonal).max() < 4.5 / np.sqrt(n)


def test_transform_rejects_the_wrong_number_of_columns(small):
    with pytest.raises(InputError, match="one column per uncertain input"):
        small.transform(np.full((3, len(small.uncertain) + 1), 0.5))


def test_psa_rejects_bad_sizes(small):
    for kwargs, message in (({"n": 0}, "n is 0"), ({"n": 5, "chunk_size": 0}, "chunk_size is 0"),
                            ({"n": 2.5}, "n is 2.5")):
        with pytest.raises(InputError, match=message):
            run_psa(small, seed=1, **kwargs)


def test_cli_psa_writes_tables_and_figures(tmp_path, small, capsys):
    analysis = tmp_path / "small.yaml"
    analysis.write_text(yaml.safe_dump({"name": "small", "cycle_length_days": 30.4375, "horizon_years": 10,
                                        "populations": ["mvi"]}))
    out = tmp_path / "psa"
    assert main(["psa", str(analysis), "-n", "100", "--seed", "4", "--out", str(out),
                 "--annual-patients", "1000", "--decision-years", "5"]) == 0
    for stem in ("ce_plane_mvi", "ceac_mvi", "evpi_mvi", "evppi_mvi", "convergence_mvi"):
        for suffix in ("png", "svg"):
            assert (out / f"{stem}.{suffix}").stat().st_size > 0
    assert (out / "psa_store" / "manifest.json").is_file() and not list(out.glob("psa_samples*"))
    evppi = pd.read_csv(out / "evppi_mvi.csv")
    assert set(evppi["method"]) <= {"gam", "gp", "constant"}
    assert (evppi["evppi"] <= pd.read_csv(out / "evpi_mvi.csv")["evpi"].max() + 1e-6).all()
    ceac = pd.read_csv(out / "ceac_mvi.csv").set_index("wtp")
    np.testing.assert_allclose(ceac.sum(axis=1), 1.0, atol=1e-12)
    # population EVPI: 1,000 patients a year for 5 years at 3%: 1000 × Σ_{t<5} 1.03^-t per patient
    evpi = pd.read_csv(out / "evpi_mvi.csv")
    np.testing.assert_allclose(evpi["population_evpi"], evpi["evpi"] * 1000 * sum(1.03**-t for t in range(5)),
                               rtol=1e-12)
    assert (out / "evpi_population_mvi.svg").is_file()
    # the PSA read back is the PSA run (floats survive the store exactly); delta and PAWN run on it
    again = read_psa(out, load_analysis(analysis))
    direct = run_psa(load_analysis(analysis), 100, seed=4)
    pd.testing.assert_frame_equal(again.outcomes, direct.outcomes, check_exact=True)
    pd.testing.assert_frame_equal(again.parameters, direct.parameters, check_exact=True)
    assert main(["gsa", str(analysis), "--method", "pawn", "--from-psa", str(out), "--out", str(tmp_path / "g")]) == 0
    assert len(pd.read_csv(tmp_path / "g" / "pawn_mvi.csv")) == len(again.parameters.columns)
    assert main(["psa", str(analysis), "-n", "-3", "--out", str(out)]) == 2
    assert "markov: error: --samples is -3" in capsys.readouterr().err
    assert main(["gsa", str(analysis), "--method", "pawn", "--from-psa", str(tmp_path), "--out", str(out)]) == 2
    assert "no PSA results store here" in capsys.readouterr().err
