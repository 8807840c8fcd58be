"""Engines against closed forms, against each other, and against patient-level simulation."""
import numpy as np
import pytest
import scipy.linalg

from markov import (
    CurveCrossingWarning,
    InputError,
    TreatmentLine,
    run_markov,
    run_partitioned_survival,
    run_sequencing,
)


@pytest.mark.verification(
    kind="closed form",
    against="(1 − p)^t alive and (1 − p)^(t − 1)·p deaths of a two-state chain",
    tolerance="rtol 1e-13")
def test_markov_two_state_closed_form():
    # alive -> dead with probability p each cycle: alive(t) = (1 - p)^t
    p, n_cycles = 0.13, 40
    trace = run_markov([[1 - p, p], [0, 1]], [1, 0], n_cycles=n_cycles)
    t = np.arange(n_cycles + 1)
    np.testing.assert_allclose(trace.occupancy[0, :, 0], (1 - p) ** t, rtol=1e-13)
    np.testing.assert_allclose(trace.entries[0, 1:, 1], (1 - p) ** t[:-1] * p, rtol=1e-13)
    assert trace.entries[0, 0, 0] == 1.0  # everyone enters the initial state at t = 0


@pytest.mark.verification(
    kind="closed form",
    against="cumulative products of survival varying by cycle and sample",
    tolerance="rtol 1e-13")
def test_markov_varies_by_cycle_and_sample():
    # sample s dies with probability p[s, c] in cycle c: alive = prod (1 - p)
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 0.3, size=(5, 12))
    matrices = np.zeros((5, 12, 2, 2))
    matrices[..., 0, 0], matrices[..., 0, 1], matrices[..., 1, 1] = 1 - p, p, 1
    trace = run_markov(matrices, [1, 0])
    expected = np.concatenate([np.ones((5, 1)), np.cumprod(1 - p, axis=1)], axis=1)
    np.testing.assert_allclose(trace.state("state_0"), expected, rtol=1e-13)


def _illness_death(progression, death_pf, death_pd, times):
    """Closed-form occupancy of PF, PD, dead with constant hazards."""
    leave = progression + death_pf
    pf = np.exp(-leave * times)
    pd_ = progression / (leave - death_pd) * (np.exp(-death_pd * times) - np.exp(-leave * times))
    return pf, pd_


@pytest.mark.verification(
    kind="another engine",
    against="the Markov engine on the matrix exponential of an illness-death generator, against partitioned "
            "survival on its closed-form PFS and OS",
    tolerance="atol 1e-10")
def test_psm_and_markov_agree_on_exponential_curves():
    a, b, c, step, n_cycles = 0.9, 0.15, 1.4, 1 / 12, 240
    times = np.arange(n_cycles + 1) * step
    pf, pd_ = _illness_death(a, b, c, times)
    psm = run_partitioned_survival([pf, pf + pd_])
    generator = np.array([[-(a + b), a, b], [0, -c, c], [0, 0, 0]])
    matrix = scipy.linalg.expm(generator * step)
    matrix /= matrix.sum(axis=1, keepdims=True)  # remove expm rounding before validation
    markov = run_markov(matrix, [1, 0, 0], n_cycles=n_cycles)
    np.testing.assert_allclose(psm.occupancy, markov.occupancy, atol=1e-10, rtol=0)
    # deaths per cycle are the same quantity in both engines
    np.testing.assert_allclose(psm.entries[..., 2], markov.entries[..., 2], atol=1e-10, rtol=0)
    assert psm.crossing_time_points.tolist() == [0]


def test_psm_clips_and_reports_crossing_curves():
    os_ = np.array([1.0, 0.8, 0.5, 0.3])
    pfs = np.array([1.0, 0.9, 0.4, 0.35])  # above OS at two time points
    with pytest.warns(CurveCrossingWarning, match="1 of 1 samples"):
        trace = run_partitioned_survival([pfs, os_])
    assert trace.crossing_time_points.tolist() == [2]
    np.testing.assert_allclose(trace.state("progression_free")[0], [1.0, 0.8, 0.4, 0.3])
    np.testing.assert_allclose(trace.occupancy.sum(axis=2), 1.0)


def _sequencing_as_markov(q, death, onward, q_post, n_cycles):
    """Markov matrices (n, n_cycles, K+2, K+2) equivalent to exponential lines."""
    n, n_lines = q.shape
    k = n_lines + 2
    matrices = np.zeros((n, n_cycles, k, k))
    for j in range(n_lines):
        leave = (1 - q[:, j])[:, None]
        progress = leave * (1 - death[j])
        matrices[:, :, j, j] = q[:, j][:, None]
        matrices[:, :, j, k - 1] = leave * death[j]
        nxt = progress * onward[j]
        if j + 1 < n_lines:
            matrices[:, :, j, j + 1] = nxt
        matrices[:, :, j, n_lines] = progress - nxt
    matrices[:, :, n_lines, n_lines] = q_post[:, None]
    matrices[:, :, n_lines, k - 1] = 1 - q_post[:, None]
    matrices[:, :, k - 1, k - 1] = 1
    return matrices


@pytest.mark.verification(
    kind="another engine",
    against="the Markov engine on the chain equivalent to three exponential lines (shares and death shares by "
            "sample and cycle), direct and FFT convolution and the geometric recursion",
    tolerance="atol 1e-10")
