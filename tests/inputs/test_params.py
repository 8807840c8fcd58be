"""The evidence library, the model files and loading (markov/inputs)."""
import hashlib
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from markov import InputError
from markov.inputs import EvidenceLibrary, load_analysis
from markov.inputs.evidence import STATUS_MEANING, EvidenceFile, read_evidence_file, shipped_evidence_directory
from markov.inputs.ipd import read_sidecar, sidecar_path
from markov.inputs.load import MODEL_FILES, SCENARIOS_FILE, model_directory
from markov.inputs.money import ISO_4217
from markov.inputs.networks import NetworkFile, read_network
from markov.inputs.patient_data import COLUMNS, read_data_file
from markov.inputs.structures import population_schema
from markov.models import build_model, model_survival

PARAMS = shipped_evidence_directory().parent
SETUP = (Path(__file__).resolve().parents[2] / "setup.py").read_text()
MONTH_DAYS = 30.4375  # 365.25 / 12: a one-month cycle, grid points at whole months
REFERENCE = re.compile(r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_]+$")
ALLOWED_STATUS = {"verified", "unverified", "seed", "calculated", "assumption"}


# ---------------------------------------------------------------------------------
# helpers: a user's evidence directory and analysis file in tmp_path
# ---------------------------------------------------------------------------------

def evidence_file(directory: Path, stem: str, values: dict, *, kind: str = "trial") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    content = {"source": {"citation": f"test evidence {stem}", "url": "https://example.org/test", "kind": kind},
               "values": values}
    path = directory / f"{stem}.yaml"
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path


def value(v, unit, **extra):
    return {"value": v, "unit": unit, "status": "verified", "where": "test", **extra}


def analysis_file(tmp_path: Path, **settings) -> Path:
    settings.setdefault("evidence_directories", ["ev"])
    path = tmp_path / "analysis.yaml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False))
    return path


def walk(node, path=""):
    """Every (path, leaf) of a YAML tree."""
    if isinstance(node, dict):
        for key, item in node.items():
            yield from walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from walk(item, f"{path}[{i}]")
    else:
        yield path, node


# ---------------------------------------------------------------------------------
# provenance
# ---------------------------------------------------------------------------------

def test_every_shipped_value_has_its_provenance():
    library = EvidenceLibrary.load()
    assert len(library.files) == len(list((PARAMS / "evidence").glob("*.yaml")))
    assert set(STATUS_MEANING) == ALLOWED_STATUS
    for stem, file in library.files.items():
        source = file.source
        if source.kind != "assumptions":
            assert source.doi or source.url, f"{stem}: a source needs a doi or url"
        assert file.values, f"{stem}: no values"
        for name, item in file.values.items():
            where = f"{stem}.{name}"
            assert item.status in ALLOWED_STATUS, where
            if item.status == "assumption":
                assert item.range is not None and item.note, where
                assert item.range[0] <= item.value <= item.range[1], where
            else:
                assert item.where, where
            if item.status == "calculated":
                assert item.calculation, where
            if item.unit == "money":
                assert item.currency in ISO_4217 and item.price_year and item.per, where


def test_raw_evidence_yaml_obeys_the_provenance_rules():
    """The same rules read off the raw YAML, without the pydantic schema."""
    for path in sorted((PARAMS / "evidence").glob("*.yaml")):
        raw = yaml.safe_load(path.read_text())
        source, values = raw["source"], raw["values"]
        if source["kind"] != "assumptions":
            assert source.get("doi") or source.get("url"), path.name
        for name, item in values.items():
            where = f"{path.stem}.{name}"
            assert isinstance(item["value"], (int, float)) and not isinstance(item["value"], bool), where
            assert item["status"] in ALLOWED_STATUS, where
            if item["status"] == "assumption":
                assert "range" in item and item.get("note"), where
            else:
                assert item.get("where"), where
            if item["status"] == "calculated":
                assert item.get("calculation"), where
            if item["unit"] == "money":
                assert {"currency", "price_year", "per"} <= set(item), where


