"""Sequence rules: what they allow, counted by hand, and the errors of bad rules."""
import pytest
from pydantic import ValidationError

from markov._validate import InputError
from markov.inputs.sequences import SequenceRules, enumerate_sequences, sequence_strategy

AGENTS = ("sorafenib", "lenvatinib", "regorafenib")


def position(line, treatment, **more):
    evidence = {"progression_free": f"pfs_{treatment}", "pre_progression_death_share": "t.death"}
    return {"line": line, "treatment": treatment, **({"share": "t.share"} if line > 1 else {}), **evidence, **more}


def rules(**more):
    positions = [position(line, agent) for line in (1, 2, 3) for agent in AGENTS]
    return SequenceRules(**{"population": "imbrave150", "max_active_lines": 3, "positions": positions, **more})


def treatments(found):
    return {s.treatments for s in found}


def test_every_agent_at_every_line_without_repeats():
    # by hand: 3 one-line sequences, 3 x 2 two-line, 3 x 2 x 1 three-line
    found = enumerate_sequences(rules())
    assert len(found) == 3 + 6 + 6
    assert len(treatments(found)) == len(found)
    assert all(len(set(s.treatments)) == len(s.treatments) for s in found)
    assert [len(s.treatments) for s in found] == sorted(len(s.treatments) for s in found)  # by number of lines


def test_repeats_allowed_when_the_rules_allow_them():
    assert len(enumerate_sequences(rules(no_repeat=False))) == 3 + 9 + 27


def test_no_two_of_a_class_in_a_row():
    # sorafenib and lenvatinib one class: neither may follow the other.
    # 1 line: 3; 2 lines: s->r, l->r, r->s, r->l; 3 lines: s->r->l, l->r->s
    classes = {"sorafenib": "tki", "lenvatinib": "tki", "regorafenib": "other"}
    found = enumerate_sequences(rules(classes=classes, not_in_a_row=["tki"]))
    assert len(found) == 9
    assert ("sorafenib", "regorafenib", "lenvatinib") in treatments(found)
    assert not any(("sorafenib", "lenvatinib") == s.treatments[:2] for s in found)


def test_only_after_a_named_predecessor_and_max_lines():
    # regorafenib only once sorafenib was given: 1 line: s, l; 2 lines: s->l, s->r, l->s;
    # 3 lines: s->l->r, s->r->l, l->s->r
    found = enumerate_sequences(rules(only_after={"regorafenib": ["sorafenib"]}))
    assert treatments(found) == {("sorafenib",), ("lenvatinib",), ("sorafenib", "lenvatinib"),
                                 ("sorafenib", "regorafenib"), ("lenvatinib", "sorafenib"),
                                 ("sorafenib", "lenvatinib", "regorafenib"), ("sorafenib", "regorafenib", "lenvatinib"),
                                 ("lenvatinib", "sorafenib", "regorafenib")}
    assert len(enumerate_sequences(rules(max_active_lines=2, positions=[
        position(line, agent) for line in (1, 2) for agent in AGENTS]))) == 3 + 6


def test_a_position_on_overall_survival_alone_ends_its_sequence():
    positions = [position(1, "sorafenib"), position(1, "lenvatinib"),
                 {"line": 2, "treatment": "regorafenib", "after": ["sorafenib"], "share": "t.share",
                  "overall_survival": "os_regorafenib"},
                 position(2, "sorafenib", after=["lenvatinib"]), position(3, "regorafenib")]
    found = enumerate_sequences(SequenceRules(population="p", max_active_lines=3, positions=positions))
    # s, l, s->r (ends: overall survival only), l->s, l->s->r
    assert treatments(found) == {("sorafenib",), ("lenvatinib",), ("sorafenib", "regorafenib"),
                                 ("lenvatinib", "sorafenib"), ("lenvatinib", "sorafenib", "regorafenib")}


def test_the_last_line_uses_overall_survival_and_an_earlier_one_its_progression_free_curve():
    both = position(2, "regorafenib", overall_survival="os_regorafenib")
    rules_ = SequenceRules(population="p", max_active_lines=3, labels={"sorafenib": "S"},
                           positions=[position(1, "sorafenib"), both, position(3, "lenvatinib")])
    short, long = enumerate_sequences(rules_)[1:]
    assert sequence_strategy(short, {"sorafenib": "S"}).lines[1].options[0].overall_survival == "os_regorafenib"
    strategy = sequence_strategy(long, {"sorafenib": "S"})
    assert strategy.lines[1].options[0].progression_free == "pfs_regorafenib"
    assert strategy.label == "S → regorafenib → lenvatinib → BSC"
    assert [o.share for line in strategy.lines for o in line.options] == [None, "t.share", "t.share"]


def test_too_many_sequences_are_refused_with_their_count():
    with pytest.raises(InputError, match=r"more than 10 sequences allowed by the rules \(found 15 up to line 3\)"):
        enumerate_sequences(rules(max_sequences=10))


@pytest.mark.parametrize("change, message", [
    ({"positions": [{"line": 1, "treatment": "sorafenib"}]}, "sorafenib at line 1: no evidence"),
    ({"positions": [{"line": 1, "treatment": "sorafenib", "progression_free": "pfs"}]},
     "progression_free is given without pre_progression_death_share"),
    ({"positions": [position(1, "sorafenib", after=["lenvatinib"])]}, "a first line has no predecessor"),
    ({"positions": [position(1, "sorafenib"), {**position(2, "lenvatinib"), "share": None}]},
     "share: needed at line 2"),
    ({"positions": [position(1, "sorafenib"), position(1, "sorafenib")]},
     r"positions\[1\]: sorafenib at line 1 is also positions\[0\]"),
    ({"positions": [position(1, "sorafenib"), position(2, "lenvatinib", after=["sorafenib"]),
                    position(2, "lenvatinib")]}, r"positions\[2\]: lenvatinib at line 2 is also positions\[1\]"),
    ({"positions": [position(2, "sorafenib")]}, "none at line 1"),
    ({"positions": [position(1, "sorafenib"), position(4, "lenvatinib")]}, "above max_active_lines = 3"),
    ({"not_in_a_row": ["tki"]}, "not_in_a_row: 'tki' is not a class"),
    ({"only_after": {"cabozantinib": ["sorafenib"]}}, "only_after.cabozantinib: not the treatment of any position"),
    ({"max_active_lines": 0}, "max_active_lines"),
])
def test_bad_rules_name_the_field_the_value_and_the_rule(change, message):
    with pytest.raises(ValidationError, match=message):
        rules(**change)
