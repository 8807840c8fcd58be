"""The command line as a newcomer meets it: ``--version``, every subcommand's ``--help``,
and the hint for a number written where a model file names evidence."""
import contextlib
import io
import re

import pytest
import yaml

import markov
from markov.cli import _parser, main

_SUBCOMMANDS = ("run", "psa", "dsa", "gsa", "report", "sequences", "validate-inputs")
#: An option as help text names it: a dash or two, then a letter (not "2.5%", "tcp://", "Atezo-Bev").
_OPTION = re.compile(r"(?<![\w/-])(--?[a-z][a-z-]*)")


def _help(command: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_status:
        main([*command, "--help"])
    assert exit_status.value.code == 0
    return capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_status:
        main(["--version"])
    assert exit_status.value.code == 0
    assert capsys.readouterr().out.strip() == f"markov {markov.__version__}"


def test_every_help_text_names_options_as_they_are(capsys):
    commands = _parser()._subparsers._group_actions[0].choices
    assert set(commands) == set(_SUBCOMMANDS)
    for name in ("", *_SUBCOMMANDS):
        text = _help([name] if name else [], capsys)
        assert "%%" not in text, (name, "a doubled % (a description is printed as written)")
        options = {option for action in (commands[name] if name else _parser())._actions
                   for option in action.option_strings}
        named = set(_OPTION.findall(text))
        assert named, name
        assert named <= options, (name, sorted(named - options))


def test_help_of_the_psa_commands_names_their_own_count_option(capsys):
    for command, count in (("run", "--psa"), ("report", "--psa"), ("psa", "--samples")):
        text = " ".join(_help([command], capsys).split())
        assert f"a larger {count} extends the PSA" in text, command


def test_a_number_in_overrides_says_how_to_give_a_number(tmp_path, capsys):
    analysis = tmp_path / "analysis.yaml"
    analysis.write_text(yaml.safe_dump({"name": "slip", "overrides": {
        "perspectives": {"us_payer": {"discount_rate_costs": 0.03}}}}))
    assert main(["validate-inputs", str(analysis), "--draws", "0"]) == 2
    error = capsys.readouterr().err
    assert "discount_rate_costs = 0.03" in error
    assert "values:" in error and "markov.load().set(" in error


SMALL = {"name": "small", "cycle_length_days": 30.4375, "horizon_years": 10}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """``markov run`` of a small analysis with a PSA of 20 draws and PDF asked for: its
    directory and what it printed on stderr (progress) and stdout (tables)."""
    root = tmp_path_factory.mktemp("cli")
    analysis = root / "small.yaml"
    analysis.write_text(yaml.safe_dump(SMALL))
    out = root / "run"
    err, std = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        assert main(["run", str(analysis), "--psa", "20", "--seed", "2", "--out", str(out),
                     "--formats", "png,svg,pdf"]) == 0
    return out, err.getvalue(), std.getvalue()


def test_figures_in_the_formats_asked_for(small_run, tmp_path, capsys):
    out, _, _ = small_run
    stems = {path.stem for path in out.glob("*.png")}
    assert "ce_plane_imbrave150" in stems and "occupancy_mvi" in stems
    for stem in stems:
        assert all((out / f"{stem}{suffix}").stat().st_size > 0 for suffix in (".svg", ".pdf")), stem
    assert main(["dsa", "--formats", "png,jpg", "--out", str(tmp_path / "x")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "'png,jpg'" in error and "png, svg, pdf" in error
    assert not (tmp_path / "x").exists()


def test_every_long_phase_says_when_it_starts(small_run):
    _, err, _ = small_run
    firsts = [line.split(" [")[0] for line in err.splitlines() if " 0% 0/" in line or "% 1/" in line]
    for phase in ("Base case", "Writing figures", "PSA"):
        assert any(first.startswith(phase) for first in firsts), (phase, err)
    # the figures of the base case, then those of the PSA: each phase counts up to its own total
    totals = [int(m) for m in re.findall(r"Writing figures \[[#.]+\] +100% \d+/(\d+)", err)]
    assert len(totals) == 2 and all(total > 4 for total in totals)


def test_console_tables_as_a_health_economist_reads_them(small_run):
    _, _, printed = small_run
    tables = [line for line in printed.splitlines() if line and not line.startswith("Wrote ")]
    assert max(len(line) for line in tables) <= 100
    text = "\n".join(tables)
    for heading in ("Cost (USD)", "QALYs", "ICER (USD/QALY)", "NMB at $100,000/QALY (USD)", "P(CE) $150,000",
                    "PSA summary — "):
        assert heading in text, heading
    assert "_" not in text and "NaN" not in text and "—" in text  # labels, not keys; undefined shown as —
    assert "dominated by TACE" in text  # sorafenib in the MVI population
    money = [cell for line in tables for cell in line.split() if cell[:1].isdigit() and "," in cell]
    assert money and all("." not in cell for cell in money)  # whole units


def test_a_large_psa_uses_every_core_by_default_and_a_small_one_this_process():
    import os

    from markov.cli import AUTO_WORKERS_FROM_DRAWS, MAX_AUTO_WORKERS, _workers

    cores = min(len(os.sched_getaffinity(0)), MAX_AUTO_WORKERS)
    large = str(AUTO_WORKERS_FROM_DRAWS)
    for argv, workers in ((["psa", "-n", str(AUTO_WORKERS_FROM_DRAWS - 1)], 1), (["psa", "-n", large], cores),
                          (["run", "--psa", large], cores), (["psa", "-n", large, "--workers", "1"], 1),
                          (["psa", "-n", large, "--scheduler", "tcp://127.0.0.1:8786"], 1), (["run"], 1)):
        assert _workers(_parser().parse_args(argv)) == workers, argv
