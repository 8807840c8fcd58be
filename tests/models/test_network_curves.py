"""Curves from a network meta-analysis (kind: network; markov/inputs/networks.py): the shipped
HCC networks fitted from the reconstructed patient-level data, the network's log hazard
ratios entering an analysis as derived evidence drawn jointly from its multivariate normal,
the curve built from the drawn ratio, `markov run` writing the network's tables and forest
plot, and bad network files or curves giving one error naming the place and the rule.

The analyses are the shipped partitioned-survival analysis with OS curves from the network,
written to a temporary directory with the patient-level data beside them (ipd/).
"""
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from markov import InputError
from markov.cli import main
from markov.inputs import EvidenceLibrary, load_analysis
from markov.inputs.networks import fit_network_file, networks_of, read_network
from markov.models import build_model
from markov.runs import inputs_table
from markov.survival import ProportionalHazards
from markov.survival.synthesis import TrialContrasts, fit_arms, fit_network

ROOT = Path(__file__).resolve().parents[2]
NETWORKS = ROOT / "params" / "networks"
IPD = ROOT / "params" / "ipd"
FIRST_LINE = ("imbrave150_finn2020_fig1a.csv", "reflect_kudo2018_fig2.csv", "checkmate-459_yau2019_figX.csv",
              "sarah_vilgrain2017_fig2a.csv", "sirvenib_chow2018_fig2a.csv", "sharp_llovet2008_fig2a.csv",
              "asiapacific_cheng2009_fig2a.csv")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A directory with the patient-level data in ipd/, where analyses are written."""
    root = tmp_path_factory.mktemp("networks")
    shutil.copytree(IPD, root / "ipd", ignore=shutil.ignore_patterns("*.md", "*.yaml"))
    return root


def analysis(root: Path, curves: dict, name: str = "nma", **settings_changed) -> Path:
    """The shipped partitioned-survival analysis with ``curves`` replacing its OS curves."""
    settings = yaml.safe_load((ROOT / "analyses" / "hcc_partitioned_survival.yaml").read_text())
    settings["overrides"]["populations"]["imbrave150"]["curves"].update(curves)
    settings.update(name=name, scenarios={}, **settings_changed)
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False))
    return path


def network_curve(treatment: str, **options) -> dict:
    return {"kind": "network", "network": "hcc_os", "treatment": treatment, "reference_curve": "sorafenib_os",
            **options}


@pytest.fixture(scope="module")
def hcc_os():
    return fit_network_file("hcc_os", NETWORKS / "hcc_os.yaml", EvidenceLibrary.load(), [IPD.parent])


def test_the_shipped_networks_are_valid_and_say_why():
    for path in sorted(NETWORKS.glob("*.yaml")):
        network = read_network(path)
        assert all(trial.why for trial in network.trials.values()) and network.excluded
        assert network.reference in network.treatments


@pytest.mark.verification(
    kind="published data",
    against="the published hazard ratios of the first-line trials against Cox fits to their reconstructed "
            "data",
    tolerance="log HR within 0.05")
def test_the_first_line_network(hcc_os):
    # the Cox estimates of the reconstructed trials reproduce the published hazard ratios to
    # their digitising error (Cox fits unstratified, the published mostly stratified)
    analysis = hcc_os.analysis
    evidence = EvidenceLibrary.load()
    for trial in hcc_os.file.trials.values():
        contrasts = next(c for c in analysis.trials if c.name == trial.label)
        for treatment, ref in trial.reported.items():
            if trial.used == "ipd":
                i = contrasts.treatments.index(treatment) if treatment in contrasts.treatments else None
                log_hr = contrasts.log_hazard_ratios[i] if i is not None else -contrasts.log_hazard_ratios[0]
                assert abs(log_hr - np.log(evidence[ref].value.value)) < 0.05, trial.label
    # the network as fitted (pinned to 3 decimals: a change is a change of data or method)
    table = analysis.table().set_index(["model", "treatment"])
    expected = {"atezolizumab_bevacizumab": (0.601, 0.438, 0.826), "lenvatinib": (0.927, 0.799, 1.075),
                "nivolumab": (0.843, 0.709, 1.002), "tremelimumab_durvalumab": (0.760, 0.649, 0.889),
                "radioembolisation": (1.133, 0.969, 1.325), "placebo": (1.430, 1.195, 1.711)}
    for model in ("fixed", "random"):
        for treatment, values in expected.items():
            row = table.loc[(model, treatment)]
            np.testing.assert_allclose([row["hr"], row["lower"], row["upper"]], values, atol=5e-4)
    heterogeneity = analysis.heterogeneity
    assert heterogeneity.df == 2 and heterogeneity.q == pytest.approx(0.086, abs=5e-4) and heterogeneity.tau2 == 0
    assert analysis.inconsistency.df == 0  # a star: no loops to test
    assert set(analysis.direct_trials("radioembolisation")) == {"SARAH", "SIRveNIB"}


def test_sorafenib_controlled_trials_of_other_agents_change_nothing(hcc_os):
    # the network file leaves them out because a spoke of its own informs no other estimate,
    # nor tau2: check it with five of them
    spokes = {"light_cainap2014_fig2.csv": "linifanib", "brisk-fl_johnson2013_fig2a.csv": "brivanib",
              "sun1170_chen2013_fig2a.csv": "sunitinib", "soramic_ricke2019_fig2a.csv": "sorafsirt",
              "calgb-80802_abou-alfa2019_fig2a.csv": "sorafdoxo"}
    extra = []
    for file, arm in spokes.items():
        data = pd.read_csv(IPD / file)
        extra.append(TrialContrasts.from_cox(file, "sorafenib", fit_arms(data["time"], data["event"], data["arm"],
                                                                         "sorafenib")))
        assert extra[-1].treatments == (arm,)
    larger = fit_network([*hcc_os.analysis.trials, *extra], "sorafenib")
    for model in ("fixed", "random"):
        for treatment in hcc_os.file.treatments:
            if treatment != "sorafenib":
                assert larger.estimates(model).contrast(treatment) == pytest.approx(
                    hcc_os.analysis.estimates(model).contrast(treatment), rel=1e-9, abs=1e-12)
    assert larger.heterogeneity.q == pytest.approx(hcc_os.analysis.heterogeneity.q, rel=1e-9)


def test_network_hazard_ratios_enter_as_derived_evidence_drawn_jointly(root, hcc_os):
    inputs = load_analysis(analysis(root, {"lenvatinib_os": network_curve("lenvatinib"),
                                           "atezo_bev_os": network_curve("atezolizumab_bevacizumab")}))
    refs = ["nma_hcc_os_random.log_hazard_ratio_lenvatinib_vs_sorafenib",
            "nma_hcc_os_random.log_hazard_ratio_atezolizumab_bevacizumab_vs_sorafenib"]
    curves = inputs.populations["imbrave150"].curves
    assert [curves["lenvatinib_os"].log_hazard_ratio, curves["atezo_bev_os"].log_hazard_ratio] == refs
    estimates = hcc_os.analysis.random
    for ref, treatment in zip(refs, ("lenvatinib", "atezolizumab_bevacizumab"), strict=True):
        item = inputs.evidence[ref].value
        assert (item.value, item.unit, item.status) == (estimates.contrast(treatment)[0], "coefficient", "calculated")
    # one joint multivariate normal with the network's covariance of the two
    joint = inputs.distributions[refs[0]]
    assert set(joint.references) == set(refs) and inputs.distributions[refs[1]].name == joint.name
    index = [estimates.treatments.index(ref.split("ratio_")[1].removesuffix("_vs_sorafenib"))
             for ref in joint.references]
    np.testing.assert_allclose(joint.distribution.covariance, estimates.covariance[np.ix_(index, index)], rtol=1e-14)
    # the base case's curve is the reference curve with the network's hazard ratio
    model = build_model(inputs)
    built = model.curves(inputs.populations["imbrave150"], inputs.base_case())
    expected = ProportionalHazards(built["sorafenib_os"], np.exp(estimates.contrast("lenvatinib")[0]))
    np.testing.assert_allclose(built["lenvatinib_os"].survival_on_grid(model.grid),
                               expected.survival_on_grid(model.grid), rtol=1e-13)
    # the PSA draws them together, with the network's covariance
    params = inputs.sample(4000, seed=3)
    draws = np.column_stack([params[ref] for ref in joint.references])
    covariance = joint.distribution.covariance
    scale = np.sqrt((np.outer(np.diag(covariance), np.diag(covariance)) + covariance ** 2) / 4000)
    assert (np.abs(np.cov(draws.T) - covariance) < 4 * scale).all()
    # listed in the inputs table with the network file as their source and the method
    table = inputs_table(inputs).set_index("reference")
    assert "hcc_os.yaml" in table.loc[refs[0], "source"]
    for text in ("random-effects network meta-analysis", "REML", "Cox model (Breslow ties) of ipd/reflect",
                 "HR 0.927 (95% CI 0.799 to 1.075)"):
        assert text in table.loc[refs[0], "calculation"]
    assert sorted(networks_of(inputs)) == ["hcc_os", "hcc_os_second_line"]  # the base case uses the second line's


def test_a_curve_may_choose_the_fixed_effect_model(root):
    inputs = load_analysis(analysis(root, {"lenvatinib_os": network_curve("lenvatinib", model="fixed")}, "fixed"))
    ref = inputs.populations["imbrave150"].curves["lenvatinib_os"].log_hazard_ratio
    assert ref == "nma_hcc_os_fixed.log_hazard_ratio_lenvatinib_vs_sorafenib"
    assert str(inputs.distributions[ref]).startswith("Normal(")  # alone, its own normal


def test_markov_run_writes_the_network_tables_and_forest_plot(root, hcc_os):
    out = root / "out"
    assert main(["run", str(analysis(root, {"lenvatinib_os": network_curve("lenvatinib")}, "run")), "--out",
                 str(out)]) == 0
    table = pd.read_csv(out / "nma_hcc_os.csv")
    assert set(table["model"]) == {"fixed", "random"}
    row = table[(table["model"] == "random") & (table["treatment"] == "lenvatinib")].iloc[0]
    assert row["hr"] == pytest.approx(np.exp(hcc_os.analysis.random.contrast("lenvatinib")[0]), rel=1e-12)
    assert row["treatment_label"] == "Lenvatinib" and row["direct_trials"] == "REFLECT"
    statistics = pd.read_csv(out / "nma_statistics_hcc_os.csv")
    assert list(statistics["test"]) == ["heterogeneity (Cochran's Q)", "inconsistency", "inconsistency"]
    trials = pd.read_csv(out / "nma_trials_hcc_os.csv").set_index("trial")
    assert trials.loc["REFLECT", "published_hr"] == 0.92 and np.isfinite(trials.loc["REFLECT", "ph_p"])
    assert trials.loc["HIMALAYA", "entered_as"] == "reported"
    league = pd.read_csv(out / "nma_league_hcc_os.csv")
    assert len(league) == 2 * len(hcc_os.file.treatments)
    for suffix in (".png", ".svg"):
        assert (out / f"nma_hcc_os{suffix}").stat().st_size > 0


@pytest.mark.parametrize("curve, rule", [
    (network_curve("lenvatinib", network="no_such_network"), "no such network"),
    (network_curve("regorafenib"), "not a treatment of network 'hcc_os'"),
    (network_curve("sorafenib"), "other than its reference 'sorafenib'"),
    (network_curve("lenvatinib", reference_curve="no_curve"), "no curve of that name"),
])
def test_bad_network_curves_are_refused(root, curve, rule):
    with pytest.raises(InputError, match=rule):
        load_analysis(analysis(root, {"lenvatinib_os": curve}, "bad"))


def write_network(root: Path, change) -> None:
    content = yaml.safe_load((NETWORKS / "hcc_os.yaml").read_text())
    change(content)
    (root / "networks").mkdir(exist_ok=True)
    (root / "networks" / "mine.yaml").write_text(yaml.safe_dump(content))


@pytest.mark.parametrize("change, rule", [
    (lambda c: c["trials"]["reflect"]["ipd"].update(file="ipd/missing.csv"), r"ipd\.file = 'ipd/missing.csv': no such"),
    (lambda c: c["trials"]["reflect"]["ipd"]["arms"].update(lenvatinib="lenvatinib", lenva="lenvatinib"),
     "arm 'lenva'"),
    (lambda c: c["trials"]["reflect"]["ipd"]["arms"].update(lenvatinib="lenvatinib_new"),
     "treatment 'lenvatinib_new' is not one of the treatments"),
    (lambda c: c["trials"]["himalaya"].update(reported={"tremelimumab_durvalumab": "reflect_kudo_2018.os_median_sorafenib"}),
     "needs a hazard_ratio with its ci95"),
    (lambda c: c["trials"]["sharp"].pop("source"), "needs source"),
    (lambda c: c["treatments"].update(regorafenib="Regorafenib"), "regorafenib is in no trial"),
    (lambda c: c["trials"]["himalaya"].update(reported={"tremelimumab_durvalumab": "nowhere.hr"}),
     r"trials\.himalaya\.reported\.tremelimumab_durvalumab: evidence 'nowhere.hr'"),
])
def test_bad_network_files_are_refused(root, change, rule):
    write_network(root, change)
    curve = network_curve("lenvatinib", network="mine")
    with pytest.raises(InputError, match=rule):
        load_analysis(analysis(root, {"lenvatinib_os": curve}, "bad_file"))


def test_a_three_arm_trial_from_reported_hazard_ratios(root):
    # HIMALAYA with its durvalumab arm, from test values: the two contrasts share the sorafenib
    # arm, whose log hazard has variance 1/deaths; alone on their spokes, the network keeps both
    values = {"stride": {"value": 0.78, "ci95": [0.65, 0.93], "unit": "hazard_ratio"},
              "durvalumab": {"value": 0.86, "ci95": [0.73, 1.03], "unit": "hazard_ratio"},
              "sorafenib_deaths": {"value": 293, "unit": "count"}}
    (root / "ev3").mkdir(exist_ok=True)
    (root / "ev3" / "three_arms.yaml").write_text(yaml.safe_dump({
        "source": {"citation": "test values", "url": "https://example.org/test", "kind": "trial"},
        "values": {name: {**value, "status": "verified", "where": "test"} for name, value in values.items()}}))

    def three_arms(content):
        content["treatments"]["durvalumab"] = "Durvalumab"
        content["trials"]["himalaya"].update(
            reported={"tremelimumab_durvalumab": "three_arms.stride", "durvalumab": "three_arms.durvalumab"},
            control_deaths="three_arms.sorafenib_deaths")
    write_network(root, three_arms)
    inputs = load_analysis(analysis(root, {"lenvatinib_os": network_curve("durvalumab", network="mine")}, "three",
                                    evidence_directories=["ev3"]))
    estimates = networks_of(inputs)["mine"].analysis.random
    assert estimates.contrast("durvalumab")[0] == pytest.approx(np.log(0.86), abs=1e-12)
    i, j = (estimates.treatments.index(t) for t in ("tremelimumab_durvalumab", "durvalumab"))
    assert estimates.covariance[i, j] == pytest.approx(1 / 293, rel=1e-12)
    with pytest.raises(InputError, match="control_deaths is for a trial of three or more arms"):
        write_network(root, lambda c: c["trials"]["reflect"].update(control_deaths="three_arms.sorafenib_deaths"))
        load_analysis(analysis(root, {"lenvatinib_os": network_curve("lenvatinib", network="mine")}, "three",
                               evidence_directories=["ev3"]))
