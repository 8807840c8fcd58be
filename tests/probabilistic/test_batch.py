"""Batch PSA (markov/batch.py, markov/store.py): the same bits whatever the backend,
workers or chunks; resuming after an interruption (including kill -9); refusing a
store or results directory of another model; the command line's errors and help."""
import fcntl
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from psa_checks import SMALL, assert_same_psa, tree_digest

from markov._validate import InputError
from markov.cli import main
from markov.inputs import load_analysis
from markov.probabilistic.batch import run_batch
from markov.probabilistic.psa import read_psa, run_psa


@pytest.fixture(scope="module")
def analysis(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("analysis") / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    return path


@pytest.fixture(scope="module")
def inputs(analysis):
    return load_analysis(analysis)


@pytest.fixture(scope="module")
def reference(inputs):
    """The API's in-memory PSA: what every batch run must reproduce bit for bit."""
    return run_psa(inputs, 60, seed=3, chunk_size=60)


@pytest.mark.slow
def test_in_process_and_two_workers_match_the_api(inputs, reference, tmp_path):
    run_batch(inputs, 60, 3, tmp_path / "one", chunk_size=7)
    run_batch(inputs, 60, 3, tmp_path / "two", chunk_size=11, workers=2)
    for name in ("one", "two"):
        assert_same_psa(read_psa(tmp_path / name, inputs), reference)
    # a large PSA is read with the inputs of its first samples only (for the EVPPI)
    part = read_psa(tmp_path / "one", inputs, measures=("cost", "qalys"), parameter_samples=13)
    pd.testing.assert_frame_equal(part.parameters, reference.parameters.iloc[:13], check_exact=True)
    assert part.n_samples == 60 and part.measures == ["cost", "qalys"]
    manifest = json.loads((tmp_path / "one" / "manifest.json").read_text())
    assert manifest["n_samples"] == 60 and manifest["seed"] == 3 and manifest["chunk_size"] == 7
    assert len(list((tmp_path / "one" / "chunks").glob("chunk-*.parquet"))) == 9


@pytest.mark.slow
def test_dask_local_cluster_matches_in_process(inputs, reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) \
            as cluster, distributed.Client(cluster) as client:
        run_batch(inputs, 60, 3, tmp_path / "dask", chunk_size=9, scheduler=client)
        # and through the address, as `markov psa --scheduler tcp://...` connects
        run_batch(inputs, 60, 3, tmp_path / "address", chunk_size=13, scheduler=cluster.scheduler_address)
    for name in ("dask", "address"):
        assert_same_psa(read_psa(tmp_path / name, inputs), reference)


def test_an_interrupted_run_resumes_to_the_same_results(inputs, reference, tmp_path):
    store = tmp_path / "store"

    def stop_after_four(index):
        if len(list((store / "chunks").glob("chunk-*.parquet"))) == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(inputs, 60, 3, store, chunk_size=6, on_chunk=stop_after_four)
    finished = {p.name: p.stat().st_mtime_ns for p in (store / "chunks").glob("chunk-*.parquet")}
    assert len(finished) == 4
    computed = []
    run_batch(inputs, 60, 3, store, chunk_size=6, on_chunk=computed.append)
    assert len(computed) == 6  # only the missing chunks; the finished ones are untouched
    assert all((store / "chunks" / name).stat().st_mtime_ns == stamp for name, stamp in finished.items())
    assert_same_psa(read_psa(store, inputs), reference)


def test_a_store_is_extended_to_more_draws(inputs, reference, tmp_path):
    run_batch(inputs, 25, 3, tmp_path / "s", chunk_size=10)  # its last chunk holds 5 draws
    run_batch(inputs, 60, 3, tmp_path / "s", chunk_size=10)
    assert_same_psa(read_psa(tmp_path / "s", inputs), reference)


def test_a_store_refuses_another_model_seed_or_fewer_draws(inputs, analysis, tmp_path):
    store = tmp_path / "s"
    run_batch(inputs, 12, 3, store, chunk_size=6)
    before = tree_digest(store)
    longer = tmp_path / "longer.yaml"
    longer.write_text(yaml.safe_dump({**SMALL, "horizon_years": 12}))
    for model, n, seed, message in ((load_analysis(longer), 12, 3, "holds the PSA of a different model"),
                                    (inputs, 12, 4, "holds a PSA with seed 3, not 4"),
                                    (inputs, 6, 3, "holds 12 draws; asked for 6")):
        with pytest.raises(InputError, match=message):
            run_batch(model, n, seed, store, chunk_size=6)
    assert tree_digest(store) == before
    with pytest.raises(InputError, match="holds the PSA of another model"):
        read_psa(store, load_analysis(longer))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="is not a PSA results store"):
        run_batch(inputs, 12, 3, tmp_path / "other")


def _psa_command(analysis: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "markov.cli", "psa", str(analysis), "-n", "4000", "--seed", "3", "--chunk-size",
            "40", "--no-evppi", "--out", str(out), *extra]