@pytest.mark.parametrize("method", ["direct", "fft", "auto"])
def test_sequencing_equals_markov_with_exponential_curves(method):
    rng = np.random.default_rng(11)
    n, n_lines, n_cycles = 7, 3, 200
    q = rng.uniform(0.80, 0.99, size=(n, n_lines))  # per-cycle probability of staying on a line
    q_post = rng.uniform(0.7, 0.95, size=n)
    death = [rng.uniform(0, 0.4, size=(n, n_cycles)) for _ in range(n_lines)]  # by sample and cycle
    onward = [rng.uniform(0, 1, size=(n, 1)) for _ in range(n_lines - 1)] + [np.zeros((n, 1))]
    u = np.arange(n_cycles + 1)
    lines = [
        TreatmentLine(f"line_{j + 1}", q[:, j][:, None] ** u, death[j], onward[j]) for j in range(n_lines)
    ]
    trace = run_sequencing(lines, q_post[:, None] ** u, method=method)
    markov = run_markov(_sequencing_as_markov(q, death, onward, q_post, n_cycles), np.eye(n_lines + 2)[0])
    np.testing.assert_allclose(trace.occupancy, markov.occupancy, atol=1e-10, rtol=0)
    np.testing.assert_allclose(trace.entries, markov.entries, atol=1e-10, rtol=0)
    assert trace.state_names == ("line_1", "line_2", "line_3", "best_supportive_care", "dead")


@pytest.mark.verification(
    kind="another engine",
    against="direct convolution against the FFT on Weibull lines",
    tolerance="atol 1e-14")
def test_fft_and_direct_convolution_agree():
    rng = np.random.default_rng(5)
    n_cycles = 400
    u = np.arange(n_cycles + 1) / 52
    weibull = lambda shape, scale: np.exp(-((u / scale) ** shape))  # noqa: E731
    lines = [
        TreatmentLine("first", weibull(1.3, 0.8), 0.2, rng.uniform(size=(4,))),
        TreatmentLine("second", weibull(0.8, 0.5), 0.3),
    ]
    direct = run_sequencing(lines, weibull(1.1, 0.4), method="direct")
    fft = run_sequencing(lines, weibull(1.1, 0.4), method="fft")
    np.testing.assert_allclose(fft.occupancy, direct.occupancy, atol=1e-14, rtol=0)


@pytest.mark.verification(
    kind="another engine",
    against="direct summation, on exponential curves and on entries from them, on the weekly 20-year grid "
            "(1,045 time points)",
    tolerance="atol 1e-13")
def test_geometric_recursion_equals_direct_summation():
    from markov.engine import Convolutions

    rng = np.random.default_rng(21)
    times = np.arange(1045) / 52.18
    rates = rng.uniform(0.05, 3.0, size=(6, 1))
    curves = np.exp(-rates * times)  # as a fitted exponential is evaluated: not a running product
    entries = rng.uniform(size=(6, 1045)) / 1045
    convolutions = Convolutions(1045)
    recursion = convolutions.occupancy(entries, curves)
    assert not convolutions._found and recursion.flags.c_contiguous  # by recursion: no spectrum, a fresh array
    direct = Convolutions(1045, "direct").occupancy(entries, curves)
    np.testing.assert_allclose(recursion, direct, atol=1e-13, rtol=0)
    shared = Convolutions(1045).occupancy(entries, curves[:1])  # one curve for every sample
    np.testing.assert_allclose(shared, Convolutions(1045, "direct").occupancy(entries, curves[:1]), atol=1e-13, rtol=0)
    # entries from an exponential line (none at t = 0, then geometric), into a Weibull curve
    leaving = np.zeros((6, 1045))
    leaving[:, 1:] = 0.3 * (curves[:, :-1] - curves[:, 1:])
    weibull = np.exp(-((times / rng.uniform(0.3, 2.0, size=(6, 1))) ** 1.3))
    convolutions = Convolutions(1045)
    recursion = convolutions.occupancy(leaving, weibull)
    assert not convolutions._found
    np.testing.assert_allclose(recursion, Convolutions(1045, "direct").occupancy(leaving, weibull), atol=1e-13, rtol=0)


@pytest.mark.parametrize("bend", ["one point", "one sample", "weibull"])
def test_each_sample_is_convolved_by_recursion_only_where_its_curve_is_geometric(bend):
    from markov.engine import Convolutions

    rng = np.random.default_rng(22)
    times = np.arange(1045) / 52.18
    curves = np.exp(-rng.uniform(0.1, 2.0, size=(4, 1)) * times)
    bent = [2]
    if bend == "one point":
        curves[2, 700] *= 1 + 1e-9  # off its series by far less than any tolerance of a result
    elif bend == "one sample":
        curves[2] = np.exp(-((times / 0.8) ** 1.2))
    else:
        curves, bent = np.exp(-((times / rng.uniform(0.5, 2.0, size=(4, 1))) ** 0.9)), [0, 1, 2, 3]
    entries = rng.uniform(size=(4, 1045))
    mixed = Convolutions(1045).occupancy(entries, curves)
    np.testing.assert_array_equal(mixed[bent], Convolutions(1045, "fft").occupancy(entries[bent], curves[bent]))
    for sample in set(range(4)) - set(bent):  # by recursion, whatever the samples beside it
        alone = Convolutions(1045).occupancy(entries[[sample]], curves[[sample]])
        np.testing.assert_array_equal(mixed[sample], alone[0])
        assert np.abs(alone - Convolutions(1045, "fft").occupancy(entries[[sample]], curves[[sample]])).max() > 0


