"""Data and inspection helpers shared by the figure tests."""
import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import to_hex

from markov.plots import save_figure

STRATEGIES = ["BSC", "Sorafenib", "Lenvatinib", "Atezolizumab + bevacizumab"]


def legend_labels(figure) -> list[str]:
    return [t.get_text().replace("\\$", "$") for legend in figure.legends for t in legend.get_texts()]


def all_texts(figure) -> str:
    """Every text drawn on the figure (titles, notes, annotations, tick labels), joined."""
    figure.canvas.draw()
    found = [t.get_text() for t in figure.findobj(matplotlib.text.Text)]
    return "\n".join(found).replace("\\$", "$")


def save_all(figure, tmp_path, name):
    written = save_figure(figure, tmp_path / name)
    assert [p.suffix for p in written] == [".png", ".svg"] and all(p.stat().st_size > 0 for p in written)
    return written


def psa_samples(n=2_000, seed=1):
    """Costs (USD) and QALYs of four strategies; incremental against BSC."""
    rng = np.random.default_rng(seed)
    effects, costs = {"BSC": 0.9 + rng.normal(0, 0.08, n)}, {"BSC": 30_000 + rng.normal(0, 4_000, n)}
    for name, de, dc in [("Sorafenib", 0.28, 55_000), ("Lenvatinib", 0.34, 62_000),
                         ("Atezolizumab + bevacizumab", 0.72, 150_000)]:
        z = rng.normal(size=n)
        effects[name] = effects["BSC"] + de + 0.15 * z
        costs[name] = costs["BSC"] + dc + 20_000 * (0.5 * z + 0.8 * rng.normal(size=n))
    return effects, costs


def decision_tables(n=2_000):
    effects, costs = psa_samples(n)
    e, c = np.column_stack([effects[s] for s in STRATEGIES]), np.column_stack([costs[s] for s in STRATEGIES])
    wtps = np.arange(0, 300_001, 10_000)
    ceac, ceaf, evpi = {}, [], []
    for w in wtps:
        nmb = w * e - c
        best, optimal = nmb.argmax(1), nmb.mean(0).argmax()
        ceac[w] = [(best == j).mean() for j in range(len(STRATEGIES))]
        ceaf.append((w, STRATEGIES[optimal], (best == optimal).mean()))
        evpi.append((w, nmb.max(1).mean() - nmb.mean(0).max()))
    return (pd.DataFrame.from_dict(ceac, orient="index", columns=STRATEGIES),
            pd.DataFrame(ceaf, columns=["wtp", "strategy", "probability_cost_effective"]),
            pd.DataFrame(evpi, columns=["wtp", "evpi"]))


def legend_colours(figure) -> dict[str, str]:
    """Colour (hex) of each legend entry, by its label."""
    return {text.get_text(): to_hex(handle.get_color())
            for legend in figure.legends for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True)
            if hasattr(handle, "get_color")}