@pytest.mark.slow
def test_kill_9_mid_run_then_rerun_matches_an_uninterrupted_run(analysis, inputs, tmp_path):
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    # from tmp_path: run from a source checkout, `-m markov.cli` would import its uncompiled tree
    process = subprocess.Popen(_psa_command(analysis, killed), env=environment, cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    chunks = killed / "psa_store" / "chunks"
    deadline = time.monotonic() + 120
    while len(list(chunks.glob("chunk-*.parquet"))) < 5 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, f"the run ended before it could be killed: {process.stderr.read()}"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    finished = len(list(chunks.glob("chunk-*.parquet")))
    assert process.returncode == -signal.SIGKILL and 5 <= finished < 100, finished
    assert not (killed / "psa_summary.csv").exists()
    # the same command again finishes the run; an uninterrupted run gives the same bits
    for out in (killed, whole):
        subprocess.run(_psa_command(analysis, out), env=environment, cwd=tmp_path, check=True, capture_output=True)
    assert not list(chunks.glob(".*.tmp"))
    assert_same_psa(read_psa(killed, inputs), read_psa(whole, inputs))
    for name in ("psa_summary.csv", "ceac_imbrave150.csv", "icer_summary_mvi.csv", "evpi_mvi.csv"):
        assert (killed / name).read_bytes() == (whole / name).read_bytes(), name


# ---------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_cli_two_workers_match_in_process(analysis, inputs, tmp_path):
    for name, extra in (("one", []), ("two", ["--workers", "2"])):
        assert main(["psa", str(analysis), "-n", "40", "--seed", "3", "--chunk-size", "8", "--no-evppi",
                     "--out", str(tmp_path / name), *extra]) == 0
    assert_same_psa(read_psa(tmp_path / "one", inputs), read_psa(tmp_path / "two", inputs))
    assert (tmp_path / "one" / "psa_summary.csv").read_bytes() == (tmp_path / "two" / "psa_summary.csv").read_bytes()


def one_line_error(capsys, contains: str) -> None:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("markov") and ": error: " in err and contains in err, err


def test_cli_bad_invocations_are_one_line_and_change_nothing(analysis, tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["psa", str(analysis), "-n", "12", "--seed", "3", "--no-evppi", "--out", str(out)]) == 0
    capsys.readouterr()
    before = tree_digest(out)
    longer = tmp_path / "longer.yaml"
    longer.write_text(yaml.safe_dump({**SMALL, "horizon_years": 12}))
    cases = [
        (["psa", str(tmp_path / "missing.yaml"), "--out", str(out)], "missing.yaml"),
        (["psa", str(analysis), "-n", "-5", "--out", str(out)], "--samples is -5"),
        (["run", str(analysis), "--psa", "-1", "--out", str(out)], "--psa is -1"),
        (["psa", str(analysis), "--workers", "0", "--out", str(out)], "--workers is 0"),
        (["psa", str(analysis), "--workers", "2", "--scheduler", "tcp://127.0.0.1:1", "--out", str(out)],
         "give one"),
        (["psa", str(longer), "-n", "12", "--seed", "3", "--out", str(out)], "another model or inputs"),
        (["run", str(longer), "--out", str(out)], "another model or inputs"),
        (["dsa", str(longer), "--out", str(out)], "another model or inputs"),
        (["psa", str(analysis), "-n", "12", "--seed", "4", "--out", str(out)], "seed 3, not 4"),
        (["psa", str(analysis), "-n", "12", "--seed", "3", "--out", str(analysis)], "does not hold markov results"),
    ]
    for argv, contains in cases:
        assert main(argv) == 2, argv
        one_line_error(capsys, contains)
    assert tree_digest(out) == before
    with pytest.raises(SystemExit) as exit_status:
        main(["simulate"])
    assert exit_status.value.code == 2
    one_line_error(capsys, "invalid choice: 'simulate'")
    with pytest.raises(SystemExit) as exit_status:
        main(["psa", "-n", "ten"])
    assert exit_status.value.code == 2
    one_line_error(capsys, "invalid int value: 'ten'")


def test_cli_help_explains_every_subcommand(capsys):
    for command, options in (("run", ["--psa", "--workers", "--scheduler"]), ("psa", ["--chunk-size", "resumes"]),
                             ("dsa", ["--wtp"]), ("gsa", ["--method", "--from-psa"]), ("report", ["--no-dsa"]),
                             ("validate-inputs", ["--draws"])):
        with pytest.raises(SystemExit) as exit_status:
            main([command, "--help"])
        assert exit_status.value.code == 0
        text = " ".join(capsys.readouterr().out.split())
        assert all(option in text for option in options), (command, options)


def test_cli_validate_inputs(analysis, tmp_path, capsys):
    assert main(["validate-inputs", str(analysis), "--draws", "5"]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "5 probabilistic draws ran without error" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**SMALL, "horizon_years": -3}))
    assert main(["validate-inputs", str(bad)]) == 2
    assert "horizon_years" in capsys.readouterr().err
    assert not list(tmp_path.glob("*/"))  # wrote nothing


