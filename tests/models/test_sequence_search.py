"""A search over sequences against each sequence evaluated alone, its refusal when too
large, and the shipped search end to end."""
import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml
from curve_analyses import write_evidence

import markov
from markov._validate import InputError
from markov.cli import main
from markov.decision.cea import incremental_analysis
from markov.models.sequence_search import build_search, run_search

AGENTS = ("sorafenib", "lenvatinib", "regorafenib")
VALUES = {"median_sorafenib": (4.0, "months"), "median_lenvatinib": (6.0, "months"),
          "median_regorafenib": (3.0, "months"), "death": (0.2, "proportion"), "share": (0.6, "proportion")}
CURVES = {f"pfs_{agent}": {"family": "exp", "median": f"t.median_{agent}"} for agent in AGENTS}
USUAL = {agent: {"label": f"{agent} alone", "lines": [
    {"treatment": agent, "progression_free": f"pfs_{agent}", "pre_progression_death_share": "t.death"}]}
    for agent in ("sorafenib", "lenvatinib")}


def line(agent, k):
    return {"treatment": agent, "progression_free": f"pfs_{agent}", "pre_progression_death_share": "t.death",
            **({"share": "t.share"} if k else {})}


def write(directory, name, comparison=("lenvatinib", "sorafenib"), **settings):
    write_evidence(directory / "ev", VALUES)
    population = {"curves": CURVES, "comparison": dict(zip(("intervention", "comparator"), comparison, strict=True))}
    content = {"name": name, "populations": ["imbrave150"], "evidence_directories": ["ev"],
               "overrides": {"populations": {"imbrave150": population}}, **settings}
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(content, allow_unicode=True))
    return path


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sequences")
    rules = {"population": "imbrave150", "max_active_lines": 3,
             "classes": {"sorafenib": "tki", "lenvatinib": "tki", "regorafenib": "other"}, "not_in_a_row": ["tki"],
             "positions": [{"line": k + 1, **line(agent, k)} for k in range(3) for agent in AGENTS]}
    return directory, write(directory, "search", sequences=rules, strategies={"imbrave150": USUAL})


def test_the_frontier_of_a_search_is_that_of_each_sequence_evaluated_alone(synthetic):
    directory, path = synthetic
    results = markov.load(path).sequences(n=0)
    assert results.n_sequences == 9  # counted by hand in tests/inputs/test_sequence_rules.py
    search = results.run.search
    alone = {}
    for key, agents in zip(search.keys, search.treatments, strict=True):
        lines = USUAL[key]["lines"] if key in USUAL else [line(agent, k) for k, agent in enumerate(agents)]
        other = {"label": "other", "lines": USUAL["sorafenib"]["lines"]}  # a population compares two strategies
        single = write(directory, f"alone_{key}", comparison=(key, "other"),
                       strategies={"imbrave150": {key: {"label": key, "lines": lines}, "other": other}})
        table = markov.load(single).base_case().table
        row = table[table["strategy"] == key].iloc[0]
        alone[key] = (row["cost"], row["qalys"])
    cost = np.array([alone[key][0] for key in search.keys])
    qalys = np.array([alone[key][1] for key in search.keys])
    np.testing.assert_allclose(results.run.base_cost, cost, rtol=1e-12)
    np.testing.assert_allclose(results.run.base_qalys, qalys, rtol=1e-12)
    expected = incremental_analysis(cost, qalys, search.keys).set_index("strategy")
    found = results.frontier().set_index("strategy")
    assert (found["status"] == expected["status"]).all()
    np.testing.assert_allclose(found["icer"].to_numpy(float), expected["icer"].to_numpy(float), rtol=1e-9)
    assert set(found.index[found["status"] != "dominated"]) != set()


def test_draws_are_shared_and_chunks_change_nothing(synthetic):
    _, path = synthetic
    search = build_search(markov.load(path).inputs)
    whole = run_search(search, 30, seed=3)
    chunked = run_search(search, 30, seed=3, chunk_size=7)
    np.testing.assert_array_equal(whole.cost, chunked.cost)
    # the usual-care strategy's draws are those of the analysis's own PSA (same seed, same inputs)
    outcomes = markov.load(path).psa(30, seed=3).psa.outcomes
    for j, key in enumerate(search.keys[:2]):
        np.testing.assert_allclose(whole.cost[:, j], outcomes[("imbrave150", key, "cost")].to_numpy(), rtol=1e-12)


def test_a_search_too_large_is_refused_naming_the_count_and_the_memory(synthetic):
    _, path = synthetic
    analysis = markov.load(path)
    with pytest.raises(InputError, match=r"9 sequences \(\+ 2 usual-care strategies\) x 1,000 draws would need about "
                                         r"[0-9.]+ GiB \(limit 0.0 GiB\)"):
        analysis.sequences(n=1000, memory_limit=1000)
    many = markov.load(path).set({"sequences": {**analysis.inputs.analysis.sequences, "max_sequences": 5}})
    with pytest.raises(InputError, match="more than 5 sequences allowed by the rules"):
        many.sequences(n=0)


