"""Rules of a sequence's options that last until death, and of removing a setting by
merging ``null`` into it."""
import pytest
from pydantic import ValidationError

from markov.inputs.merge import deep_merge
from markov.inputs.structures import Option, SequencingStrategy

FIRST = {"treatment": "sorafenib", "progression_free": "pfs", "pre_progression_death_share": "t.d"}
UNTIL_DEATH = {"treatment": "regorafenib", "share": "t.s", "overall_survival": "os"}


def test_an_option_lasts_until_death_or_has_a_progression_free_curve():
    assert Option(**UNTIL_DEATH).progression_free is None
    with pytest.raises(ValidationError, match="overall_survival: the option lasts until death, so it has no "
                                              "progression: progression_free, pre_progression_death_share"):
        Option(**UNTIL_DEATH, progression_free="pfs", pre_progression_death_share="t.d")
    with pytest.raises(ValidationError, match="post_progression_survival cannot be given with it"):
        Option(**UNTIL_DEATH, post_progression_survival="bsc")
    with pytest.raises(ValidationError, match="pre_progression_death_share: needed \\(or overall_survival"):
        Option(treatment="sorafenib", progression_free="pfs")


def test_no_line_may_follow_a_line_whose_options_all_last_until_death():
    SequencingStrategy(label="two lines", lines=[FIRST, {"options": [UNTIL_DEATH]}])
    with pytest.raises(ValidationError, match=r"lines\[2\]: no one reaches it: every option of lines\[1\] has "
                                              r"overall_survival"):
        SequencingStrategy(label="three lines", lines=[FIRST, {"options": [UNTIL_DEATH]},
                                                       {"options": [{**UNTIL_DEATH, "treatment": "cabozantinib"}]}])
    # with one option that progresses, the next line has patients
    progressing = {**FIRST, "treatment": "cabozantinib", "share": "t.s"}
    SequencingStrategy(label="three lines", lines=[FIRST, {"options": [UNTIL_DEATH, progressing]},
                                                   {"options": [{**UNTIL_DEATH, "treatment": "ramucirumab"}]}])


def test_merging_null_removes_a_setting_and_leaves_the_rest():
    base = {"strategies": {"a": {"label": "A", "post_progression": {"calibrated_to": "a"}}, "b": {"label": "B"}}}
    merged = deep_merge(base, {"strategies": {"a": {"post_progression": {"calibrated_to": None}}, "b": None}})
    assert merged == {"strategies": {"a": {"label": "A", "post_progression": {}}}}
    assert base["strategies"]["b"] == {"label": "B"}  # the base is not changed
