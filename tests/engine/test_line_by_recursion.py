"""A later line worked out in one compiled pass per sample where its convolutions are
recursions (``_engine.line_by_recursion``, used by ``add_line``): the same bits as the
convolutions then the step's book-keeping, each sample on its own, falling back to those
steps, sample by sample, where a convolution has no geometric side."""
import numpy as np
import pytest

from markov import _engine
from markov.engine import Convolutions, StateSums, add_line

N_TIMES = 300
TIMES = np.arange(N_TIMES) / 52
#: how each sample's two convolutions (curve and time on treatment) can be done:
#: by the curve's series, by the entries' series, or by neither (FFT)
CASES = [("curve", "curve"), ("curve", "curve"), ("entries", "entries"), ("curve", "entries"),
         ("neither", "curve"), ("curve", "neither")]
M = len(CASES)


def _rows(seed: int = 51) -> dict:
    rng = np.random.default_rng(seed)
    weibull = lambda scale, shape: np.exp(-((TIMES / scale) ** shape))
    exponential = lambda rate: np.exp(-rate * TIMES)
    geometric_entries = lambda first, ratio: np.concatenate([[0.0], first * ratio ** np.arange(N_TIMES - 1)])
    survival, on, entries = (np.empty((M, N_TIMES)) for _ in range(3))
    for s, (curve_side, on_side) in enumerate(CASES):
        entries_geometric = "entries" in (curve_side, on_side)
        entries[s] = (geometric_entries(rng.uniform(0.01, 0.05), rng.uniform(0.95, 0.99)) if entries_geometric
                      else rng.uniform(0.0, 0.01, N_TIMES))
        survival[s] = exponential(rng.uniform(0.5, 2.0)) if curve_side == "curve" else weibull(0.8, 1.3)
        on[s] = exponential(rng.uniform(2.0, 3.0)) if on_side == "curve" else weibull(0.5, 1.4)
    return {"survival": survival, "on": on, "entries": entries,
            "death_share": rng.uniform(0.05, 0.4, (M, N_TIMES - 1)),
            "weights": (rng.uniform(size=(2, N_TIMES)), rng.uniform(size=(1, N_TIMES)))}


def _trace(m: int):
    return (np.full((m, 5, N_TIMES), 7.0).transpose(0, 2, 1) for _ in range(2))


def _reference(rows: dict, treated: bool, moving_on: bool, samples: slice = slice(None)):
    """The line by its separate steps: both convolutions into the trace, then the step."""
    survival, on, entries, death_share = (rows[name][samples] for name in ("survival", "on", "entries", "death_share"))
    m = entries.shape[0]
    occupancy, entered = _trace(m)
    sums = StateSums.empty(*rows["weights"], m, 5)
    convolutions = Convolutions(N_TIMES)
    convolutions.occupancy(entries, survival, out=occupancy[:, :, 1])
    off = (None, None)
    if treated:
        off = (occupancy[:, :, 2], entered[:, :, 2])
        convolutions.occupancy(entries, on, out=off[0])
    deaths, post = np.ones((m, N_TIMES)), np.ones((m, N_TIMES))
    onward = np.empty((m, N_TIMES)) if moving_on else None
    sum_rows = (sums.sums[:, 1, :], sums.sums[:, 2, :] if treated else None)
    _engine.sequencing_step(occupancy[:, :, 1], entries, death_share, np.full((1, 1), float(moving_on)), deaths,
                            None if moving_on else post, onward, occupancy[:, :, 1], entered[:, :, 1], *off,
                            *rows["weights"], *sum_rows)
    return occupancy, entered, deaths, post, onward, sums.sums


def _by_add_line(rows: dict, treated: bool, moving_on: bool, samples: slice = slice(None)):
    survival, on, entries, death_share = (rows[name][samples] for name in ("survival", "on", "entries", "death_share"))
    m = entries.shape[0]
    occupancy, entered = _trace(m)
    sums = StateSums.empty(*rows["weights"], m, 5)
    deaths, post = np.ones((m, N_TIMES)), np.ones((m, N_TIMES))
    onward = np.empty((m, N_TIMES)) if moving_on else None
    add_line(occupancy, entered, 1, entries, survival, death_share, deaths, post, onward, Convolutions(N_TIMES),
             on if treated else None, sums)
    return occupancy, entered, deaths, post, onward, sums.sums


