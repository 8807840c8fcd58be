"""EVPI and EVPPI figures: labelled, named, saved, and strict about their input."""
import pandas as pd
import pytest
from figure_helpers import all_texts, decision_tables, legend_labels, save_all

from markov._validate import InputError
from markov.plots import plot_evpi, plot_evppi


def test_evpi_per_patient_and_population(tmp_path):
    _, _, evpi = decision_tables()
    figure = plot_evpi(evpi, thresholds={"US benchmark": 150_000})
    axis = figure.axes[0]
    assert axis.get_ylabel() == "EVPI per patient (USD)"
    assert axis.get_xlabel() == "Willingness to pay (USD per QALY)"
    peak = evpi.loc[evpi["evpi"].idxmax()]
    assert f"Maximum ${peak['evpi']:,.0f} at ${peak['wtp']:,.0f} per QALY" in legend_labels(figure)
    save_all(figure, tmp_path, "evpi")
    population = plot_evpi(evpi.assign(evpi=evpi["evpi"] * 10_000), population=True, currency="EUR")
    assert population.axes[0].get_ylabel() == "Population EVPI (EUR)" and "Population EVPI" in legend_labels(population)
    with pytest.raises(InputError, match=r"evpi: missing column\(s\) \['evpi'\]"):
        plot_evpi(evpi.rename(columns={"evpi": "value"}))
    with pytest.raises(InputError, match=r"evpi\['evpi'\] is -5.0 in row 0"):
        plot_evpi(evpi.assign(evpi=-5.0))


def test_evppi_bars_sorted_with_evpi_line_and_method(tmp_path):
    table = pd.DataFrame({"parameter": ["Utility, progression-free", "Hazard ratio OS", "Drug cost", "Discount rate"],
                          "evppi": [2_300.0, 5_600.0, 700.0, 0.0], "method": "gam"})
    figure = plot_evppi(table, evpi=9_000.0, wtp_label="WTP $150,000 per QALY", title="EVPPI")
    axis = figure.axes[0]
    assert [t.get_text() for t in axis.get_yticklabels()] == ["Hazard ratio OS", "Utility, progression-free",
                                                             "Drug cost", "Discount rate"]
    assert axis.get_xlabel() == "EVPPI per patient (USD), WTP $150,000 per QALY"
    assert legend_labels(figure) == ["EVPI (all parameters): $9,000"]
    texts = all_texts(figure)
    assert "EVPPI by GAM regression (Strong, Oakley & Brennan 2014)." in texts and "$5,600 (62% of EVPI)" in texts
    save_all(figure, tmp_path, "evppi")
    many = pd.concat([table.assign(parameter=table["parameter"] + f" {i}") for i in range(6)], ignore_index=True)
    assert "4 further parameters with smaller EVPPI not shown." in all_texts(plot_evppi(many, population=True))
    with pytest.raises(InputError, match=r"table: missing column\(s\) \['evppi'\]"):
        plot_evppi(table.drop(columns="evppi"))
    with pytest.raises(InputError, match=r"table\['parameter'\] is empty in row 1"):
        plot_evppi(table.assign(parameter=["a", None, "c", "d"]))


def test_evppi_of_no_input_says_so_in_place_of_the_bars():
    empty = pd.DataFrame({"parameter": [], "evppi": []})
    figure = plot_evppi(empty, evpi=64.0, wtp_label="$150,000/QALY",
                        if_none="EVPPI is zero for every single input at $150,000/QALY")
    texts = all_texts(figure)
    assert "EVPPI is zero for every single input at $150,000/QALY" in texts and "No single input" not in texts
    assert not figure.axes[0].patches and list(figure.axes[0].get_yticks()) == []  # no bar, no bar label
    assert "EVPI (all parameters): $64" in legend_labels(figure)
    with pytest.raises(InputError, match="table: has no rows"):
        plot_evppi(empty, evpi=64.0)
