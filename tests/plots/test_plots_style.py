"""Strategy colours: one per strategy, the same in every figure given the same mapping."""
from figure_helpers import STRATEGIES, decision_tables, legend_colours, psa_samples

from markov.plots import plot_acceptability, plot_ce_plane, strategy_colours
from markov.plots.style import PALETTE


def test_strategy_colours_follow_the_full_list_and_keep_colours_given():
    assert strategy_colours(STRATEGIES) == dict(zip(STRATEGIES, PALETTE, strict=False))
    # a colour given is kept and not handed to another strategy; the others take the palette in order
    chosen = strategy_colours(STRATEGIES, {"Lenvatinib": PALETTE[0]})
    assert chosen == {"BSC": PALETTE[1], "Sorafenib": PALETTE[2], "Lenvatinib": PALETTE[0],
                      "Atezolizumab + bevacizumab": PALETTE[3]}
    many = [f"Strategy {i}" for i in range(len(PALETTE) + 2)]
    assert list(strategy_colours(many).values())[-2:] == ["0.5", "0.5"]  # grey once the palette runs out


def test_a_strategy_has_the_same_colour_in_the_ce_plane_and_the_ceac():
    effects, costs = psa_samples()
    others = [s for s in STRATEGIES if s != "BSC"]  # the CE plane leaves the comparator out
    colours = strategy_colours(STRATEGIES)
    plane = plot_ce_plane({s: costs[s] - costs["BSC"] for s in others},
                          {s: effects[s] - effects["BSC"] for s in others}, comparator="BSC", colours=colours)
    ceac, ceaf, _ = decision_tables()
    curves = plot_acceptability(ceac, ceaf, colours=colours)
    in_plane, in_ceac = legend_colours(plane), legend_colours(curves)
    for strategy in others:
        assert in_plane[strategy] == in_ceac[strategy] == colours[strategy].lower()
    assert in_ceac["BSC"] == colours["BSC"].lower()
