"""The command line as a newcomer meets it: ``--version``, every subcommand's ``--help``,
and the hint for a number written where a model file names evidence."""
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