def test_model_files_hold_no_numbers_and_every_reference_resolves():
    library = EvidenceLibrary.load()
    files = sorted(model_directory().glob("*.yaml"))
    assert {f.name for f in files} == {filename for filename, _ in MODEL_FILES.values()} | {SCENARIOS_FILE[0]}
    references = 0
    for path in files:
        content = yaml.safe_load(path.read_text())
        if path.name == SCENARIOS_FILE[0]:  # analysis settings (cycle length, horizon) aside, overrides only
            content = [scenario["changes"].get("overrides", {}) for scenario in content["scenarios"].values()]
        for where, leaf in walk(content):
            assert not (isinstance(leaf, (int, float)) and not isinstance(leaf, bool)), \
                f"{path.name}: {where} = {leaf!r} is a bare number; model files hold references only"
            if isinstance(leaf, str) and REFERENCE.match(leaf) and leaf.split(".")[0] in library.files:
                assert leaf in library, f"{path.name}: {where} = {leaf!r} does not resolve"
                references += 1
    assert references > 100  # the walk did see the references
    inputs = load_analysis()
    assert inputs.uses
    for ref, places in inputs.uses.items():
        assert ref in inputs.evidence, ref
        assert places, ref
        inputs.evidence[ref]  # resolves without error


def test_chancellor_model_files_hold_references_but_for_the_cycle_length_of_a_matrix():
    """A matrix states the cycle its probabilities are per (checked against the evidence in
    tests/models/test_chancellor.py); every other number is a reference."""
    for path in sorted(model_directory("chancellor").glob("*.yaml")):
        numbers = [where for where, leaf in walk(yaml.safe_load(path.read_text()))
                   if isinstance(leaf, (int, float)) and not isinstance(leaf, bool)]
        assert all(where.endswith(".cycle_length_years") for where in numbers), (path.name, numbers)


def test_one_value_of_a_joint_distribution_varies_over_its_marginal():
    """For a one-way analysis: a Dirichlet count moves so that its share of the row, the
    other counts fixed, is its Beta(α_j, Σα − α_j) quantile; a multivariate-normal value
    moves to its normal quantile."""
    from scipy import stats

    content = {"source": {"citation": "joint", "url": "https://example.org/joint", "kind": "trial"},
               "values": {"a": value(30, "count"), "b": value(10, "count"), "c": value(60, "count"),
                          "x": value(1.0, "coefficient"), "y": value(2.0, "coefficient")},
               "joint": {"row": {"values": ["a", "b", "c"], "distribution": "dirichlet"},
                         "fit": {"values": ["x", "y"], "distribution": "multivariate_normal",
                                 "covariance": [[0.04, 0.01], [0.01, 0.09]]}}}
    library = EvidenceLibrary({"t": EvidenceFile.model_validate(content)}, {"t": "t.yaml"})
    counts = library.joint_of("t.b").one_at_a_time("t.b", [0.025, 0.5, 0.975])
    np.testing.assert_allclose(counts / (counts + 90), stats.beta(10, 90).ppf([0.025, 0.5, 0.975]), rtol=1e-12)
    np.testing.assert_allclose(library.joint_of("t.y").one_at_a_time("t.y", [0.5, 0.975]),
                               [2.0, 2.0 + 0.3 * stats.norm.ppf(0.975)], rtol=1e-12)


#: The model directories shipped in params/, with the structure of their populations.
SHIPPED_MODELS = {"hcc": "sequencing", "chancellor": "markov"}


