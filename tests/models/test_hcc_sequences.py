"""In the shipped HCC base case a sequence's second line changes overall survival: its OS is
earned from line-specific evidence, not calibrated to the first-line trials' OS, so what
follows progression counts (issue 14's "sequences that change outcomes")."""
import numpy as np
import pytest

import markov

SECOND_LINE_AFTER_SORAFENIB = ("assumptions.regorafenib_after_sorafenib", "assumptions.cabozantinib_after_sorafenib")


@pytest.fixture(scope="module")
def base():
    return markov.load().base_case().table.set_index(["population", "strategy"])


def life_years(changes: dict) -> dict:
    table = markov.load().set(changes).base_case().table.set_index(["population", "strategy"])
    return table["life_years"].to_dict()


def test_treating_every_sorafenib_progressor_in_second_line_raises_sorafenib_life_years(base):
    shares = {ref: 0.5 for ref in SECOND_LINE_AFTER_SORAFENIB}  # 0.335 each in the base case: 0.67 in all
    changed = life_years(shares)
    gain = changed["imbrave150", "sorafenib"] - base.loc[("imbrave150", "sorafenib"), "life_years"]
    assert gain > 0.05  # years; regorafenib and cabozantinib beat best supportive care in their trials
    # nothing else moves: the shares belong to the sorafenib strategies only (IMbrave150-like and MVI)
    for key, value in changed.items():
        if key[1] != "sorafenib":
            assert value == pytest.approx(base.loc[key, "life_years"], rel=1e-12), key


def test_fewer_treated_after_sorafenib_means_fewer_life_years(base):
    changed = life_years({ref: 0.1 for ref in SECOND_LINE_AFTER_SORAFENIB})
    assert changed["imbrave150", "sorafenib"] < base.loc[("imbrave150", "sorafenib"), "life_years"] - 0.05


def test_second_line_lenvatinib_after_atezo_bev_raises_atezo_bev_life_years(base):
    # Chon 2024: OS 10.3 months from second-line lenvatinib, against 7.3 (median) in best supportive care
    changed = life_years({"persano_2024.lenvatinib_after_progression": 0.3})
    assert changed["imbrave150", "atezo_bev"] > base.loc[("imbrave150", "atezo_bev"), "life_years"]


def test_no_strategy_of_the_base_case_is_calibrated_and_its_os_is_its_own():
    analysis = markov.load()
    for population in analysis.inputs.populations.values():
        assert all(s.post_progression.calibrated_to is None for s in population.strategies.values())
    # calibrating (the os_calibration scenario) puts OS medians on the reported ones; the base case is its own
    table = analysis.base_case().calibration
    medians = table[(table["outcome"] == "OS") & (table["measure"] == "median (months)")]
    assert (abs(medians["model"] - medians["reported"]) > 0.1).all()
    calibrated = analysis.scenario("os_calibration").base_case().calibration
    medians = calibrated[(calibrated["outcome"] == "OS") & (calibrated["measure"] == "median (months)")]
    np.testing.assert_allclose(medians["model"], medians["reported"], atol=1e-6)


def test_the_tornado_of_atezo_bev_against_sorafenib_shows_second_line_shares_and_survival_evidence():
    tornado = markov.load().dsa().tornado("imbrave150").set_index("reference")
    shown = tornado[tornado["swing"] > 100].index  # USD of net monetary benefit
    for reference in (*SECOND_LINE_AFTER_SORAFENIB, "persano_2024.lenvatinib_after_progression",
                      "persano_2024.sorafenib_after_progression",
                      "nma_hcc_os_second_line_fixed.log_hazard_ratio_regorafenib_vs_placebo",
                      "nma_hcc_os_second_line_fixed.log_hazard_ratio_cabozantinib_vs_placebo",
                      "fit_best_supportive_care_os.meanlog",
                      "imbrave150_cheng_2022.pfs_hazard_ratio_atezo_bev_vs_sorafenib"):
        assert reference in shown, reference
