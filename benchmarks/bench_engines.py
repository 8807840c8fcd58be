"""Engine benchmarks: PSA wall time against a plain-numpy implementation of the same model.

    python benchmarks/bench_engines.py [--draws 10000] [--repeats 7]

(a) Chancellor HIV Markov model (Dirichlet transitions, log-normal RR, gamma costs);
(b) 3-strategy partitioned-survival model, Weibull PFS/OS with multivariate normal
    coefficients, 0-12 years by 0.1;
(c) 5-strategy, 3-line sequencing model on a weekly grid over 20 years, in one process
    and in two (half the draws each, as a parallel PSA runs);
and, on (c)'s grid, a later line's convolutions and book-keeping as separate passes
against add_line's one pass per sample.

Each case times the whole PSA (draws -> curves -> engine -> outcomes) and the same
model written in plain numpy (vectorised over samples, a Python loop over cycles
where the model needs one), checks that both give the same answers, and prints the
median of the repeats and the ratio. The survival coefficients of (b) and (c) are
synthetic: they make the work realistic and are not evidence.
"""
from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import time
import warnings

import numpy as np
from timing import median_seconds

import markov
from markov.engine.memory import reused_array_memory
from markov.models import chancellor
from markov.outcomes import state_weights

DISCOUNT = 0.035
# hesim (R) on the same models and this machine, 10,000 draws, range of its runs: stored,
# since R is not installed where the benchmark runs (measured 2026-11, reported with the
# performance issue). Only a ratio to a number measured in the same run is exact.
HESIM_SECONDS = {"a": (0.94, 1.36), "b": (6.1, 7.4)}


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far (Linux and macOS units differ)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def report(name: str, ours: float, baseline: float, target: float | None = None,
           hesim: tuple[float, float] | None = None) -> None:
    verdict = "" if target is None else f"  target < {target:g} s: {'met' if ours < target else 'MISSED'}"
    print(f"{name:<52} {ours:8.4f} s   numpy {baseline:8.4f} s   speed-up x{baseline / ours:6.1f}{verdict}")
    if hesim is not None:
        low, high = hesim
        print(f"    hesim (R, stored 2026-11): {low:g}-{high:g} s, x{low / ours:.0f}-x{high / ours:.0f} ours")


# --------------------------------------------------------------------------- (a)

def chancellor_numpy(parameters: chancellor.Parameters, inputs: chancellor.ChancellorInputs) -> np.ndarray:
    """Plain numpy: one einsum per cycle over all samples, end-of-cycle counting."""
    settings = inputs.settings
    n = parameters.n_samples
    mono = parameters.transition
    reduced = mono * (1 - np.eye(4)) * parameters.relative_risk[:, None, None]
    reduced += np.eye(4) * (1 - reduced.sum(axis=2))[:, :, None]
    azt = inputs.annual_drug_costs["zidovudine"].value
    lam = inputs.annual_drug_costs["lamivudine"].value
    out = np.zeros((2, 2, n))
    for s, strategy in enumerate(chancellor.STRATEGIES):
        m = np.zeros((n, 4))
        m[:, 0] = 1
        for year in range(1, int(settings.horizon_years) + 1):
            on_combination = strategy == "combination" and year <= settings.combination_years
            m = np.einsum("si,sij->sj", m, reduced if on_combination else mono)
            alive = m[:, :3].sum(axis=1)
            drug = azt + (lam if on_combination else 0.0)
            cost = (m * parameters.state_costs).sum(axis=1) + alive * drug
            out[s, 0] += cost / (1 + settings.discount_rate_costs) ** year
            out[s, 1] += alive
    return out


def bench_chancellor(n: int, repeats: int) -> None:
    inputs = chancellor.load_inputs()

    def ours():
        return chancellor.evaluate(chancellor.sample(inputs, n, seed=1), inputs)

    def baseline():
        return chancellor_numpy(chancellor.sample(inputs, n, seed=1), inputs)

    t_ours, result = median_seconds(ours, repeats)
    t_base, expected = median_seconds(baseline, repeats)
    for s, strategy in enumerate(chancellor.STRATEGIES):
        rows = result[result.strategy == strategy]
        np.testing.assert_allclose(rows.cost, expected[s, 0], rtol=1e-10)
        np.testing.assert_allclose(rows.life_years, expected[s, 1], rtol=1e-10)
    report(f"(a) Chancellor Markov PSA, {n:,} draws", t_ours, t_base, 0.05,
           HESIM_SECONDS["a"] if n == 10_000 else None)