def test_every_file_under_params_is_accounted_for():
    seen = set()
    for path in sorted(PARAMS.rglob("*")):
        relative = path.relative_to(PARAMS).as_posix()
        directory = relative.partition("/")[0]
        if path.suffix not in (".yaml", ".csv") and not (directory == "ipd" and path.is_file()):
            continue
        seen.add(relative)
        if directory == "ipd":
            check_patient_data_file(path)
        elif relative.startswith("evidence/"):
            assert isinstance(read_evidence_file(path), EvidenceFile), relative
        elif directory in SHIPPED_MODELS:
            schemas = dict([*MODEL_FILES.values(), SCENARIOS_FILE])
            content = yaml.safe_load(path.read_text())
            if schemas[path.name] is None:  # populations: each with its structure's schema
                for population in content["populations"].values():
                    population_schema(SHIPPED_MODELS[directory]).model_validate(population)
            else:
                schemas[path.name].model_validate(content)
        elif relative.startswith("life_tables/") and path.suffix == ".csv":
            sidecar = yaml.safe_load(path.with_suffix(".yaml").read_text())
            assert sidecar.get("title") and sidecar.get("url"), relative
            header = path.read_text().splitlines()[0]
            assert header == "age,qx_male,qx_female", relative
        elif relative.startswith("life_tables/") and path.suffix == ".yaml":
            assert path.with_suffix(".csv").is_file(), f"{relative}: a sidecar without its table"
        elif relative.startswith("networks/"):
            assert isinstance(read_network(path), NetworkFile) and "networks/*.yaml" in SETUP, relative
        else:
            pytest.fail(f"params/{relative}: not an evidence file, model file, life table, patient-level data or "
                        f"network")
    assert {"chancellor/populations.yaml", "evidence/chancellor_1997.yaml", "hcc/populations.yaml",
            "evidence/assumptions.yaml", "life_tables/us_2023.csv", "ipd/README.md",
            "ipd/imbrave150_finn2020_fig1a.csv", "ipd/imbrave150_finn2020_fig1a.yaml"} <= seen
    for model in SHIPPED_MODELS:  # every shipped model directory is installed with the package
        assert f"{model}/*.yaml" in SETUP
    for pattern in ("ipd/*.csv", "ipd/*.yaml", "ipd/*.md"):
        assert f'"{pattern}"' in SETUP


def check_patient_data_file(path: Path) -> None:
    """A file of params/ipd: the README, or a data file with its sidecar, which validates and
    describes the file (its digest, and each arm with its patients and deaths)."""
    if path.name == "README.md":
        return
    if path.suffix == ".yaml":
        assert path.with_suffix(".csv").is_file(), f"{path.name}: a sidecar without its data file"
        return
    assert path.suffix == ".csv", f"params/ipd/{path.name}: neither data, sidecar nor README"
    sidecar = read_sidecar(sidecar_path(path))
    assert sidecar.file == path.name
    assert sidecar.sha256 == hashlib.sha256(path.read_bytes()).hexdigest(), f"{path.name}: changed since its sidecar"
    assert sidecar.citations.data.path.endswith(f"/{path.name}")
    assert len(read_data_file(path).frame), path.name  # patient-level data, every row valid
    frame = pd.read_csv(path)
    assert list(frame.columns) == list(COLUMNS), path.name
    assert list(sidecar.arms) == list(dict.fromkeys(frame["arm"])), path.name
    for name, arm in sidecar.arms.items():
        rows = frame[frame["arm"] == name]
        assert (arm.patients, arm.deaths) == (len(rows), int(rows["event"].sum())), f"{path.name}: arm {name}"


# ---------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------

def test_negative_price_names_the_file_the_value_and_the_rule(tmp_path):
    bad = evidence_file(tmp_path / "ev", "mine", {
        "bad_price": value(-5, "money", currency="USD", price_year=2020, per="vial")})
    with pytest.raises(InputError) as error:
        load_analysis(analysis_file(tmp_path))
    message = str(error.value)
    assert str(bad) in message and "bad_price" in message
    assert "value -5" in message and "must not be negative" in message