@pytest.mark.parametrize("n", [1, 3, 4, 5, 9])
def test_samples_checked_and_convolved_four_at_a_time_get_what_they_get_alone(n):
    """The recursion checks and convolves four samples in step; whatever the group a sample
    falls in (a last group of fewer than four, bent samples beside it), its check and its
    result are those it gets alone, bit for bit."""
    from markov import _engine
    from markov.engine import Convolutions
    from markov.engine.convolutions import GEOMETRIC_TOLERANCE

    rng = np.random.default_rng(26 + n)
    times = np.arange(1045) / 52.18
    curves = np.exp(-rng.uniform(0.1, 2.0, size=(n, 1)) * times)
    bent = rng.permutation(n)[: n // 3]  # Weibull, or off its series at one point only
    for k, sample in enumerate(bent):
        if k % 2:
            curves[sample, 300] += 1e-9  # 1,000 times the tolerance
        else:
            curves[sample] = np.exp(-((times / 0.8) ** 1.2))
    entries = rng.uniform(size=(n, 1045))
    checked = _engine.geometric_series(curves, GEOMETRIC_TOLERANCE)
    assert checked[3].sum() == n - len(bent) and not checked[3][bent].any()
    together = Convolutions(1045).occupancy(entries, curves)
    for sample in range(n):
        alone = _engine.geometric_series(curves[[sample]], GEOMETRIC_TOLERANCE)
        for got, expected in zip(checked, alone, strict=True):
            assert got[sample] == expected[0]
        expected = Convolutions(1045).occupancy(entries[[sample]], curves[[sample]])[0]
        np.testing.assert_array_equal(together[sample], expected)
    # one curve for every sample, into a trace's state (rows apart in memory)
    trace = np.zeros((n, 3, 1045)).transpose(0, 2, 1)
    Convolutions(1045).occupancy(entries, curves[:1], out=trace[:, :, 1])
    for sample in range(n):
        np.testing.assert_array_equal(trace[sample, :, 1], Convolutions(1045).occupancy(entries[[sample]],
                                                                                      curves[:1])[0])
    assert not trace[:, :, [0, 2]].any()


@pytest.mark.parametrize("off", [0.5, -0.5, 2.0, -2.0, np.nan, np.inf])
def test_a_series_holds_while_each_point_is_within_the_tolerance_of_the_running_product(off):
    """A point off its series by half the tolerance (either side) keeps the row geometric;
    twice the tolerance, NaN or infinity does not: the rule is |product − point| <= limit."""
    from markov import _engine
    from markov.engine.convolutions import GEOMETRIC_TOLERANCE

    head, first, ratio = 1.0, 0.9, 0.97
    row = np.concatenate([[head], first * ratio ** np.arange(599.0)])
    product = first
    for _ in range(2, 401):
        product *= ratio  # the running product the check compares with, to point 400
    rows = np.repeat(row[None, :], 5, axis=0)  # in a group of four and a last group of one
    rows[2, 400] = product + off * GEOMETRIC_TOLERANCE * head
    geometric = _engine.geometric_series(rows, GEOMETRIC_TOLERANCE)[3].astype(bool)
    assert geometric[[0, 1, 3, 4]].all()
    assert geometric[2] == (abs(off) < 1)


def test_entries_are_not_checked_where_every_curve_is_geometric():
    from markov.engine import Convolutions

    rng = np.random.default_rng(24)
    times = np.arange(1045) / 52.18
    curves = np.exp(-rng.uniform(0.1, 2.0, size=(5, 1)) * times)
    entries = np.zeros((5, 1045))
    entries[:, 1:] = 0.3 * (curves[:, :-1] - curves[:, 1:])  # geometric too, so checking them would pass
    for array in (curves, entries):
        array.flags.writeable = False
    convolutions = Convolutions(1045)
    found = convolutions.occupancy(entries, curves)
    assert [key[0] for key in convolutions._found] == ["series"]  # the curves' only
    np.testing.assert_allclose(found, Convolutions(1045, "direct").occupancy(entries, curves), atol=1e-13, rtol=0)
    # one sample whose curve is not geometric: the entries are checked, and convolve it
    bent = curves.copy()
    bent[3] = np.exp(-((times / 0.8) ** 1.2))
    bent.flags.writeable = False
    found = convolutions.occupancy(entries, bent)
    assert [key[0] for key in convolutions._found] == ["series", "series", "series"]
    np.testing.assert_allclose(found, Convolutions(1045, "direct").occupancy(entries, bent), atol=1e-13, rtol=0)


def test_split_on_treatment_leaves_on_and_the_rest_off_in_place():
    from markov.engine import split_on_treatment

    rng = np.random.default_rng(25)
    trace = rng.uniform(size=(4, 3, 50)).transpose(0, 2, 1)  # states apart in memory, as a model's trace
    option, on = trace[:, :, 0].copy(), trace[:, :, 0] * rng.uniform(size=(4, 50))
    trace[:, :, 1] = on
    split_on_treatment(trace[:, :, 0], trace[:, :, 1])
    np.testing.assert_array_equal(trace[:, :, 0], on)
    np.testing.assert_array_equal(trace[:, :, 1], option - on)  # rounded once, as numpy rounds it


@pytest.mark.parametrize("layout", ["rows", "trace states", "every other point"])
@pytest.mark.parametrize("m", [1, 4, 5, 11])
def test_death_in_one_pass_is_its_entries_and_their_running_sum_bit_for_bit(layout, m):
    """The dead state's entries are the deaths and its occupancy np.cumsum of them, to the
    last bit, whatever the strides of the trace it is written into and however many
    samples (summed four at a time, the rest one by one)."""
    from markov import _engine

    rng = np.random.default_rng(31)
    deaths = rng.uniform(size=(m, 300)) * 10.0 ** rng.integers(-12, 0, size=(m, 300))  # sums that round
    deaths[:, 0] = 0.0
    if layout == "rows":
        occupancy, entries = np.full((m, 300), np.nan), np.full((m, 300), np.nan)
    elif layout == "trace states":
        occupancy = np.full((m, 4, 300), np.nan).transpose(0, 2, 1)[:, :, 3]
        entries = np.full((m, 4, 300), np.nan).transpose(0, 2, 1)[:, :, 3]
    else:
        occupancy, entries = np.full((m, 600), np.nan)[:, ::2], np.full((m, 600), np.nan)[:, ::2]
    _engine.absorbing_state(deaths, occupancy, entries)
    np.testing.assert_array_equal(occupancy, np.cumsum(deaths, axis=1))
    np.testing.assert_array_equal(entries, deaths)


def test_scaled_rows_are_added_as_numpy_adds_them_bit_for_bit():
    from markov.engine import add_scaled_rows

    rng = np.random.default_rng(32)
    out, rows, scale = rng.uniform(size=(6, 200)), rng.uniform(size=(6, 200)), rng.uniform(size=6)
    expected = out.copy()
    expected += scale[:, None] * rows
    add_scaled_rows(out, scale, rows)
    np.testing.assert_array_equal(out, expected)
    # into an array that holds nothing yet (NaN here): written, not added to
    unwritten = np.full((6, 200), np.nan)
    add_scaled_rows(unwritten, scale, rows, unwritten=True)
    np.testing.assert_array_equal(unwritten, scale[:, None] * rows)


@pytest.mark.parametrize("moving_on", [0.0, 1.0])
def test_a_sequencing_step_leaves_unwritten_what_nobody_enters(moving_on):
    from markov import _engine

    rng = np.random.default_rng(26)
    n_times = 40
    occupancy = np.cumsum(rng.uniform(size=(3, n_times)), axis=1)[:, ::-1].copy()
    entries = rng.uniform(size=(3, n_times))
    death_share = rng.uniform(size=(3, n_times - 1))
    full = [np.zeros((3, n_times)) for _ in range(3)]  # deaths, post-progression, next line
    _engine.sequencing_step(occupancy, entries, death_share, np.full((1, 1), moving_on), *full,
                            occupancy.copy(), entries.copy())
    deaths, untouched = np.zeros((3, n_times)), np.full((3, n_times), 7.0)
    given = (None, untouched) if moving_on else (untouched, None)  # post-progression or next line
    _engine.sequencing_step(occupancy, entries, death_share, np.full((1, 1), moving_on), deaths, *given,
                            occupancy.copy(), entries.copy())
    np.testing.assert_array_equal(deaths, full[0])
    np.testing.assert_array_equal(untouched, full[2] if moving_on else 7.0 + full[1])
    assert not full[1 if moving_on else 2].any()  # what was left unwritten is nobody


@pytest.mark.parametrize("layout", ["rows", "trace states", "every other point"])
@pytest.mark.parametrize("shares", ["one", "by sample", "by cycle", "by sample and cycle"])
def test_a_sequencing_step_is_its_formula_bit_for_bit(layout, shares):
    """Every case of the compiled step (deaths only, post-progression, next line, both), on
    a line stored as rows, as a trace's states, or with a step between its time points,
    against the formula in numpy: exits, deaths, progressions and who moves on, each
    rounded as numpy rounds it."""
    from markov import _engine

    rng = np.random.default_rng(27)
    m, n_times = 5, 41
    series = {name: rng.uniform(size=(m, 2 * n_times)) for name in ("occupancy", "entries")}
    if layout == "rows":
        occupancy, entries = (series[name][:, :n_times].copy() for name in series)
    elif layout == "trace states":
        trace = rng.uniform(size=(m, 3, n_times)).transpose(0, 2, 1)
        occupancy, entries = trace[:, :, 0], trace[:, :, 2]
    else:
        occupancy, entries = (series[name][:, ::2] for name in series)
    shape = {"one": (1, 1), "by sample": (m, 1), "by cycle": (1, n_times - 1), "by sample and cycle": (m, n_times - 1)}
    death_share, next_share = (rng.uniform(size=shape[shares]) for _ in range(2))
    leaving = occupancy[:, :-1] + entries[:, 1:] - occupancy[:, 1:]
    dying = leaving * death_share
    progressing = leaving - dying
    starting = progressing * next_share
    for to_post, to_next in ((False, False), (True, False), (False, True), (True, True)):
        deaths, post, onward = (rng.uniform(size=(m, n_times)) for _ in range(3))
        expected = {"deaths": deaths.copy(), "post": post.copy(), "onward": onward.copy()}
        expected["deaths"][:, 1:] += dying
        if to_post:
            expected["post"][:, 1:] += progressing - starting
        if to_next:
            expected["onward"][:, 0], expected["onward"][:, 1:] = 0.0, starting
        state = np.zeros((m, 2, n_times)).transpose(0, 2, 1)  # copied into a trace's states
        _engine.sequencing_step(occupancy, entries, death_share, next_share, deaths, post if to_post else None,
                                onward if to_next else None, state[:, :, 0], state[:, :, 1])
        np.testing.assert_array_equal(deaths, expected["deaths"])
        np.testing.assert_array_equal(post, expected["post"])
        np.testing.assert_array_equal(onward, expected["onward"])
        np.testing.assert_array_equal(state[:, :, 0], occupancy)
        np.testing.assert_array_equal(state[:, :, 1], entries)


@pytest.mark.parametrize("moving_on", [False, True])
def test_a_later_line_split_in_its_steps_pass_is_the_split_after_it_bit_for_bit(moving_on):
    """add_line with a time on treatment splits the option's occupancy, sample by sample,
    in the pass of its book-keeping: the same bits as the step then split_on_treatment,
    with the exits counted from the whole option's occupancy."""
    from markov.engine import Convolutions, add_line, split_on_treatment

    rng = np.random.default_rng(29)
    m, n_times = 6, 300
    times = np.arange(n_times) / 52
    survival = np.exp(-rng.uniform(0.2, 1.5, (m, 1)) * times)  # by recursion
    survival[4] = np.exp(-((times / 0.9) ** 1.3))  # and one by FFT
    on = survival * np.exp(-rng.uniform(0.1, 1.0, (m, 1)) * times)
    line_entries = rng.uniform(size=(m, n_times)) / n_times
    death_share = rng.uniform(size=(m, n_times - 1))
    outputs = {}
    for fused in (False, True):
        occupancy, entries = (np.full((m, 4, n_times), 7.0).transpose(0, 2, 1) for _ in range(2))
        deaths, post = np.ones((m, n_times)), np.ones((m, n_times))
        onward = np.empty((m, n_times)) if moving_on else None
        add_line(occupancy, entries, 1, line_entries, survival, death_share, deaths, post, onward,
                 Convolutions(n_times), on if fused else None)
        if not fused:
            Convolutions(n_times).occupancy(line_entries, on, out=occupancy[:, :, 2])
            split_on_treatment(occupancy[:, :, 1], occupancy[:, :, 2])
            entries[:, :, 2] = 0.0
        outputs[fused] = (occupancy, entries, deaths, post, onward)
    for got, expected in zip(outputs[True], outputs[False], strict=True):
        np.testing.assert_array_equal(got, expected)
    assert (outputs[True][0][:, :, [0, 3]] == 7.0).all() and (outputs[True][1][:, :, [0, 3]] == 7.0).all()


@pytest.mark.parametrize("treated", [False, True])
@pytest.mark.parametrize("shares", ["one", "by sample", "by sample and cycle"])
def test_a_starting_line_in_one_pass_is_its_steps_bit_for_bit(treated, shares):
    """add_starting_line fuses the occupancy share · S, its entries, the step's deaths and
    progressions, and (with a time on treatment) the split into on and off treatment:
    each value as the separate steps round it, in a trace's states."""
    from markov import _engine
    from markov.engine import add_starting_line, split_on_treatment

    rng = np.random.default_rng(28)
    m, n_times = 5, 60
    survival = np.concatenate([np.ones((m, 1)), np.cumprod(rng.uniform(0.9, 1.0, (m, n_times - 1)), axis=1)], axis=1)
    on = survival * np.concatenate([np.ones((m, 1)), np.cumprod(rng.uniform(0.8, 1.0, (m, n_times - 1)), axis=1)],
                                   axis=1)
    share = rng.uniform(0.2, 1.0, (m, 2))[:, 1]  # a column: not contiguous
    shape = {"one": (1, 1), "by sample": (m, 1), "by sample and cycle": (m, n_times - 1)}[shares]
    death_share = rng.uniform(size=shape)
    deaths, post = rng.uniform(size=(m, n_times)), rng.uniform(size=(m, n_times))
    expected = {"deaths": deaths.copy(), "post": post.copy(),
                "occupancy": np.zeros((m, 4, n_times)).transpose(0, 2, 1),
                "entries": np.zeros((m, 4, n_times)).transpose(0, 2, 1)}
    state, state_entries = expected["occupancy"][:, :, 1], expected["entries"][:, :, 1]
    state[...] = share[:, None] * survival
    state_entries[:, 0] = share
    _engine.sequencing_step(state, state_entries, death_share, np.zeros((1, 1)), expected["deaths"], expected["post"],
                            None, state, state_entries)
    if treated:
        expected["occupancy"][:, :, 2] = share[:, None] * on
        split_on_treatment(state, expected["occupancy"][:, :, 2])
    occupancy = np.full((m, 4, n_times), 7.0).transpose(0, 2, 1)  # every value written is checked
    entries = np.full((m, 4, n_times), 7.0).transpose(0, 2, 1)
    add_starting_line(occupancy, entries, 1, share, survival, death_share, deaths, post, on if treated else None)
    np.testing.assert_array_equal(deaths, expected["deaths"])
    np.testing.assert_array_equal(post, expected["post"])
    written = [1, 2] if treated else [1]
    np.testing.assert_array_equal(occupancy[:, :, written], expected["occupancy"][:, :, written])
    np.testing.assert_array_equal(entries[:, :, written], expected["entries"][:, :, written])
    untouched = [j for j in range(4) if j not in written]
    assert (occupancy[:, :, untouched] == 7.0).all() and (entries[:, :, untouched] == 7.0).all()
    # into arrays that hold nothing yet (NaN here): written, as if added to zeros
    for unwritten in ((True, False), (False, True), (True, True)):
        given = {"deaths": np.zeros((m, n_times)), "post": np.zeros((m, n_times))}
        expected = {name: array.copy() for name, array in given.items()}
        add_starting_line(occupancy, entries, 1, share, survival, death_share, expected["deaths"], expected["post"],
                          on if treated else None)
        for name, flag in zip(("deaths", "post"), unwritten, strict=True):
            if flag:
                given[name][...] = np.nan
        add_starting_line(occupancy, entries, 1, share, survival, death_share, given["deaths"], given["post"],
                          on if treated else None, unwritten=unwritten)
        for name, array in given.items():
            np.testing.assert_array_equal(array, expected[name], err_msg=f"{name}, {unwritten}")


def test_strategies_sharing_convolutions_get_the_results_of_their_own():
    from markov.engine import Convolutions

    rng = np.random.default_rng(23)
    u = np.arange(300) / 52
    weibull = lambda scale: np.exp(-((u / scale) ** 1.2))
    first, second, post = (np.tile(weibull(scale), (3, 1)).copy() for scale in (0.8, 0.5, 0.4))
    for curve in (second, post):
        curve.flags.writeable = False
    shared = Convolutions(300)
    for share in rng.uniform(size=(3, 3)):
        lines = [TreatmentLine("first", first, 0.2, share), TreatmentLine("second", second, 0.3)]
        np.testing.assert_array_equal(run_sequencing(lines, post, method=shared).occupancy,
                                      run_sequencing(lines, post).occupancy)
    # each read-only curve checked once, transformed once and found not geometric once
    assert sorted(key[0] for key in shared._found) == ["checked", "checked", "series", "series", "spectrum",
                                                       "spectrum"]
    with pytest.raises(InputError, match="Convolutions of 200 time points; the curves have 300"):
        run_sequencing(lines, post, method=Convolutions(200))


def test_a_shared_convolutions_checks_a_curve_until_it_passes():
    from markov.engine import Convolutions

    u = np.arange(300) / 52
    rising = np.exp(-u / 0.8)
    rising[100] = rising[99] + 0.01
    rising.flags.writeable = False
    good = np.exp(-u / 0.5)
    good.flags.writeable = False
    shared = Convolutions(300)
    for _ in range(2):  # a failed check is not kept as passed
        with pytest.raises(InputError, match=r"second.progression_free \[time point 100\]: survival rises"):
            run_sequencing([TreatmentLine("first", good, 0.2, 0.5), TreatmentLine("second", rising, 0.3)], good,
                           method=shared)


@pytest.mark.verification(
    kind="another engine",
    against="one convolution per call, without reused spectra",
    tolerance="bit for bit")
def test_reused_spectra_change_no_bit_of_a_convolution():
    from markov.engine import Convolutions, clock_reset_occupancy

    rng = np.random.default_rng(8)
    n_times = 1045  # the FFT path, and products above numpy's in-place elision size at 37 rows
    entries, survival = rng.uniform(size=(37, n_times)), rng.uniform(size=(37, n_times))
    expected = clock_reset_occupancy(entries, survival)
    convolutions = Convolutions(n_times)
    shared_entries, shared_survival = entries.copy(), survival.copy()
    shared_entries.flags.writeable = shared_survival.flags.writeable = False
    for pair in ((shared_entries, survival), (entries, shared_survival), (shared_entries, shared_survival)):
        np.testing.assert_array_equal(convolutions.occupancy(*pair), expected)
        np.testing.assert_array_equal(convolutions.occupancy(*pair), expected)  # from the stored spectra
    # a sample's result does not depend on how many are convolved with it
    for rows in (slice(1, 2), slice(1, 6)):
        few = shared_entries[rows].copy()
        few.flags.writeable = False
        np.testing.assert_array_equal(convolutions.occupancy(few, survival[rows]), expected[rows])


def test_run_sequencing_in_blocks_gives_each_sample_its_result_alone():
    from markov.engine import SEQUENCING_CHUNK_SAMPLES

    rng = np.random.default_rng(27)
    n, times = SEQUENCING_CHUNK_SAMPLES + 7, np.arange(300) / 52  # a whole block and part of one

    def weibull(scale, shape):
        return np.exp(-((times / scale) ** shape))

    first = weibull(rng.uniform(0.5, 1.5, (n, 1)), 1.2)
    second = np.exp(-rng.uniform(0.5, 2.0, (n, 1)) * times)  # by recursion
    post = weibull(rng.uniform(0.2, 0.6, (n, 1)), 0.9)
    death, onward = rng.uniform(0.1, 0.4, n), rng.uniform(0.3, 0.8, n)
    whole = run_sequencing([TreatmentLine("first", first, death, onward), TreatmentLine("second", second, 0.3)],
                           post)
    for s in (0, SEQUENCING_CHUNK_SAMPLES - 1, SEQUENCING_CHUNK_SAMPLES, n - 1):
        alone = run_sequencing([TreatmentLine("first", first[s], death[s], onward[s]),
                                TreatmentLine("second", second[s], 0.3)], post[s])
        np.testing.assert_array_equal(whole.occupancy[s], alone.occupancy[0])
        np.testing.assert_array_equal(whole.entries[s], alone.entries[0])


def test_a_freed_array_leaves_nothing_stored():
    from markov.engine import Convolutions

    convolutions = Convolutions(300)
    curve = np.tile(np.linspace(1.0, 0.5, 300), (2, 1)).copy()  # owns its data; not geometric: by FFT
    for scale in (1.0, 2.0, 3.0):  # each new array may take the id of the one freed before it
        entries, geometric = np.tile(np.linspace(scale, 2 * scale, 300), (2, 1)).copy(), np.full((2, 300), 1.0)
        for array in (entries, geometric, curve):
            array.flags.writeable = False
        np.testing.assert_allclose(convolutions.occupancy(entries, curve)[:, -1],
                                   (entries[:, ::-1] * curve).sum(axis=1))
        np.testing.assert_allclose(convolutions.occupancy(entries, geometric)[:, -1], entries.sum(axis=1))
        del entries, geometric
    assert sorted(key[:2] for key in convolutions._found) == [("series", id(curve)), ("spectrum", id(curve))]


def test_an_array_that_outlives_its_convolutions_does_not_keep_what_they_computed():
    import weakref

    from markov.engine import Convolutions

    # owns its data and lives on, as a PSA's curve convolved block by block; not geometric: by FFT
    curve = np.tile(np.linspace(1.0, 0.5, 300), (2, 1)).copy()
    curve.flags.writeable = False
    entries = np.tile(np.linspace(1.0, 2.0, 300), (2, 1))
    kept = []
    for _ in range(3):  # a Convolutions per block
        convolutions = Convolutions(300)
        convolutions.occupancy(entries, curve)
        kept.append(weakref.ref(convolutions.spectrum(curve)))
        del convolutions
    assert [spectrum() for spectrum in kept] == [None, None, None]


def _simulate_patients(n_patients, curves, death, onward, post, rng):
    """Brute-force patient-level simulation of the sequencing model on the grid.

    A patient entering a state with survival S at time point tau leaves it at
    tau + D where P(D > u) = S(u): D = 1 + #{u >= 1 : S(u) > U} for U ~ U(0, 1).
    Returns occupancy (n_time_points, K + 2) as shares of patients.
    """
    n_times = post.size
    n_lines = len(curves)
    entry = np.zeros(n_patients, dtype=np.int64)
    active = np.ones(n_patients, dtype=bool)  # still heading into the current line
    counts = np.zeros((n_times, n_lines + 2))
    post_entry = np.full(n_patients, -1)
    for k in range(n_lines):
        duration = np.searchsorted(-curves[k][1:], -rng.uniform(size=n_patients), side="left") + 1
        leave = entry + duration
        for i in np.flatnonzero(active):  # tally occupancy (test-only loop)
            counts[entry[i] : min(leave[i], n_times), k] += 1
        exits = active & (leave < n_times)
        cycle = np.minimum(leave, n_times - 1) - 1
        dies = exits & (rng.uniform(size=n_patients) < death[k][np.maximum(cycle, 0)])
        progressed = exits & ~dies
        nxt = progressed & (rng.uniform(size=n_patients) < onward[k])
        to_post = progressed & ~nxt
        post_entry[to_post] = leave[to_post]
        active, entry = nxt, leave
    duration = np.searchsorted(-post[1:], -rng.uniform(size=n_patients), side="left") + 1
    for i in np.flatnonzero(post_entry >= 0):
        counts[post_entry[i] : min(post_entry[i] + duration[i], n_times), n_lines] += 1
    counts[:, -1] = n_patients - counts[:, :-1].sum(axis=1)
    return counts / n_patients


@pytest.mark.verification(
    kind="simulation",
    against="a patient-level simulation of 200,000 patients through three Weibull lines and care",
    tolerance="5 binomial standard errors in every cell")
def test_sequencing_matches_patient_level_simulation_with_weibull_curves():
    n_cycles, step = 104, 1 / 26  # fortnightly over 4 years
    u = np.arange(n_cycles + 1) * step
    weibull = lambda shape, scale: np.exp(-((u / scale) ** shape))  # noqa: E731
    curves = [weibull(1.4, 0.9), weibull(0.9, 0.6), weibull(1.2, 0.5)]
    death = [np.linspace(0.1, 0.3, n_cycles), np.full(n_cycles, 0.25), np.full(n_cycles, 0.4)]
    onward = [0.7, 0.5, 0.0]
    post = weibull(1.1, 0.4)
    # a share that varies by cycle is (1, n_cycles); a 1-D share is one value per sample
    lines = [TreatmentLine(f"line_{k}", curves[k], death[k][None], onward[k]) for k in range(3)]
    expected = run_sequencing(lines, post).occupancy[0]

    n_patients = 200_000
    simulated = _simulate_patients(n_patients, curves, death, onward, post, np.random.default_rng(2024))
    standard_error = np.sqrt(expected * (1 - expected) / n_patients)
    # 5 standard errors over ~500 cells: a false alarm has probability < 1e-3
    assert np.all(np.abs(simulated - expected) <= 5 * standard_error + 1e-12)


@pytest.mark.verification(
    kind="closed form",
    against="one line then care: 0.95^t on the line, 0.05 (0.95^t − 0.9^t)/0.05 in care",
    tolerance="rtol 1e-12")
def test_sequencing_one_line_closed_form():
    # one line (stay 0.95 a cycle, no deaths) then care (stay 0.9): progressed(t) is
    # sum_{tau=1..t} 0.05 * 0.95^(tau-1) * 0.9^(t-tau) = 0.05 (0.95^t - 0.9^t) / (0.95 - 0.9)
    u = np.arange(61)
    trace = run_sequencing([TreatmentLine("first", 0.95**u)], 0.9**u)
    np.testing.assert_allclose(trace.state("first")[0], 0.95**u, rtol=1e-13)
    expected = 0.05 * (0.95**u - 0.9**u) / 0.05
    np.testing.assert_allclose(trace.state("best_supportive_care")[0], expected, rtol=1e-12, atol=1e-15)


def test_partitioned_survival_shares_curves_across_samples():
    pfs = np.array([[1.0, 0.8, 0.6], [1.0, 0.7, 0.5]])
    os_ = np.array([1.0, 0.9, 0.8])
    trace = run_partitioned_survival([pfs, os_])
    assert trace.occupancy.shape == (2, 3, 3)
    np.testing.assert_allclose(trace.state("dead"), [[0, 0.1, 0.2], [0, 0.1, 0.2]])


def test_markov_cycle_matrix_equals_materialised_matrices():
    rng = np.random.default_rng(8)
    distinct = rng.dirichlet(np.ones(3), size=(4, 2, 3))  # 4 samples, 2 distinct matrices
    which = np.array([1, 1, 0, 0, 0, 1, 0])
    compact = run_markov(distinct, [1, 0, 0], cycle_matrix=which)
    full = run_markov(distinct[:, which], [1, 0, 0])
    np.testing.assert_array_equal(compact.occupancy, full.occupancy)


@pytest.mark.verification(
    kind="closed form",
    against="ln 2 / median for a cohort that all enters one state at t = 0 (median on a grid point), and "
            "linear interpolation between two grid points",
    tolerance="rtol 1e-13")
def test_exit_rate_for_median_closed_form():
    from markov.engine import exit_rate_for_median

    step = 1 / 52
    times = np.arange(600) * step
    entries = np.zeros((3, 600))
    entries[:, 0] = 1.0
    outside = np.zeros((3, 600, 1))
    outside[2] = 0.6  # more than half alive outside the state whatever its rate: out of reach
    median = np.array([30 * step, 30.5 * step, 0.5])
    rate, unreachable = exit_rate_for_median(entries, outside, times, median)
    np.testing.assert_allclose(rate[0], np.log(2) / median[0], rtol=1e-13)
    q = np.exp(-rate[1] * step)  # halfway between points 30 and 31: the mean of q^30 and q^31 is 1/2
    np.testing.assert_allclose(0.5 * q ** 30 + 0.5 * q ** 31, 0.5, rtol=1e-13)
    assert unreachable.tolist() == [False, False, True] and rate[2] == pytest.approx(1e4)


@pytest.mark.verification(kind="closed form",
                          against="numpy's convolution of care's survival with its entries, built by hand from "
                                  "each line's occupancy and exits (two lines, two options and a share to care)",
                          tolerance="1e-13 of the largest value")
def test_care_fed_by_lines_of_constant_hazard_is_worked_out_by_recursions_where_it_can_be():
    """Post-progression care's occupancy by :func:`care_occupancy_by_recursion` against
    the convolution, written out with numpy, of care's survival with its entries built by
    hand: a first line whose progressors all move on, then two options and a share that
    starts neither, to 1e-13 of the largest value. A sample whose option has a death share
    that changes by cycle, and one whose curve is not a geometric series, are left out."""
    from markov.engine import Convolutions, LineToCare, care_occupancy_by_recursion

    rng = np.random.default_rng(5)
    n, n_times = 6, 300
    t = np.arange(n_times)
    rates = rng.uniform(0.005, 0.05, size=(3, n))  # per cycle: first line, options x and y
    curves = [np.exp(-np.outer(rate, t)) for rate in rates]
    curves[2][3] = np.exp(-(0.01 * t) ** 1.3)  # sample 3's option y: not of constant hazard
    for curve in curves:
        curve.flags.writeable = False
    deaths = [rng.uniform(0.1, 0.4, size=(n, 1)) for _ in range(3)]
    deaths[1] = np.repeat(deaths[1], n_times - 1, axis=1)
    deaths[1][2, 100:] += 0.05  # sample 2's option x: a death share by cycle (a floor)
    share_x = rng.uniform(0.2, 0.5, n)
    share_y = rng.uniform(0.1, 0.4, n)
    rest = 1.0 - share_x - share_y
    care = np.exp(-(np.outer(rng.uniform(0.02, 0.05, n), t)) ** 0.8)  # not of constant hazard: no recursion

    def progressions(entries, curve, death):  # each cycle's exits alive, by hand
        occupancy = np.convolve(entries, curve)[:n_times]
        leaving = np.r_[0.0, occupancy[:-1] + entries[1:] - occupancy[1:]]
        return leaving * (1.0 - np.r_[0.0, np.broadcast_to(death, n_times - 1)])

    lines = [LineToCare(np.zeros(n), ((np.ones(n), curves[0], deaths[0]),)),
             LineToCare(rest, ((share_x, curves[1], deaths[1]), (share_y, curves[2], deaths[2])))]
    samples = np.arange(n)
    found, holds = care_occupancy_by_recursion(lines, care, Convolutions(n_times), samples)
    assert holds.tolist() == [True, True, False, False, True, True]
    for s in np.flatnonzero(holds):
        start = np.zeros(n_times)
        start[0] = 1.0
        first = progressions(start, curves[0][s], deaths[0][s])
        into_care = rest[s] * first
        for share, curve, death in ((share_x, curves[1], deaths[1]), (share_y, curves[2], deaths[2])):
            into_care += progressions(share[s] * first, curve[s], death[s])
        expected = np.convolve(into_care, care[s])[:n_times]
        np.testing.assert_allclose(found[s], expected, rtol=0, atol=1e-13 * expected.max())
    # the samples asked for alone: the same rows
    some, _ = care_occupancy_by_recursion(lines, care, Convolutions(n_times), np.array([4, 1]))
    np.testing.assert_array_equal(some, found[[4, 1]])
