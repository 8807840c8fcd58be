"""Hostile input files (issue 17, cases 2, 3, 7 and 8): each gives one clear error naming the
file or the field, before any work, within bounded memory and time; the rules of every
evidence value's draws hold; and markov parses YAML in one place only.

Resource cases run the command line in a subprocess limited to 2 GB of address space, with
a 10 s timeout as a guard against hangs (not a timing assertion)."""
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import markov
from markov import InputError
from markov._reading import MAX_INPUT_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES, read_yaml
from markov.inputs.load import shipped_models
from markov.inputs.patient_data import read_data_file
from markov.inputs.support import UTILITY_FLOOR, value_rule
from markov.uncertainty import TruncatedNormal

PACKAGE = Path(markov.__file__).parent
MEMORY_LIMIT = 2 * 1024**3
HANG_GUARD_SECONDS = 10
UTILITY = "su_2021.utility_progression_free"
PRICE = "chiang_2021.cost_ct_imaging"
WEIGHT = "chiang_2021.body_weight_kg"
#: Nine nested aliases, each ten of the one before: 10^9 values once expanded.
BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)) + "name: *i\n"


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def markov_command(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``markov ARGS`` in a subprocess with at most 2 GB of memory; a hang fails the test."""
    return subprocess.run([sys.executable, "-m", "markov.cli", *args], check=False, cwd=cwd, capture_output=True,
                          text=True, timeout=HANG_GUARD_SECONDS, preexec_fn=_limited)


def refused(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """The one error line of a command that exited 2, checked to hold every fragment."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("markov: error: "), result.stderr[-2000:]
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def analysis_with_evidence(tmp_path: Path) -> Path:
    """An analysis reading the evidence directory ``ev`` (which holds what the test puts there)."""
    (tmp_path / "ev").mkdir(exist_ok=True)
    path = tmp_path / "analysis.yaml"
    path.write_text("name: hostile\nevidence_directories: [ev]\n")
    return path


# ---------------------------------------------------------------------------------
# case 2: files that would exhaust memory or block for ever
# ---------------------------------------------------------------------------------

def test_a_billion_laughs_analysis_file_fails_at_once(tmp_path):
    (tmp_path / "bomb.yaml").write_text(BILLION_LAUGHS)
    line = refused(markov_command("validate-inputs", "bomb.yaml", "--draws", "0", cwd=tmp_path),
                   "bomb.yaml: line 5: ", f"more than {MAX_YAML_NODES:,} values once its aliases are expanded")
    assert "lol" not in line  # the expanded input is never quoted


def test_a_billion_laughs_evidence_file_fails_at_once(tmp_path):
    analysis = analysis_with_evidence(tmp_path)
    (tmp_path / "ev" / "bomb.yaml").write_text(BILLION_LAUGHS)
    refused(markov_command("validate-inputs", analysis.name, "--draws", "0", cwd=tmp_path),
            "ev/bomb.yaml: line 5: ", "once its aliases are expanded")


@pytest.mark.parametrize("kind", ["fifo", "dev_zero"])
def test_a_special_file_among_the_evidence_is_refused_unopened(tmp_path, kind):
    analysis = analysis_with_evidence(tmp_path)
    special = tmp_path / "ev" / "special.yaml"
    if kind == "fifo":
        os.mkfifo(special)
    else:
        special.symlink_to("/dev/zero")
    what = "a FIFO (named pipe)" if kind == "fifo" else "a character device"
    refused(markov_command("validate-inputs", analysis.name, "--draws", "0", cwd=tmp_path),
            "ev/special.yaml: the file is ", what, "inputs are read from regular files only")


def test_a_special_file_in_place_of_a_model_file_is_refused_not_skipped(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    for name in ("populations.yaml", "treatments.yaml", "utilities.yaml", "scenarios.yaml"):
        (model / name).symlink_to(shipped_models() / "hcc" / name)
    os.mkfifo(model / "costs.yaml")
    (tmp_path / "a.yaml").write_text("name: hostile\nmodel: model\n")
    refused(markov_command("validate-inputs", "a.yaml", "--draws", "0", cwd=tmp_path),
            "model/costs.yaml: the model file is a FIFO (named pipe)")


@pytest.mark.parametrize("style", ["block", "flow"])
def test_yaml_nested_50000_deep_is_refused_without_a_recursion_error(tmp_path, style):
    depth = 50_000
    text = "name:\n" + "- " * depth + "x\n" if style == "block" else "name: " + "[" * depth + "]" * depth + "\n"
    (tmp_path / "deep.yaml").write_text(text)
    line = refused(markov_command("validate-inputs", "deep.yaml", "--draws", "0", cwd=tmp_path), "deep.yaml: ")
    assert ("nested more than" in line) if style == "block" else ("nesting depth" in line)
    assert "Recursion" not in line


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:  # sparse: no disk used
        handle.truncate(MAX_INPUT_BYTES + 1)
    refused(markov_command("validate-inputs", "huge.yaml", "--draws", "0", cwd=tmp_path),
            "huge.yaml: the analysis file is 20,971,521 bytes or more", "at most 20,971,520 bytes")


def test_limits_of_a_yaml_document_at_the_api(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: &a [1, *a]\n")
    with pytest.raises(InputError, match=r"line 1: alias \*a refers to a node that contains it \(a cycle\)"):
        read_yaml(path)
    path.write_text("x: " + "[" * MAX_YAML_DEPTH + "]" * MAX_YAML_DEPTH + "\n")
    with pytest.raises(InputError, match=f"nested more than {MAX_YAML_DEPTH} deep"):
        read_yaml(path)
    path.write_text("x: " + "[" * (MAX_YAML_DEPTH - 1) + "]" * (MAX_YAML_DEPTH - 1) + "\n")
    assert read_yaml(path) is not None  # at the limit
    path.write_text("x: [" + ", ".join(["1"] * (MAX_YAML_NODES - 3)) + "]\n")  # the mapping, x, its list, its items
    assert len(read_yaml(path)["x"]) == MAX_YAML_NODES - 3
    path.write_text("x: [" + ", ".join(["1"] * (MAX_YAML_NODES - 2)) + "]\n")
    with pytest.raises(InputError, match=f"more than {MAX_YAML_NODES:,} values"):
        read_yaml(path)


# ---------------------------------------------------------------------------------
# case 2: decoding, duplicate keys, short excerpts
# ---------------------------------------------------------------------------------

def test_non_utf8_yaml_names_the_file_and_the_byte(tmp_path):
    (tmp_path / "latin1.yaml").write_bytes("name: hcc\ndescription: café\n".encode("latin-1"))
    refused(markov_command("validate-inputs", "latin1.yaml", "--draws", "0", cwd=tmp_path),
            "latin1.yaml: the analysis file is not UTF-8 text: byte 0xe9 at byte offset 26 (line 2)")


def test_a_repeated_key_is_refused_with_its_line(tmp_path):
    (tmp_path / "twice.yaml").write_text("name: first\nseed: 3\nname: second\n")
    refused(markov_command("validate-inputs", "twice.yaml", "--draws", "0", cwd=tmp_path),
            "twice.yaml: line 3: key 'name' appears twice in one mapping (first on line 1)")


def test_merge_keys_are_not_repeats(tmp_path):
    path = tmp_path / "merge.yaml"
    path.write_text("base: &base {a: 1, b: 2}\nother:\n  <<: *base\n  b: 3\n")
    assert read_yaml(path) == {"base": {"a": 1, "b": 2}, "other": {"a": 1, "b": 3}}


def test_errors_quote_a_short_excerpt_of_a_long_value(tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump({"seed": "x" * 100_000, "populations": [["y" * 1000] * 100] * 100}))
    with pytest.raises(InputError) as caught:
        markov.load(path)
    assert all(len(line) < len(str(path)) + 200 for line in str(caught.value).splitlines())


def test_patient_level_data_are_read_as_safely(tmp_path):
    fifo = tmp_path / "os.csv"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"os\.csv: the patient-level data file is a FIFO"):
        read_data_file(fifo)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("time,event,arm\n1.5,1,sorafénib\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin\.csv: the patient-level data file is not UTF-8 text: byte 0xe9 at "
                                         r"byte offset 26 \(line 2\)"):
        read_data_file(latin)


def test_yaml_is_parsed_in_one_place_and_inputs_read_through_it():
    """Every YAML document markov reads goes through markov._reading, and every CSV input
    is parsed from text it read (results tables, markov's own output, aside)."""
    parses, csv_reads = [], []
    for path in PACKAGE.rglob("*.py"):
        text, name = path.read_text(), str(path.relative_to(PACKAGE))
        if any(call in text for call in ("yaml.safe_load", "yaml.load(", "SafeLoader", "yaml.full_load")):
            parses.append(name)
        csv_reads += [name for line in text.splitlines() if "read_csv(" in line and "StringIO(" not in line]
    assert parses == ["_reading.py"]
    assert csv_reads == ["results.py"]


# ---------------------------------------------------------------------------------
# case 3: every distribution within its input's support and consistent with its value
# ---------------------------------------------------------------------------------

def load_with_values(tmp_path: Path, values: dict, **settings):
    path = tmp_path / "analysis.yaml"
    path.write_text(yaml.safe_dump({"name": "hostile", "values": values, **settings}))
    return markov.load(path)


@pytest.mark.parametrize("values, fragments", [
    ({UTILITY: {"distribution": {"type": "normal", "mean": 0.76, "se": 0.5}}},
     ["su_2021.yaml: utility_progression_free: drawn as Normal(0.76, 0.5), whose draws reach",
      "beyond [-1, 1] where a utility value must lie", "truncate: true"]),
    ({PRICE: {"distribution": {"type": "normal", "mean": 1543, "se": 800}}},
     ["chiang_2021.yaml: cost_ct_imaging: drawn as Normal(1543, 800)", "beyond [0, inf] where a money value"]),
    ({UTILITY: {"distribution": {"type": "gamma", "mean": 0.76, "se": 0.1}}},
     ["drawn as Gamma(", "beyond [-1, 1] where a utility value must lie"]),
    ({UTILITY: {"value": 0.68, "distribution": {"type": "beta", "alpha": 1, "beta": 99}}},
     ["drawn as Beta(1, 99), with mean 0.01 and SD 0.0099005: the value 0.68 lies more than 2 SDs from that mean"]),
    ({UTILITY: -50}, ["utility -50.0: cannot be below -1.0"]),
    ({PRICE: 2e9}, ["value 2000000000.0 in money: above 1e+09"]),
    ({WEIGHT: 1e6}, ["value 1000000.0 in kg: above 300"]),
    ({WEIGHT: 10}, ["body_weight_kg.mean = 'chiang_2021.body_weight_kg': value 10.0",
                    "a population's mean body weight must lie in [20, 300]"]),
    ({PRICE: True}, ["values.chiang_2021.cost_ct_imaging = True", "valid number"]),
    ({PRICE: {"value": True}}, ["chiang_2021.cost_ct_imaging = {'value': True}: Input should be a valid number"]),
    ({PRICE: "96"}, ["values.chiang_2021.cost_ct_imaging = '96'", "not a str"]),
    ({PRICE: {"distribution": {"type": "gamma", "mean": 1543, "se": 200, "truncate": True}}},
     ["truncate: a gamma distribution is not truncated; truncate applies to a normal"]),
])
def test_impossible_or_inconsistent_draws_are_refused(tmp_path, values, fragments):
    with pytest.raises(InputError) as caught:
        load_with_values(tmp_path, values)
    message = str(caught.value)
    assert all(fragment in message for fragment in fragments), message


def test_a_truncated_normal_is_drawn_within_its_units_interval(tmp_path):
    inputs = load_with_values(tmp_path, {PRICE: {"distribution": {
        "type": "normal", "mean": 1543, "se": 1000, "truncate": True}}}).inputs
    drawn = inputs.distributions[PRICE]
    assert drawn == TruncatedNormal(1543.0, 1000.0, 0.0, np.inf)
    draws = inputs.sample(4000, seed=2)[PRICE]
    assert draws.min() > 0 and draws.mean() == pytest.approx(drawn.mean, abs=4 * drawn.sd / np.sqrt(draws.size))


def test_the_utility_floor_and_a_gamma_decrement_from_a_utility_are_accepted(tmp_path):
    # a gamma decrement from a beta utility draws below the floor (-1) with a chance far under 1e-12
    inputs = load_with_values(tmp_path, {"su_2021.utility_progressed": {"value": 0.70, "decrement": {
        "type": "gamma", "mean": 0.06, "se": 0.03}}}).inputs
    assert str(inputs.distributions["su_2021.utility_progressed"]).startswith(UTILITY + " - Gamma(")
    assert (value_rule(-0.95, "utility"), value_rule(UTILITY_FLOOR, "utility")) == (None, None)
    assert value_rule(-1.01, "utility") is not None and value_rule(1.01, "utility") is not None


def test_evidence_files_take_numbers_only(tmp_path):
    analysis = analysis_with_evidence(tmp_path)
    (tmp_path / "ev" / "prices.yaml").write_text(
        "source: {citation: test, url: 'https://example.org', kind: price_list}\n"
        "values:\n  price:\n    value: true\n    unit: money\n    status: verified\n    where: p. 1\n"
        "    currency: USD\n    price_year: 2024\n    per: pack\n")
    refused(markov_command("validate-inputs", analysis.name, "--draws", "0", cwd=tmp_path),
            "ev/prices.yaml: values.price.value = True: Input should be a valid number")
    (tmp_path / "ev" / "prices.yaml").write_text(
        "source: {citation: test, url: 'https://example.org', kind: price_list}\n"
        "values:\n  weight: {value: .inf, unit: kg, status: verified, where: p. 1}\n")
    refused(markov_command("validate-inputs", analysis.name, "--draws", "0", cwd=tmp_path),
            "ev/prices.yaml: values.weight.value = inf: Input should be a finite number")


def test_independent_shares_that_could_sum_above_one_are_refused(tmp_path):
    # the shipped second-line shares are drawn together (a Dirichlet); two drawn on their own are not
    (tmp_path / "ev").mkdir()
    (tmp_path / "ev" / "t.yaml").write_text(
        "source: {citation: test, url: 'https://example.org', kind: trial}\nvalues:\n"
        "  a: {value: 0.3, n: 10, unit: proportion, status: verified, where: p. 1}\n"
        "  b: {value: 0.3, n: 10, unit: proportion, status: verified, where: p. 1}\n")
    second_line = {"options": [
        {"treatment": "sorafenib", "share": "t.a", "overall_survival": "best_supportive_care_os",
         "time_on_treatment": {"curve": "second_line_after_lenvatinib_pfs"}},
        {"treatment": "regorafenib", "share": "t.b", "overall_survival": "best_supportive_care_os",
         "time_on_treatment": {"curve": "second_line_after_lenvatinib_pfs"}}]}
    first_line = {
        "treatment": "lenvatinib", "progression_free": "lenvatinib_pfs",
        "pre_progression_death_share": "assumptions.pre_progression_death_share_first_line",
        "time_on_treatment": {"curve": "lenvatinib_tot"}}
    overrides = {"populations": {"imbrave150": {"strategies": {"lenvatinib": {"lines": [first_line, second_line]}}}}}
    with pytest.raises(InputError, match=r"strategies\.lenvatinib: shares t\.a \(Beta\(3, 7\)\), t\.b \(Beta\(3, 7\)\) "
                                         r"can sum to 1\.\d+ in a probabilistic draw; .* draw them together"):
        load_with_values(tmp_path, {}, evidence_directories=["ev"], overrides=overrides)


def test_an_empty_population_list_is_not_every_population(tmp_path):
    with pytest.raises(InputError, match=r"populations = \[\]: List should have at least 1 item"):
        load_with_values(tmp_path, {}, populations=[])


# ---------------------------------------------------------------------------------
# cases 7 and 8: plain mistakes, caught before any work
# ---------------------------------------------------------------------------------

@pytest.mark.parametrize("settings, fragment", [
    ({"cycle_length_days": 0.001}, "cycle_length_days = 0.001: Input should be greater than or equal to 1"),
    ({"horizon_years": float("inf")}, "horizon_years = inf: Input should be a finite number"),
    ({"horizon_years": 1}, ("targets.os_data: the follow-up compared with the data (13.5 months) is beyond the "
                            "time horizon (12.1889 months); lengthen horizon_years (now 1) to compare the model")),
    ({"horizon_years": 1.2, "scenarios": {}, "overrides": {"populations": {"imbrave150": {"strategies": {
        "atezo_bev": {"post_progression": {"calibrated_to": "atezo_bev"}}}}}}},
     ("post_progression.calibrated_to = 'atezo_bev': its OS median imbrave150_cheng_2022.os_median_atezo_bev (1.6 "
      "years) is not within the time horizon (1.20739 years); lengthen horizon_years (now 1.2)")),
])
def test_a_grid_the_model_cannot_run_is_refused_naming_the_setting(tmp_path, settings, fragment):
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"name": "hostile", **settings}))
    line = refused(markov_command("run", "a.yaml", "--out", "out", cwd=tmp_path), fragment)
    assert "horizon_years" in line or "cycle_length_days" in line
    assert not (tmp_path / "out").exists()


def test_a_non_finite_amount_on_the_command_line_is_refused_before_writing(tmp_path):
    refused(markov_command("psa", "-n", "10", "--annual-patients", "nan", "--decision-years", "5", "--out", "out",
                           cwd=tmp_path), "--annual-patients is nan: must be a finite number")
    assert not (tmp_path / "out").exists()