def test_utility_above_one_is_refused(tmp_path):
    bad = evidence_file(tmp_path / "ev", "mine", {"too_good": value(1.2, "utility")})
    with pytest.raises(InputError) as error:
        load_analysis(analysis_file(tmp_path))
    message = str(error.value)
    assert str(bad) in message and "too_good" in message and "1.2" in message and "cannot exceed 1" in message


def second_line(*options):
    """A second line with options (treatment, share), as overrides of the first item of a
    strategy's lines."""
    return {"lines": {1: {"options": [
        {"treatment": treatment, "share": share, "progression_free": "regorafenib_after_sorafenib_pfs",
         "pre_progression_death_share": "assumptions.pre_progression_death_share_second_line"}
        for treatment, share in options]}}}


def test_second_line_shares_above_one_are_refused(tmp_path):
    evidence_file(tmp_path / "ev", "mine", {"share_a": value(0.6, "proportion"),
                                            "share_b": value(0.6, "proportion")})
    overrides = {"populations": {"imbrave150": {"strategies": {"sorafenib": second_line(
        ("regorafenib", "mine.share_a"), ("cabozantinib", "mine.share_b"))}}}}
    with pytest.raises(InputError) as error:
        load_analysis(analysis_file(tmp_path), overrides=overrides)
    message = str(error.value)
    assert "strategies.sorafenib" in message and "1.2" in message and "cannot exceed 1" in message


def test_second_line_shares_above_one_are_refused_when_one_reference_is_reused(tmp_path):
    evidence_file(tmp_path / "ev", "mine", {"share_a": value(0.6, "proportion")})
    overrides = {"populations": {"imbrave150": {"strategies": {"sorafenib": second_line(
        ("regorafenib", "mine.share_a"), ("cabozantinib", "mine.share_a"))}}}}
    with pytest.raises(InputError, match="cannot exceed 1"):
        load_analysis(analysis_file(tmp_path), overrides=overrides)


def test_unknown_treatment_is_named():
    strategy = {"sorafenib": {"lines": {0: {"treatment": "nivolumab"}}}}
    overrides = {"populations": {"imbrave150": {"strategies": strategy}}}
    with pytest.raises(InputError) as error:
        load_analysis(overrides=overrides)
    message = str(error.value)
    assert "treatment 'nivolumab' is unknown" in message and "strategies.sorafenib" in message


def test_reference_with_the_wrong_unit_is_refused(tmp_path):
    evidence_file(tmp_path / "ev", "mine", {"a_median": value(5.0, "months")})
    overrides = {"populations": {"imbrave150": {"curves": {"atezo_bev_pfs": {"hazard_ratio": "mine.a_median"}}}}}
    with pytest.raises(InputError) as error:
        load_analysis(analysis_file(tmp_path), overrides=overrides)
    message = str(error.value)
    assert "curves.atezo_bev_pfs.hazard_ratio" in message and "'months'" in message
    assert "hazard_ratio needs hazard_ratio" in message


def test_reference_with_the_wrong_unit_is_refused_where_it_is_also_used_correctly():
    overrides = {"populations": {"imbrave150": {"curves": {"atezo_bev_pfs": {
        "hazard_ratio": "imbrave150_cheng_2022.pfs_median_sorafenib"}}}}}
    with pytest.raises(InputError, match="hazard_ratio needs hazard_ratio"):
        load_analysis(overrides=overrides)


def test_money_in_the_wrong_currency_is_refused(tmp_path):
    evidence_file(tmp_path / "ev", "mine", {
        "pounds": value(7000, "money", currency="GBP", price_year=2020, per="death")})
    overrides = {"perspectives": {"us_payer": {"terminal_care": "mine.pounds"}}}
    with pytest.raises(InputError, match=r"terminal_care = 'mine\.pounds': priced in GBP.*counts in USD"):
        load_analysis(analysis_file(tmp_path), overrides=overrides)