def test_rules_naming_an_unknown_curve_are_refused_at_load(synthetic):
    directory, path = synthetic
    rules = markov.load(path).inputs.analysis.sequences
    bad = {**rules, "positions": [{**rules["positions"][0], "progression_free": "pfs_nothing"}, *rules["positions"][1:]]}
    with pytest.raises(InputError, match=r"sequences: positions\[0\].progression_free = 'pfs_nothing': no curve of "
                                         r"that name in population 'imbrave150'"):
        markov.load(write(directory, "bad", sequences=bad))


@pytest.fixture(scope="module")
def shipped():
    return markov.load("analyses/hcc_sequences.yaml").sequences(n=40, seed=1)


def test_the_shipped_search(shipped, tmp_path):
    assert shipped.n_sequences == 14
    table = shipped.table
    assert len(table) == 17 and set(table["role"]) == {"sequence", "usual care"}
    assert "Atezo–Bev → lenvatinib → BSC" in set(table["label"])
    # the model is linear in the cohort: usual-care sorafenib (regorafenib and cabozantinib
    # each for half of those treated) is the mean of the two sequences
    base = dict(zip(shipped.keys, shipped.run.base_cost, strict=True))
    assert base["sorafenib"] == pytest.approx(
        (base["seq__sorafenib__regorafenib"] + base["seq__sorafenib__cabozantinib"]) / 2, rel=1e-10)
    assert shipped.ceac().sum(axis=1).to_numpy() == pytest.approx(1.0)
    assert (shipped.evpi()["evpi"] >= 0).all()
    value = shipped.value_over_usual_care([100_000, 150_000])
    assert (value["net_benefit_gain"] >= 0).all()  # every usual-care strategy's mix is a mix of sequences
    files = shipped.write(tmp_path, "png,svg,pdf")
    assert {f.name for f in files} >= {"sequences.csv", "sequence_frontier.png", "sequence_frontier.pdf",
                                        "sequence_optimal.svg"}


def test_the_command_line(tmp_path, capsys):
    assert main(["sequences", "analyses/hcc_sequences.yaml", "--psa", "8", "--seed", "2", "--out",
                 str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "14 sequences + 3 usual-care strategies of imbrave150, 8 PSA draws" in captured.err
    assert "by expected net monetary benefit (NMB) at $150,000/QALY" in captured.out
    table = pd.read_csv(tmp_path / "sequences.csv").head(10)
    rows = captured.out.splitlines()
    header = next(i for i, row in enumerate(rows) if row.lstrip().startswith("#"))
    assert "Cost (USD)" in rows[header] and "ICER (USD/QALY)" in rows[header]
    for row, strategy in zip(rows[header + 1:header + 11], table.itertuples(), strict=True):
        # money in whole dollars, "—" for an undefined ICER, usual care named as such
        assert f"{strategy.cost:,.0f}" in row and f"{strategy.qalys:.3f}" in row
        assert (f"{strategy.icer:,.0f}" if strategy.status == "frontier" else "—") in row
        assert strategy.label in row and ("(usual care)" in row) == (strategy.role == "usual care")
    assert "The best strategy at each threshold" in captured.out and "$100,000/QALY" in captured.out
    assert main(["sequences", "--out", str(tmp_path / "none")]) == 2  # the base case has no rules


def test_a_search_beside_the_base_case_is_recorded_and_reported(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["run", "analyses/hcc_sequences.yaml", "--out", str(out)]) == 0
    assert main(["sequences", "analyses/hcc_sequences.yaml", "--psa", "8", "--seed", "2", "--out", str(out)]) == 0
    recorded = json.loads((out / "run.json").read_text())["commands"]["sequences"]
    assert (recorded["population"], recorded["sequences"], recorded["psa_samples"], recorded["seed"]) == \
        ("imbrave150", 14, 8, 2)
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "Treatment sequences" in page and "sorafenib → regorafenib → BSC" in page
    sheets = openpyxl.load_workbook(out / "report.xlsx").sheetnames
    assert {"Sequences", "Sequence frontier", "Optimal sequence", "Sequence value", "Sequence EVPI"} <= set(sheets)
    # another analysis's results are never mixed in
    assert main(["sequences", "analyses/hcc_sequences.yaml", "--psa", "8", "--out", str(tmp_path / "empty")]) == 0
    other = tmp_path / "other.yaml"  # the same rules, another horizon: another model
    other.write_text(Path("analyses/hcc_sequences.yaml").read_text() + "\nhorizon_years: 10\n")
    capsys.readouterr()
    assert main(["sequences", str(other), "--psa", "8", "--out", str(out)]) == 2
    assert "holds the results of another model" in capsys.readouterr().err