def test_progress_bar_in_a_log_prints_a_line_per_tenth(capsys):
    from markov.cli import _ProgressBar

    bar = _ProgressBar("PSA")
    for done in range(0, 1001, 50):
        bar(done, 1000)
    lines = capsys.readouterr().err.strip().splitlines()
    assert 10 <= len(lines) <= 12 and lines[-1].startswith("PSA [") and "1,000/1,000 draws" in lines[-1]


@pytest.mark.slow
def test_cli_report_runs_base_case_psa_and_dsa_then_writes_both_reports(analysis, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["report", str(analysis), "--psa", "50", "--seed", "3", "--out", str(out)]) == 0
    assert "Wrote" in capsys.readouterr().out
    for name in ("report.xlsx", "report.html", "psa_summary.csv", "results_mvi.csv", "dsa/one_way.csv",
                 "psa_store/manifest.json"):
        assert (out / name).is_file(), name
    page = (out / "report.html").read_text()
    assert "Probabilistic sensitivity analysis" in page and "data:image/svg+xml;charset=utf-8," in page
    for analysis_name in ("probabilistic", "deterministic"):
        assert f"The {analysis_name} sensitivity analysis was not run" not in page


def test_a_second_run_on_a_store_in_use_is_refused(inputs, tmp_path):
    store = tmp_path / "s"
    run_batch(inputs, 12, 3, store, chunk_size=6)
    with open(store / ".lock", "a+") as held:  # another run holds the kernel's lock
        fcntl.flock(held, fcntl.LOCK_EX)
        held.truncate(0)
        held.write("otherhost 4242")
        held.flush()
        before = tree_digest(store)
        with pytest.raises(InputError, match=r"another run is writing to this store \(otherhost 4242\)"):
            run_batch(inputs, 24, 3, store, chunk_size=6)
        assert tree_digest(store) == before  # not even the manifest was extended
    # the holder is gone (its lock went with it, even after kill -9): the run goes ahead
    run_batch(inputs, 24, 3, store, chunk_size=6)
    assert json.loads((store / "manifest.json").read_text())["n_samples"] == 24


def test_an_interrupted_extension_leaves_the_finished_psa_readable(inputs, reference, tmp_path):
    store = tmp_path / "s"
    run_batch(inputs, 25, 3, store, chunk_size=10)  # chunk 2 holds draws 20-25

    def stop_after_one(index):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(inputs, 60, 3, store, chunk_size=10, on_chunk=stop_after_one)
    held = read_psa(store, inputs)  # still the 25 draws it held, though a chunk now holds more
    assert held.n_samples == 25
    pd.testing.assert_frame_equal(held.outcomes, reference.outcomes.iloc[:25], check_exact=True)
    run_batch(inputs, 25, 3, store, chunk_size=10)  # the original command still runs
    run_batch(inputs, 60, 3, store, chunk_size=10)
    assert_same_psa(read_psa(store, inputs), reference)


def test_a_store_of_another_package_version_is_read_but_not_resumed(inputs, reference, tmp_path, monkeypatch):
    store = tmp_path / "s"
    run_batch(inputs, 60, 3, store, chunk_size=30)
    monkeypatch.setattr("markov.probabilistic.store.code_fingerprint", lambda: "another version")
    assert_same_psa(read_psa(store, inputs), reference)
    before = tree_digest(store)
    with pytest.raises(InputError, match="computed by another version of markov"):
        run_batch(inputs, 90, 3, store, chunk_size=30)
    assert tree_digest(store) == before


def test_a_bulk_process_keeps_freed_memory_where_the_c_library_allows(monkeypatch):
    from markov._memory import keeps_freed_memory, reuse_freed_memory

    monkeypatch.setattr("markov._memory._kept", False)  # this session's, after the test
    assert reuse_freed_memory() is keeps_freed_memory() is (platform.libc_ver()[0] == "glibc")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc_info counts the heaps")
@pytest.mark.parametrize("settings", ["reuse", "none"])
def test_a_thread_started_in_a_bulk_process_allocates_from_the_heap_that_keeps_freed_memory(settings, tmp_path):
    # a Dask worker computes in a thread: with an arena of its own, its heaps went back to
    # the system chunk after chunk. In a new process, so that no thread has an arena yet.
    code = f"""
import ctypes, threading
import numpy as np
from markov._memory import reuse_freed_memory
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
libc.malloc_info.argtypes = (ctypes.c_int, ctypes.c_void_p)
libc.fclose.argtypes = (ctypes.c_void_p,)
def heaps(name):  # malloc_info's report, one <heap> per arena
    report = libc.fopen(f"{tmp_path}/{{name}}.xml".encode(), b"w")
    libc.malloc_info(0, report)
    libc.fclose(report)
if {settings!r} == "reuse":
    reuse_freed_memory()
def work():
    global kept
    kept = np.ones(500_000)  # 4 MB, as a chunk's arrays
heaps("before")
thread = threading.Thread(target=work)
thread.start()
thread.join()
heaps("after")
"""
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)  # the installed package
    before, after = ((tmp_path / f"{name}.xml").read_text().count("<heap nr=") for name in ("before", "after"))
    assert after == (before if settings == "reuse" else before + 1)