@pytest.mark.parametrize("ref, message", [
    ("nofile.x", r"evidence 'nofile\.x': there is no evidence file 'nofile'"),
    ("su_2021.nothing", r"evidence 'su_2021\.nothing': .*su_2021\.yaml has no value 'nothing'"),
])
def test_unknown_evidence_is_named(ref, message):
    overrides = {"populations": {"imbrave150": {"curves": {"sorafenib_pfs": {"median": ref}}}}}
    with pytest.raises(InputError, match=message) as error:
        load_analysis(overrides=overrides)
    assert "curves.sorafenib_pfs.median" in str(error.value)


def test_reference_that_is_not_a_reference_is_refused():
    overrides = {"populations": {"imbrave150": {"curves": {"sorafenib_pfs": {"median": 4.3}}}}}
    with pytest.raises(InputError, match=r"sorafenib_pfs.*median"):
        load_analysis(overrides=overrides)


def test_a_curve_named_in_a_field_named_like_a_reference_field_is_not_a_reference():
    # post_progression.survival names a curve; Landmark.survival holds a reference
    strategy = {"sorafenib": {"post_progression": {"calibrated_to": None, "survival": "best_supportive_care_os"}}}
    inputs = load_analysis(overrides={"populations": {"imbrave150": {"strategies": strategy}}})
    assert "best_supportive_care_os" not in inputs.uses
    assert "imbrave150_finn_2020.os_12_months_sorafenib" in inputs.uses


def test_unknown_perspective_and_population_are_named(tmp_path):
    with pytest.raises(InputError, match=r"perspective 'ca_payer' is not defined \(known: us_payer, uk_nhs\)"):
        load_analysis(analysis_file(tmp_path, perspective="ca_payer", evidence_directories=[]))
    with pytest.raises(InputError, match=r"populations: 'child_pugh_b' is not a population"):
        load_analysis(analysis_file(tmp_path, populations=["child_pugh_b"], evidence_directories=[]))
    with pytest.raises(InputError, match=r"overrides\.costs: unknown model file key"):
        load_analysis(overrides={"costs": {}})


def test_unknown_analysis_setting_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"cycle_lenght_days"):
        load_analysis(analysis_file(tmp_path, cycle_lenght_days=30, evidence_directories=[]))


def test_invalid_yaml_is_an_input_error(tmp_path):
    path = tmp_path / "analysis.yaml"
    path.write_text("populations: [imbrave150\n")
    with pytest.raises(InputError, match=r"analysis\.yaml: not valid YAML"):
        load_analysis(path)
    (tmp_path / "ev").mkdir()
    (tmp_path / "ev" / "broken.yaml").write_text("source: {citation: x\nvalues: [\n")
    with pytest.raises(InputError, match=r"broken\.yaml: not valid YAML"):
        load_analysis(analysis_file(tmp_path))


def test_missing_files_are_named(tmp_path):
    with pytest.raises(InputError, match=r"analysis file '.*nowhere\.yaml' does not exist"):
        load_analysis(tmp_path / "nowhere.yaml")
    with pytest.raises(InputError, match=r"evidence directory '.*missing' does not exist"):
        load_analysis(analysis_file(tmp_path, evidence_directories=["missing"]))


def test_a_users_file_replaces_the_shipped_file_of_the_same_name(tmp_path):
    (tmp_path / "ev").mkdir()
    raw = yaml.safe_load((PARAMS / "evidence" / "su_2021.yaml").read_text())
    assert raw["values"]["price_sorafenib_200mg"]["value"] == 174
    raw["values"]["price_sorafenib_200mg"]["value"] = 150
    (tmp_path / "ev" / "su_2021.yaml").write_text(yaml.safe_dump(raw))
    inputs = load_analysis(analysis_file(tmp_path))
    base = inputs.base_case()
    assert base["su_2021.price_sorafenib_200mg"].tolist() == [150.0]
    assert inputs.evidence.locations["su_2021"] == str(tmp_path / "ev" / "su_2021.yaml")
    # ... and the drug cost follows: 400 mg twice a day from 200 mg tablets = 4 tablets a day
    from markov.models.valuation import CostModel
    population = inputs.populations["imbrave150"]
    per_year = CostModel(inputs, base, population).drugs_per_year(inputs.treatments["sorafenib"])
    assert per_year[0] == pytest.approx(4 * 150 * 365.25, rel=1e-12)
    # the shipped library is untouched
    assert load_analysis().base_case()["su_2021.price_sorafenib_200mg"].tolist() == [174.0]


