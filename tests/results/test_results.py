"""The results directory (markov/results.py): names, tables written atomically and read
back exactly, the run record, and the column order the reports rely on."""
import ast
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import markov
from markov._validate import InputError
from markov.inputs import load_analysis
from markov.models import build_model, results_table
from markov.results import (
    CEAC,
    RESULTS,
    ResultsDirectory,
    cost_category_columns,
    name,
    read_record,
    read_table,
    tornado,
    write_table,
)


def test_names_and_paths(tmp_path):
    directory = ResultsDirectory(tmp_path)
    assert name(RESULTS) == "results" and name(RESULTS, "mvi") == "results_mvi"
    assert directory.table(RESULTS, "mvi") == tmp_path / "results_mvi.csv"
    assert directory.dsa.table(tornado("nmb"), "mvi") == tmp_path / "dsa" / "tornado_nmb_mvi.csv"
    assert directory.figure(CEAC, "mvi") == tmp_path / "ceac_mvi"
    assert (directory.record, directory.store) == (tmp_path / "run.json", tmp_path / "psa_store")
    for population in ("mvi", "imbrave150"):
        write_table(pd.DataFrame({"a": [1]}), directory.table(RESULTS, population))
    assert directory.populations(RESULTS) == ["imbrave150", "mvi"]


def test_figures_prefer_svg_then_png(tmp_path):
    directory = ResultsDirectory(tmp_path)
    for file in ("ceac_mvi.png", "ceac_mvi.svg", "ceac_mvi.pdf", "evpi_mvi.png", "evpi_mvi.pdf", "a.pdf"):
        (tmp_path / file).write_bytes(b"x")
    assert directory.written_figure(CEAC, "mvi") == tmp_path / "ceac_mvi.svg"
    assert directory.figures() == [tmp_path / "ceac_mvi.svg", tmp_path / "evpi_mvi.png"]
    assert directory.written_figure(CEAC, "other") is None and directory.dsa.figures() == []


def test_a_table_reads_back_to_the_last_bit(tmp_path):
    values = np.random.default_rng(1).normal(size=200) * 10.0 ** np.arange(-100, 100)
    frame = pd.DataFrame({"x": values, "text": ["a,b"] * 200})
    path = write_table(frame, tmp_path / "t.csv")
    assert not list(tmp_path.glob("*.partial"))
    pd.testing.assert_frame_equal(read_table(path), frame, check_exact=True)
    assert read_table(tmp_path / "absent.csv") is None
    (tmp_path / "empty.csv").write_text("")
    assert read_table(tmp_path / "empty.csv") is None


def test_run_record_absent_unreadable_or_read(tmp_path):
    assert read_record(tmp_path) is None
    (tmp_path / "run.json").write_text("{not json")
    with pytest.raises(InputError, match="run.json: could not be read"):
        read_record(tmp_path)
    (tmp_path / "run.json").write_text("[1]")
    with pytest.raises(InputError, match="not a JSON object"):
        read_record(tmp_path)
    (tmp_path / "run.json").write_text(json.dumps({"analysis": "a"}))
    assert read_record(tmp_path) == {"analysis": "a"}


def test_the_cost_categories_of_a_results_table_are_the_models(tmp_path):
    """The reports find the categories by column order; the model's results table keeps it."""
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump({"name": "small", "cycle_length_days": 30.4375, "horizon_years": 10,
                                    "populations": ["mvi"]}))
    inputs = load_analysis(path)
    model = build_model(inputs)
    table = results_table(model.evaluate(inputs.base_case()))
    assert cost_category_columns(table) == [f"cost_{category}" for category in model.categories]
    assert [c for c in table.columns if c.startswith("cost_") and c not in cost_category_columns(table)]  # states


# The results directory's files as code would spell them out: a stem with a population or a suffix, a
# file of its own, or a stem that means nothing else (bare "results", "evpi" or "inputs" name other things too)
_STEMS = ("results", "incremental", "occupancy", "calibration", "psa_summary", "icer_summary", "ce_plane", "ceac",
          "ceaf", "evpi", "evpi_population", "evppi", "convergence", "dsa_ranges", "one_way", "tornado", "tornado_nmb",
          "tornado_icer", "two_way", "two_way_optimal", "threshold_prices", "scenarios", "inputs")
_OWN_STEMS = ("icer_summary", "ce_plane", "ceaf", "evpi_population", "dsa_ranges", "one_way", "tornado_nmb",
              "tornado_icer", "two_way_optimal", "threshold_prices")
_FILE_NAME = re.compile(rf"\b({'|'.join(_STEMS)})(_\{{\}}|_<population>|\.csv\b)|^({'|'.join(_OWN_STEMS)})$|"
                        r"run\.json|psa_store|report\.(xlsx|html)|\bdsa/")
_PACKAGE = Path(markov.__file__).parent


def _string_literals(path: Path) -> list[tuple[int, str]]:
    """Every string of a module's code but its docstrings, f-strings with ``{}`` for each value."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    documented = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree) if isinstance(node, documented) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            found.append((node.lineno, "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found.append((node.lineno, node.value))
    return found


def _file_names(path: Path) -> list[str]:
    return [f"{path.relative_to(_PACKAGE)}:{line}: {text!r}" for line, text in _string_literals(path)
            if _FILE_NAME.search(text)]


def test_only_the_results_module_spells_out_the_names_of_a_results_directory():
    assert len(_file_names(_PACKAGE / "results.py")) >= 10  # the check finds them where they are
    # the PSA store's name is defined where the store is read (probabilistic comes before results)
    allowed = {"probabilistic/psa.py": {"psa_store"}}
    found = []
    for path in sorted(_PACKAGE.rglob("*.py")):
        module = path.relative_to(_PACKAGE).as_posix()
        if module != "results.py":
            found += [hit for hit in _file_names(path) if not any(hit.endswith(f"'{text}'")
                                                                 for text in allowed.get(module, ()))]
    assert found == []
