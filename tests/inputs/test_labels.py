"""Every input of every shipped analysis has a reviewer-facing name: its evidence file's
label or its key in words, never the key itself nor an underscore."""
from pathlib import Path

import pytest

from markov.inputs import load_analysis
from markov.inputs.labels import source_label, words

ANALYSES = sorted((Path(__file__).resolve().parents[2] / "analyses").glob("*.yaml"))


@pytest.mark.parametrize("path", ANALYSES, ids=lambda path: path.stem)
def test_every_input_has_a_readable_label(path):
    inputs = load_analysis(path)
    for ref in inputs.references:
        label = inputs.label(ref)
        source, _, name = ref.partition(".")
        assert "_" not in label, (ref, label)
        assert name not in label and source not in label, (ref, label)


def test_labels_from_the_evidence_file_and_from_keys():
    inputs = load_analysis()
    assert inputs.label("imbrave150_cheng_2022.pfs_hazard_ratio_atezo_bev_vs_sorafenib") == \
        "PFS HR, Atezo–Bev vs sorafenib (IMbrave150, Cheng 2022)"  # the file's label
    assert inputs.label("assumptions.start_age") == "Age at start, years (assumption)"
    assert words("body_weight_sd_kg", "kg") == "body weight SD"  # the unit is said once, after the name
    assert words("grade_3_4_best_supportive_care") == "grade 3–4 BSC"
    assert source_label("nice_ta474_sorafenib") == "NICE TA474 Sorafenib"
    assert source_label("li_2021_cabozantinib_price") == "Li 2021"
    # a fit the populations share is named by its curve; a population's own fit by both
    assert source_label("fit_best_supportive_care_os", ["imbrave150", "mvi"]) == "fit to patient-level data: BSC OS"
    assert source_label("fit_mvi_best_supportive_care_os", ["imbrave150", "mvi"]) == \
        "fit to patient-level data: BSC OS, MVI"
    assert inputs.source_label("fit_best_supportive_care_os") == "fit to patient-level data: BSC OS"
    assert source_label("nma_hcc_os_second_line_fixed") == "network meta-analysis: HCC OS second-line, fixed effects"