def test_copying_the_whole_shipped_library_changes_nothing(tmp_path):
    shutil.copytree(PARAMS / "evidence", tmp_path / "ev")
    copied, shipped = load_analysis(analysis_file(tmp_path)).base_case(), load_analysis().base_case()
    assert copied.values.keys() == shipped.values.keys()
    for ref in shipped.values:
        assert copied[ref].tolist() == shipped[ref].tolist(), ref


# ---------------------------------------------------------------------------------
# sampling
# ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shipped():
    return load_analysis()


@pytest.fixture(scope="module")
def draws(shipped):
    return shipped.sample(20_000, 12345)


def test_sampling_is_reproducible(shipped):
    first, again, other = shipped.sample(50, 7), shipped.sample(50, 7), shipped.sample(50, 8)
    assert first.n_samples == 50
    varying = 0
    for ref in shipped.references:
        np.testing.assert_array_equal(first[ref], again[ref])
        if np.ptp(first[ref]) > 0:
            varying += 1
            assert not np.array_equal(first[ref], other[ref]), ref
    assert varying >= 10
    with pytest.raises(InputError, match="number of samples is 0"):
        shipped.sample(0, 1)


def test_inputs_without_uncertainty_are_constant(shipped, draws):
    constant = 0
    for ref in shipped.references:
        item = shipped.evidence[ref].value
        named_fixed = item.distribution is not None and item.distribution.type == "fixed"
        no_uncertainty = (item.distribution is None and item.ci95 is None and item.se is None
                          and item.n is None and item.range is None and item.decrement is None
                          and shipped.evidence.block_of(ref) is None)  # a value drawn jointly varies
        if named_fixed or no_uncertainty:
            assert np.all(draws[ref] == item.value), ref
            constant += 1
    assert constant >= 20  # doses, schedules, list prices ...


def test_hazard_ratio_with_a_ci_is_lognormal_around_its_estimate(draws):
    ref = "imbrave150_cheng_2022.pfs_hazard_ratio_atezo_bev_vs_sorafenib"  # 0.65 (0.53-0.81)
    logs = np.log(draws[ref])
    sdlog = (math.log(0.81) - math.log(0.53)) / (2 * 1.959964)  # 0.1082
    n = logs.size
    # median of log draws: MC standard error 1.2533 * sdlog / sqrt(n) = 0.00096; allow 4 SE
    assert abs(np.median(logs) - math.log(0.65)) < 4 * 1.2533 * sdlog / math.sqrt(n)
    # sd of log draws: MC standard error sdlog / sqrt(2n) = 0.00054; allow 4 SE
    assert abs(logs.std() - sdlog) < 4 * sdlog / math.sqrt(2 * n)
    # log draws are normal: skewness ~ 0 (MC SE sqrt(6/n) = 0.017; allow 4 SE)
    z = (logs - logs.mean()) / logs.std()
    assert abs(np.mean(z**3)) < 4 * math.sqrt(6 / n)


@pytest.mark.parametrize("ref, a, b", [("su_2021.utility_progression_free", 4.7, 1.5)])
def test_utilities_follow_their_published_beta(draws, ref, a, b):
    x = draws[ref]
    mean = a / (a + b)  # 4.7 / 6.2 = 0.7581; 29 / 42.6 = 0.6808
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    # MC standard error of the mean sd / sqrt(n); allow 4 SE
    assert abs(x.mean() - mean) < 4 * sd / math.sqrt(x.size)
    assert abs(x.std() - sd) < 0.03 * sd
    assert x.min() > 0 and x.max() < 1