@pytest.mark.parametrize("treated", [False, True])
@pytest.mark.parametrize("moving_on", [False, True])
def test_a_line_by_recursion_is_its_convolutions_then_its_step_bit_for_bit(treated, moving_on):
    """Samples convolved by the curve's series, by the entries', and by FFT (one of their
    convolutions having no geometric side), in one call: trace, deaths, progressions
    and sums the same bits as the separate steps; states it does not own untouched."""
    rows = _rows()
    got, expected = _by_add_line(rows, treated, moving_on), _reference(rows, treated, moving_on)
    for name, a, b in zip(("occupancy", "entries", "deaths", "post", "onward", "sums"), got, expected, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    owned = [1, 2] if treated else [1]
    others = [j for j in range(5) if j not in owned]
    assert (got[0][:, :, others] == 7.0).all() and (got[1][:, :, others] == 7.0).all()
    assert np.isnan(got[5][:, others]).all()


@pytest.mark.parametrize("treated", [False, True])
def test_the_samples_done_by_recursion_are_those_whose_convolutions_each_have_a_geometric_side(treated):
    """So that the comparison above covers the compiled pass, not only the steps it falls
    back to: a sample is done where each of its convolutions has a geometric side."""
    rows = _rows()
    occupancy, entered = _trace(M)
    step = (rows["death_share"], np.zeros((1, 1)), np.zeros((M, N_TIMES)), np.zeros((M, N_TIMES)), None,
            occupancy[:, :, 1], entered[:, :, 1], *((occupancy[:, :, 2], entered[:, :, 2]) if treated else (None,) * 2),
            *(None,) * 4)
    done = Convolutions(N_TIMES).line_by_recursion(rows["entries"], rows["survival"],
                                                   rows["on"] if treated else None, step)
    expected = [curve != "neither" and (not treated or on != "neither") for curve, on in CASES]
    np.testing.assert_array_equal(done.astype(bool), expected)
    untouched = ~np.array(expected)
    assert (occupancy[untouched] == 7.0).all() and (entered[untouched] == 7.0).all()
    assert Convolutions(N_TIMES, "fft").line_by_recursion(rows["entries"], rows["survival"], None, step) is None


def test_a_samples_line_does_not_depend_on_the_samples_beside_it():
    rows = _rows()
    together = _by_add_line(rows, True, True)
    for s in range(M):
        alone = _by_add_line(rows, True, True, slice(s, s + 1))
        for a, b in zip(alone, together, strict=True):
            np.testing.assert_array_equal(a[0], b[s])


def test_a_step_leaves_the_samples_it_skips_as_they_were():
    rows = _rows()
    entries, death_share = rows["entries"], rows["death_share"]
    occupancy = Convolutions(N_TIMES).occupancy(entries, rows["survival"])
    results = []
    for skip in (None, np.array([0, 1, 0, 1, 1, 0], dtype=np.uint8)):
        deaths, post, state = np.ones((M, N_TIMES)), np.ones((M, N_TIMES)), np.full((M, N_TIMES), 7.0)
        _engine.sequencing_step(occupancy, entries, death_share, np.zeros((1, 1)), deaths, post, None, state,
                                np.full((M, N_TIMES), 7.0), skip=skip)
        results.append((deaths, post, state))
    skipped = np.array([0, 1, 0, 1, 1, 0], dtype=bool)
    for whole, part in zip(*results, strict=True):
        np.testing.assert_array_equal(part[~skipped], whole[~skipped])
    assert (results[1][0][skipped] == 1.0).all() and (results[1][2][skipped] == 7.0).all()
    with pytest.raises(ValueError, match="skip has 2 samples; the entries have 6"):
        _engine.sequencing_step(occupancy, entries, death_share, np.zeros((1, 1)), deaths, post, None, state,
                                np.full((M, N_TIMES), 7.0), skip=np.zeros(2, dtype=np.uint8))