# --------------------------------------------------------------------------- (b), (c)

def weibull_draws(rng, n: int, log_shape: float, log_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Correlated (log shape, log scale) draws, as from a fitted model's covariance."""
    covariance = np.array([[0.010, -0.004], [-0.004, 0.020]])
    draws = rng.multivariate_normal([log_shape, log_scale], covariance, size=n)
    return np.exp(draws[:, 0]), np.exp(draws[:, 1])


def weibull_curves(shape: np.ndarray, scale: np.ndarray, times: np.ndarray) -> np.ndarray:
    """S(t) = exp(-(t / scale)^shape) (flexsurv's weibull), shape (n, n_times)."""
    return np.exp(-((times[None, :] / scale[:, None]) ** shape[:, None]))


def psm_inputs(n: int):
    rng = np.random.default_rng(2)
    grid = markov.TimeGrid(0.1, 120)
    strategies = []
    for log_scale_pfs, log_scale_os in [(-0.6, 0.5), (-0.3, 0.7), (-0.1, 0.9)]:
        pfs = weibull_draws(rng, n, 0.2, log_scale_pfs)
        os_ = weibull_draws(rng, n, 0.2, log_scale_os)
        strategies.append((pfs, os_))
    costs = np.array([30_000.0, 12_000.0, 0.0])  # per year
    utilities = np.array([0.75, 0.60, 0.0])
    return grid, strategies, costs, utilities


def bench_psm(n: int, repeats: int) -> None:
    grid, strategies, costs, utilities = psm_inputs(n)
    times = grid.times_years

    def ours():
        out = []
        for pfs, os_ in strategies:
            trace = markov.run_partitioned_survival(
                [weibull_curves(*pfs, times), weibull_curves(*os_, times)]
            )
            out.append([markov.accumulate(trace, grid, per_year=v, discount_rate=DISCOUNT).sum(axis=1)
                        for v in (costs, utilities)])
        return np.array(out)

    def baseline():
        out = []
        factors = (1 + DISCOUNT) ** -times
        for pfs, os_ in strategies:
            s_os = weibull_curves(*os_, times)
            s_pfs = np.minimum(weibull_curves(*pfs, times), s_os)
            occupancy = np.stack([s_pfs, s_os - s_pfs, 1 - s_os], axis=2)
            weighted = occupancy * factors[None, :, None]
            trapezoid = 0.5 * grid.cycle_length_years * (weighted[:, :-1] + weighted[:, 1:]).sum(axis=1)
            out.append([trapezoid @ costs, trapezoid @ utilities])
        return np.array(out)

    t_ours, result = median_seconds(ours, repeats)
    t_base, expected = median_seconds(baseline, repeats)
    np.testing.assert_allclose(result, expected, rtol=1e-10)
    report(f"(b) 3-strategy PSM, Weibull MVN, {n:,} draws", t_ours, t_base, 0.25,
           HESIM_SECONDS["b"] if n == 10_000 else None)


def sequencing_inputs(n: int):
    """5 first-line treatments; second line from a pool of 3, third from a pool of 2,
    then best supportive care: 11 distinct curves, each drawn once per sample."""
    rng = np.random.default_rng(3)
    grid = markov.TimeGrid.from_horizon(20, markov.WEEK_YEARS)
    times = grid.times_years
    first = [weibull_draws(rng, n, 0.1, s) for s in (-0.5, -0.3, -0.2, 0.0, 0.2)]
    second = [weibull_draws(rng, n, 0.0, s) for s in (-1.0, -0.8, -0.6)]
    third = [weibull_draws(rng, n, 0.0, s) for s in (-1.2, -1.0)]
    bsc = weibull_draws(rng, n, 0.0, -1.1)
    death = [rng.beta(20, 80, size=n) for _ in range(3)]
    onward = [rng.beta(60, 40, size=n), rng.beta(40, 60, size=n)]
    sequences = [(0, 0, 0), (1, 1, 0), (2, 0, 1), (3, 2, 1), (4, 1, 1)]
    costs = np.array([90_000.0, 60_000.0, 40_000.0, 15_000.0, 0.0])
    utilities = np.array([0.76, 0.70, 0.65, 0.55, 0.0])
    return grid, times, (first, second, third, bsc), death, onward, sequences, costs, utilities


def sequencing_curves(times, draws):
    first, second, third, bsc = draws
    return ([weibull_curves(*d, times) for d in first], [weibull_curves(*d, times) for d in second],
            [weibull_curves(*d, times) for d in third], weibull_curves(*bsc, times))


def run_sequences(grid, curves, death, onward, sequences, costs, utilities, method):
    """The strategies of each block of samples share one Convolutions, so that each
    (read-only) curve is transformed (and the post-progression curve correlated with the
    weights) once for all of them, and each block's arrays take the memory the block
    before freed (reused_array_memory, as the package's PSA loops do). Values constant
    over time need only each state's discounted years: sequencing_sums writes them
    without a trace, how a PSA of several strategies uses the engine."""
    with reused_array_memory():
        return _run_blocks(grid, curves, death, onward, sequences, costs, utilities, method)


def _run_blocks(grid, curves, death, onward, sequences, costs, utilities, method):
    n, n_times = curves[-1].shape
    weights = state_weights(grid, DISCOUNT, "trapezoid")
    blocks = []
    for begin in range(0, n, markov.engine.SEQUENCING_CHUNK_SAMPLES):
        block = slice(begin, min(begin + markov.engine.SEQUENCING_CHUNK_SAMPLES, n))
        first, second, third = ([curve[block] for curve in group] for group in curves[:3])
        bsc, convolutions = curves[3][block], markov.engine.Convolutions(n_times, method)
        out = []
        for i, j, k in sequences:
            lines = [
                markov.TreatmentLine("first", first[i], death[0][block], onward[0][block]),
                markov.TreatmentLine("second", second[j], death[1][block], onward[1][block]),
                markov.TreatmentLine("third", third[k], death[2][block]),
            ]
            sums = markov.engine.StateSums.empty(*weights, block.stop - block.start, len(lines) + 2)
            years = markov.engine.sequencing_sums(lines, bsc, sums, method=convolutions).occupancy[:, :, 0]
            out.append([years @ v for v in (costs, utilities)])
        blocks.append(np.array(out))
    return np.concatenate(blocks, axis=-1)


def sequences_numpy(grid, curves, death, onward, sequences, costs, utilities):
    """The same model in plain numpy: numpy.fft convolutions, whole sample block at once."""
    first, second, third, bsc = curves
    n, n_times = bsc.shape
    size = 2 * n_times
    factors = (1 + DISCOUNT) ** -grid.times_years

    def occupancy_of(entries, survival):
        spectrum = np.fft.rfft(entries, size) * np.fft.rfft(survival, size)
        return np.fft.irfft(spectrum, size)[:, :n_times]

    out = []
    for i, j, k in sequences:
        occupancy = np.zeros((n, n_times, 5))
        entries = np.zeros((n, n_times))
        entries[:, 0] = 1
        to_bsc = np.zeros((n, n_times))
        dead = np.zeros((n, n_times))
        for line, (survival, share_next) in enumerate(
            [(first[i], onward[0]), (second[j], onward[1]), (third[k], np.zeros(n))]
        ):
            occ = survival if line == 0 else occupancy_of(entries, survival)
            leaving = occ[:, :-1] + entries[:, 1:] - occ[:, 1:]
            dying = leaving * death[line][:, None]
            progressing = leaving - dying
            dead[:, 1:] += dying
            entries = np.zeros((n, n_times))
            entries[:, 1:] = progressing * share_next[:, None]
            to_bsc[:, 1:] += progressing * (1 - share_next[:, None])
            occupancy[:, :, line] = occ
        occupancy[:, :, 3] = occupancy_of(to_bsc, bsc)
        weighted = occupancy * factors[None, :, None]
        trapezoid = 0.5 * grid.cycle_length_years * (weighted[:, :-1] + weighted[:, 1:]).sum(axis=1)
        out.append([trapezoid @ costs, trapezoid @ utilities])
    return np.array(out)


def read_only_curves(times, draws):
    """:func:`sequencing_curves`, read-only, so that the engine may keep their spectra."""
    curves = sequencing_curves(times, draws)
    for curve in (*curves[0], *curves[1], *curves[2], curves[3]):
        curve.flags.writeable = False
    return curves


def _half_of_the_draws(connection, n: int, half: int) -> None:
    """One of the two processes of (c) on both cores: makes the curves of its half of the
    draws (not timed), then runs that half, FFTs in one thread, whenever told to."""
    markov.engine.use_one_fft_thread()
    grid, times, draws, death, onward, sequences, costs, utilities = sequencing_inputs(n)
    rows = slice(0, n // 2) if half == 0 else slice(n // 2, n)
    first, second, third, bsc = draws
    mine = ([(k[rows], s[rows]) for k, s in first], [(k[rows], s[rows]) for k, s in second],
            [(k[rows], s[rows]) for k, s in third], (bsc[0][rows], bsc[1][rows]))
    arguments = (grid, read_only_curves(times, mine), [d[rows] for d in death], [o[rows] for o in onward],
                 sequences, costs, utilities)
    connection.send("ready")
    while connection.recv():
        connection.send(run_sequences(*arguments, method="auto"))


def bench_sequencing_on_both_cores(n: int, repeats: int, one_process: float, expected: np.ndarray) -> None:
    """(c) as a parallel PSA runs it: each of two processes runs half the draws (spawned,
    FFTs in one thread each), timed from the go to the last result; the results must be
    the one process's bit for bit (a sample's result does not depend on the samples
    beside it)."""
    context = multiprocessing.get_context("spawn")
    pipes, processes = [], []
    for half in (0, 1):
        ours, theirs = context.Pipe()
        process = context.Process(target=_half_of_the_draws, args=(theirs, n, half), daemon=True)
        process.start()
        pipes.append(ours)
        processes.append(process)
    for pipe in pipes:
        pipe.recv()  # ready

    def run():
        for pipe in pipes:
            pipe.send(True)
        return np.concatenate([pipe.recv() for pipe in pipes], axis=-1)

    seconds, result = median_seconds(run, repeats)
    for pipe, process in zip(pipes, processes, strict=True):
        pipe.send(False)
        process.join()
    same = np.array_equal(result, expected)
    print(f"    on 2 processes, half the draws each: {seconds:.3f} s, x{one_process / seconds:.2f} one process's; "
          f"target < 2 s: {'met' if seconds < 2.0 else 'MISSED'}; the same bits as one process: {same}")


def bench_sequencing(n: int, repeats: int) -> None:
    grid, times, draws, death, onward, sequences, costs, utilities = sequencing_inputs(n)
    curves = read_only_curves(times, draws)
    arguments = (grid, curves, death, onward, sequences, costs, utilities)

    t_curves, _ = median_seconds(lambda: sequencing_curves(times, draws), repeats)
    run_sequences(*arguments, method="auto")
    first_peak = peak_memory_mb()
    t_ours, result = median_seconds(lambda: run_sequences(*arguments, method="auto"), repeats)
    grown = peak_memory_mb() - first_peak
    t_base, expected = median_seconds(lambda: sequences_numpy(*arguments), repeats)
    np.testing.assert_allclose(result, expected, rtol=1e-9)
    report(f"(c) 5x3-line sequencing, weekly 20 y, {n:,} draws", t_ours, t_base, 2.0)
    # a run keeps nothing: the peak after one run is the peak after many (it grew by about
    # 1 GB per run while a Convolutions per block kept every block's spectra)
    print(f"    peak memory {first_peak:,.0f} MB after one run; {grown:+,.0f} MB after {repeats + 1} more")
    print(f"    + evaluating the 11 Weibull curves on the grid (numpy, issue 3 territory): {t_curves:.3f} s")
    del arguments, curves  # the other processes' curves in their place
    if n >= 2:  # a draw for each process
        bench_sequencing_on_both_cores(n, repeats, t_ours, result)
    small = max(n // 20, 1)
    grid, times, draws, death, onward, sequences, costs, utilities = sequencing_inputs(small)
    arguments = (grid, read_only_curves(times, draws), death, onward, sequences, costs, utilities)
    t_direct, _ = median_seconds(lambda: run_sequences(*arguments, method="direct"), max(repeats // 2, 3))
    print(f"    exact direct summation instead of FFT: {t_direct * n / small:.2f} s per {n:,} draws "
          f"(measured on {small:,})")


def bench_scaling(n: int, repeats: int) -> None:
    """Time per 1,000 draws of (b) at n/4, n/2, n and 2n: flat if cost is linear."""
    per_thousand = []
    for size in (n // 4, n // 2, n, 2 * n):
        grid, strategies, costs, utilities = psm_inputs(size)
        times = grid.times_years

        def run():
            for pfs, os_ in strategies:
                trace = markov.run_partitioned_survival([weibull_curves(*pfs, times), weibull_curves(*os_, times)])
                markov.accumulate(trace, grid, per_year=costs, discount_rate=DISCOUNT)

        seconds, _ = median_seconds(run, repeats)
        per_thousand.append(f"{size:,}: {1000 * seconds / size * 1000:.2f} ms")
    print("    linearity of (b), time per 1,000 draws -> " + ", ".join(per_thousand))


def bench_crossover(repeats: int) -> None:
    """Direct summation against FFT in the sequencing engine, by grid length (sets
    markov.engine.FFT_MIN_TIME_POINTS)."""
    rng = np.random.default_rng(0)
    n = 2000
    row = []
    for n_times in (80, 160, 240, 320, 480):
        u = np.arange(n_times) / 52

        def curve():
            return np.exp(-((u[None] / rng.uniform(0.3, 1.0, (n, 1))) ** 1.2))

        lines = [markov.TreatmentLine("first", curve(), 0.2, 0.6), markov.TreatmentLine("second", curve(), 0.2, 0.5),
                 markov.TreatmentLine("third", curve(), 0.3)]
        post = curve()
        direct, _ = median_seconds(lambda: markov.run_sequencing(lines, post, method="direct"), repeats)
        fft, _ = median_seconds(lambda: markov.run_sequencing(lines, post, method="fft"), repeats)
        row.append(f"{n_times}: x{direct / fft:.2f}")
    print(f"    sequencing, direct time / FFT time by number of time points ({n:,} draws) -> " + ", ".join(row))


def bench_line_pass(repeats: int) -> None:
    """A later line on treatment and off (500 samples, weekly 20-year grid, exponential
    curves): its two convolutions by recursion and then its book-keeping, each a pass over
    the samples (the steps add_line falls back to), against add_line's one pass per sample
    with its rows in cache. Interleaved call by call, so that both see the same machine load."""
    from markov import _engine

    rng = np.random.default_rng(5)
    grid = markov.TimeGrid.from_horizon(20, markov.WEEK_YEARS)
    m, times = 500, grid.times_years
    rates = rng.uniform(1.0, 3.0, (m, 1))
    survival, on = np.exp(-rates * times), np.exp(-1.5 * rates * times)
    for curve in (survival, on):
        curve.flags.writeable = False  # as a model's shared curves: their series found once
    entries = np.zeros((m, times.size))
    entries[:, 1:] = rng.uniform(0.005, 0.02, (m, 1)) * np.exp(-rng.uniform(0.01, 0.05, (m, 1)) * times[:-1] * 52)
    death_share = rng.uniform(0.1, 0.3, (m, 1))
    weights = state_weights(grid, DISCOUNT, "trapezoid")
    convolutions = markov.engine.Convolutions(times.size)
    made = {}

    def run(fused: bool):
        occupancy, entered = (np.empty((m, 4, times.size)).transpose(0, 2, 1) for _ in range(2))
        sums = markov.engine.StateSums.empty(*weights, m, 4)
        deaths, onward = np.zeros((m, times.size)), np.empty((m, times.size))
        if fused:
            markov.engine.add_line(occupancy, entered, 1, entries, survival, death_share, deaths, None, onward,
                                   convolutions, on, sums)
        else:
            convolutions.occupancy(entries, survival, out=occupancy[:, :, 1])
            convolutions.occupancy(entries, on, out=occupancy[:, :, 2])
            _engine.sequencing_step(occupancy[:, :, 1], entries, death_share, np.ones((1, 1)), deaths, None, onward,
                                    occupancy[:, :, 1], entered[:, :, 1], occupancy[:, :, 2], entered[:, :, 2],
                                    *weights, sums.sums[:, 1, :], sums.sums[:, 2, :])
        made[fused] = (occupancy[:, :, 1:3], deaths, onward, sums.sums[:, 1:3])

    seconds = {False: [], True: []}
    for _ in range(max(repeats, 1) * 10):
        for fused in (False, True):
            started = time.perf_counter()
            run(fused)
            seconds[fused].append(time.perf_counter() - started)
    for got, expected in zip(made[True], made[False], strict=True):
        np.testing.assert_array_equal(got, expected)
    steps, one_pass = (statistics.median(seconds[fused]) for fused in (False, True))
    print(f"    a later line on and off treatment, {m} samples: convolutions then step {steps * 1e3:.2f} ms, "
          f"in one pass {one_pass * 1e3:.2f} ms (x{steps / one_pass:.2f}, the same bits)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    # Independent PFS and OS draws cross in a few samples; the trace counts them, the
    # benchmark need not print the warning on every repeat.
    warnings.simplefilter("ignore", markov.CurveCrossingWarning)
    print(f"median of {args.repeats} runs each; numpy = the same model in plain numpy, same run\n")
    bench_chancellor(args.draws, args.repeats)
    bench_psm(args.draws, args.repeats)
    bench_scaling(args.draws, args.repeats)
    bench_sequencing(args.draws, args.repeats)
    bench_line_pass(args.repeats)
    bench_crossover(args.repeats)


if __name__ == "__main__":
    main()