def test_assumption_with_a_range_is_triangular_over_it(draws):
    # assumptions.start_age: 64, range [55, 75], no distribution named -> Triangular(55, 64, 75)
    x = draws["assumptions.start_age"]
    a, c, b = 55.0, 64.0, 75.0
    mean = (a + b + c) / 3  # 64.667
    sd = math.sqrt((a * a + b * b + c * c - a * b - a * c - b * c) / 18)  # 4.09
    assert abs(x.mean() - mean) < 4 * sd / math.sqrt(x.size)
    assert x.min() >= a and x.max() <= b
    # the mode is at the point estimate: P(X <= c) = (c - a) / (b - a) = 0.45 (MC SE 0.0035)
    assert abs(np.mean(x <= c) - 0.45) < 4 * math.sqrt(0.45 * 0.55 / x.size)


# ---------------------------------------------------------------------------------
# a survival family is data
# ---------------------------------------------------------------------------------

def test_swapping_the_survival_family_is_a_data_change(tmp_path):
    evidence_file(tmp_path / "ev", "mine", {"pfs_12_months_sorafenib": value(0.2, "proportion")})
    overrides = {"populations": {"imbrave150": {"curves": {"sorafenib_pfs": {
        "family": "weibull", "median": "imbrave150_cheng_2022.pfs_median_sorafenib",
        "landmarks": [{"time": "imbrave150_finn_2020.twelve_months", "survival": "mine.pfs_12_months_sorafenib"}]}}}}}
    inputs = load_analysis(analysis_file(tmp_path, cycle_length_days=MONTH_DAYS, populations=["imbrave150"],
                                         overrides=overrides))
    model = build_model(inputs)
    results = {r.strategy: r for r in model.evaluate(inputs.base_case())}
    pfs = model_survival(results["sorafenib"])["PFS"]
    months = model.grid.times_years * 12
    np.testing.assert_allclose(months[:13], np.arange(13), atol=1e-9)

    # The Weibull through (4.3, 0.5) and (12, 0.2), by hand:
    # S(t) = exp(-(t/scale)^k), k = [log(-log 0.2) - log(-log 0.5)] / [log 12 - log 4.3] = 0.8208
    k = (math.log(-math.log(0.2)) - math.log(-math.log(0.5))) / (math.log(12) - math.log(4.3))
    scale = 4.3 / math.log(2) ** (1 / k)
    weibull = np.exp(-((np.arange(13) / scale) ** k))
    # no general-population floor binds in the first year: the model curve is the Weibull
    np.testing.assert_allclose(pfs[:13], weibull, rtol=1e-9)
    assert pfs[12] == pytest.approx(0.2, rel=1e-9)

    # The model's median read by linear interpolation between monthly points equals 4.3
    # months to within the interpolation error: between months 4 and 5 it is
    # 4 + (S(4) - 0.5) / (S(4) - S(5)) = 4.32 for this Weibull.
    i = int(np.nonzero(pfs <= 0.5)[0][0])
    median = months[i - 1] + (pfs[i - 1] - 0.5) / (pfs[i - 1] - pfs[i]) * (months[i] - months[i - 1])
    assert i == 5
    assert median == pytest.approx(4 + (weibull[4] - 0.5) / (weibull[4] - weibull[5]), rel=1e-9)
    assert abs(median - 4.3) < 0.03
    # the exponential would have put S(12) at 2^(-12/4.3) = 0.144, not 0.2
    assert abs(pfs[12] - 0.5 ** (12 / 4.3)) > 0.05
    # the first line is split by time on treatment; both parts stay within PFS
    trace = results["sorafenib"].trace
    on, off = trace.state("first_line_on_treatment")[0], trace.state("first_line_off_treatment")[0]
    np.testing.assert_allclose(on + off, pfs, atol=1e-15)
