"""Text from input files in outputs (issue 17, case 8): CSV cells a spreadsheet would run as
a formula are written quoted (OWASP), numbers as they are; labels printed to a terminal lose
their control characters."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import markov
from markov.cli import main
from markov.console import say
from markov.results import read_table, write_table

PACKAGE = Path(markov.__file__).parent
LINK = '=HYPERLINK("http://attacker.example","Open")'
ESCAPES = "\x1b]0;owned\x07\x1b[31mred\x9b2J\u202eevil"


def test_formula_text_is_quoted_and_numbers_are_not(tmp_path):
    frame = pd.DataFrame({"label": [LINK, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\tx", "-0.5", "-", "ok"],
                          "icer": [-1500.25, 0.0, -np.inf, np.nan, 2.0, 3.0, 4.0, 5.0],
                          "=total": [-1, -2, -3, -4, -5, -6, -7, -8]})
    path = write_table(frame, tmp_path / "t.csv")
    written = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(written.columns) == ["label", "icer", "'=total"]
    assert list(written["label"]) == [f"'{LINK}", "'+1+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1:A9)", "'\tx", "-0.5",
                                      "'-", "ok"]
    assert list(written["icer"])[:3] == ["-1500.25", "0.0", "-inf"] and written["'=total"].iloc[0] == "-1"
    pd.testing.assert_frame_equal(read_table(path), frame)  # read back exactly


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=list("=+-@'\t x1.e"), min_size=1, max_size=6), min_size=1, max_size=8))
def test_quoting_round_trips_any_text_and_leaves_no_formula(tmp_path_factory, texts):
    path = tmp_path_factory.mktemp("t") / "t.csv"
    texts = [*texts, "ok"]  # a text column, whatever the texts look like
    write_table(pd.DataFrame({"text": texts, "row": range(len(texts))}), path)
    for cell in pd.read_csv(path, dtype=str, keep_default_na=False)["text"]:
        if cell.startswith(("=", "+", "-", "@", "\t", "\r")):
            float(cell)  # only a plain number may open as a formula would
    assert list(read_table(path)["text"]) == texts


def test_every_csv_the_package_writes_goes_through_write_table():
    writers = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py") if ".to_csv(" in path.read_text()]
    assert writers == ["results.py"]


def test_control_characters_never_reach_the_terminal(capsys):
    say(f"analysis {ESCAPES}\nsecond line\twith a tab")
    assert capsys.readouterr().out == "analysis ]0;owned[31mred2Jevil\nsecond line\twith a tab\n"


@pytest.mark.slow
def test_a_run_with_hostile_labels_writes_and_prints_them_safely(tmp_path, capsys):
    overrides = {"populations": {"imbrave150": {"strategies": {"atezo_bev": {"label": LINK}}}}}
    analysis = tmp_path / "hostile.yaml"
    analysis.write_text(yaml.safe_dump({"name": f"hcc {ESCAPES}", "populations": ["imbrave150"],
                                        "cycle_length_days": 30.4375, "horizon_years": 10, "overrides": overrides}))
    assert main(["run", str(analysis), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr()
    assert "]0;owned[31mred2jevil" in printed.out.lower()  # the title, as the console words it, without controls
    assert not any(c in printed.out + printed.err for c in "\x1b\x07\x9b\u202e")
    results = tmp_path / "out" / "results_imbrave150.csv"
    assert '"' + "'" + LINK.replace('"', '""') + '"' in results.read_text()  # quoted, in CSV's quotes
    assert read_table(results).set_index("strategy").loc["atezo_bev", "label"] == LINK
