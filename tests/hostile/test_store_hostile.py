"""A PSA store and results directory under attack (issue 17, cases 4 to 8): flipped bits in
stored chunks, counts after an interrupted extension, a full disk at every kind of write, a
temporary file left by `kill -9`, hand-edited manifests and run records, `-n` beyond
memory, values that fail late, and the Dask scheduler dying mid-run. Each ends in the
correct result or one line and a non-zero exit, with nothing mixed, truncated or lost."""
import errno
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from psa_checks import SMALL, assert_same_psa, tree_digest

import markov
from markov._validate import InputError
from markov.cli import main
from markov.inputs import load_analysis
from markov.models import build_model
from markov.probabilistic.batch import run_batch
from markov.probabilistic.psa import read_psa, run_psa
from markov.probabilistic.store import ChunkSetAside, ResultsStore

#: Best supportive care calibrated to each strategy's OS median (the shipped `os_calibration`
#: scenario, in one population): sorafenib's median cannot be reached in a few draws.
CALIBRATED = {**SMALL, "name": "calibrated", "overrides": {"populations": {"imbrave150": {"strategies": {
    key: {"post_progression": {"calibrated_to": key}} for key in ("atezo_bev", "sorafenib", "lenvatinib")}}}}}


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
    """24 draws in one piece, in memory: what every store must give back, bit for bit."""
    return run_psa(inputs, 24, seed=3, chunk_size=24)


@pytest.fixture(scope="module")
def pristine(inputs, tmp_path_factory) -> Path:
    """A finished store of those draws in chunks of 6."""
    store = tmp_path_factory.mktemp("pristine") / "store"
    run_batch(inputs, 24, 3, store, chunk_size=6)
    return store


#: What a command says of its progress on stderr: a bar ("PSA [###...") or a step starting.
PROGRESS = re.compile(r"^[^\n]*\[[#.]+\]|^Writing ")


def one_line_error(capsys, *contains: str) -> str:
    """The error line, the only line on stderr but those of progress."""
    err = "".join(line for line in capsys.readouterr().err.splitlines(keepends=True) if not PROGRESS.match(line))
    assert err.count("\n") == 1 and err.startswith("markov: error: "), err
    assert all(text in err for text in contains), err
    return err


def psa_argv(analysis: Path, out: Path, n: int = 24, *extra: str) -> list[str]:
    return ["psa", str(analysis), "-n", str(n), "--seed", "3", "--chunk-size", "6", "--no-evppi", "--out", str(out),
            *extra]


# ---------------------------------------------------------------------------------
# case 4: checksums
# ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_any_flipped_bit_of_a_chunk_is_detected_and_the_resumed_psa_is_bit_identical(inputs, reference, pristine,
                                                                                     tmp_path):
    chunk = Path("chunks") / "chunk-000001.parquet"
    size = (pristine / chunk).stat().st_size
    positions = np.random.default_rng(17).choice(8 * size, size=30, replace=False)
    for position in positions:
        store = tmp_path / f"bit{position}"
        shutil.copytree(pristine, store)
        data = bytearray((store / chunk).read_bytes())
        data[position // 8] ^= 1 << (position % 8)
        (store / chunk).write_bytes(bytes(data))
        with pytest.raises(InputError, match=r"chunk-000001\.parquet: does not match the checksum"):
            read_psa(store, inputs)  # detected on read
        computed = []
        with pytest.warns(ChunkSetAside, match=r"chunk-000001\.parquet: does not match the checksum.*set aside"):
            run_batch(inputs, 24, 3, store, chunk_size=6, on_chunk=computed.append)  # and on resume
        assert computed == [1], position  # only the bad chunk is computed again
        assert (store / "set_aside" / chunk.name).read_bytes() == bytes(data)  # kept, never read
        assert_same_psa(read_psa(store, inputs), reference)


def test_a_chunk_not_recorded_or_gone_is_computed_again(inputs, reference, pristine, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(pristine, store)
    manifest = json.loads((store / "manifest.json").read_text())
    del manifest["chunks"]["chunk-000002.parquet"]  # as if killed between writing a chunk and recording it
    (store / "manifest.json").write_text(json.dumps(manifest))
    (store / "chunks" / "chunk-000003.parquet").unlink()
    with pytest.raises(InputError, match="2 of 4 chunks not finished"):
        read_psa(store, inputs)
    computed = []
    with pytest.warns(ChunkSetAside, match=r"chunk-000002\.parquet: is not recorded in the manifest"):
        run_batch(inputs, 24, 3, store, chunk_size=6, on_chunk=computed.append)
    assert sorted(computed) == [2, 3]
    assert_same_psa(read_psa(store, inputs), reference)


def test_chunks_are_recorded_in_a_journal_not_by_rewriting_the_manifest(inputs, reference, tmp_path):
    # Rewriting a manifest of every chunk so far after each chunk made a run's book-keeping
    # grow with the square of its chunks (a million chunks: terabytes of JSON); each chunk
    # is now one line of a journal, taken into the manifest when the run finishes.
    store = tmp_path / "store"
    manifests, lines = [], []

    def note(index):
        manifests.append((store / "manifest.json").read_text())
        lines.append((store / "journal.jsonl").read_text().count("\n"))

    run_batch(inputs, 24, 3, store, chunk_size=6, on_chunk=note)
    assert lines == [1, 2, 3, 4] and len(set(manifests)) == 1  # the manifest as it was created: no chunk in it
    assert json.loads(manifests[0])["chunks"] == {}
    assert not (store / "journal.jsonl").exists()  # taken into the manifest at the end
    chunks = json.loads((store / "manifest.json").read_text())["chunks"]
    assert sorted(chunks) == [f"chunk-00000{i}.parquet" for i in range(4)]
    assert_same_psa(read_psa(store, inputs), reference)


def test_a_run_stopped_with_chunks_in_the_journal_is_read_and_resumed(inputs, reference, tmp_path):
    store = tmp_path / "store"

    def stop_after_three(index):
        if index == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(inputs, 24, 3, store, chunk_size=6, on_chunk=stop_after_three)
    journal = store / "journal.jsonl"
    assert journal.read_text().count("\n") == 3
    assert json.loads((store / "manifest.json").read_text())["chunks"] == {}
    assert ResultsStore.open(store).finished() == {0, 1, 2}  # what the journal records counts
    with pytest.raises(InputError, match="1 of 4 chunks not finished"):
        read_psa(store, inputs)
    # a crash cut the journal's last line short: that chunk was not recorded, so it is computed again
    text = journal.read_text()
    journal.write_text(text[:-20])
    assert ResultsStore.open(store).finished() == {0, 1}
    computed = []
    with pytest.warns(ChunkSetAside, match=r"chunk-000002\.parquet: is not recorded"):
        run_batch(inputs, 24, 3, store, chunk_size=6, on_chunk=computed.append)
    assert sorted(computed) == [2, 3] and not journal.exists()
    assert_same_psa(read_psa(store, inputs), reference)


@pytest.mark.parametrize("line", ['{"name": "chunk-000001.parquet", "sha256": "00", "start": 6, "stop": 12}',
                                  '{"name": "../manifest.json", "sha256": "' + "0" * 64 + '", "start": 6, "stop": 12}',
                                  "not json", "[1, 2]"])
def test_an_edited_journal_line_is_refused_naming_the_line(inputs, pristine, tmp_path, line):
    store = tmp_path / "store"
    shutil.copytree(pristine, store)
    record = json.dumps({"name": "chunk-000000.parquet",
                         **json.loads((store / "manifest.json").read_text())["chunks"]["chunk-000000.parquet"]})
    (store / "journal.jsonl").write_text(f"{record}\n{line}\n")
    before = tree_digest(store)
    for attempt in (lambda: read_psa(store, inputs), lambda: run_batch(inputs, 24, 3, store, chunk_size=6)):
        with pytest.raises(InputError, match=r"journal\.jsonl: line 2 is .* not a chunk's name, sha256, start and "
                                             r"stop \(was it edited\?\)"):
            attempt()
    assert tree_digest(store) == before


def test_the_command_line_resumes_past_a_corrupt_chunk_to_the_right_numbers(analysis, tmp_path, capsys):
    out = tmp_path / "results"
    assert main(psa_argv(analysis, out)) == 0
    whole = (out / "psa_summary.csv").read_bytes()
    chunk = out / "psa_store" / "chunks" / "chunk-000002.parquet"
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = bytes(64)  # 64 bytes zeroed: the second corruption
    chunk.write_bytes(bytes(data))
    capsys.readouterr()
    assert main(psa_argv(analysis, out)) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and warnings[0].startswith("markov: warning: ") and str(chunk) in warnings[0]
    assert (out / "psa_summary.csv").read_bytes() == whole
    assert (out / "psa_store" / "set_aside" / chunk.name).read_bytes() == bytes(data)


# ---------------------------------------------------------------------------------
# case 5: counts over exactly the draws used
# ---------------------------------------------------------------------------------

def test_unreachable_calibrations_are_counted_over_the_draws_used_after_an_interrupted_extension(
        tmp_path, capsys, monkeypatch):
    path = tmp_path / "calibrated.yaml"
    path.write_text(yaml.safe_dump(CALIBRATED))
    calibrated = load_analysis(path)
    seed = 10  # a seed with unreachable calibrations both in draws 0-119 and in 120-149 (checked below)
    # independently: the model's per-sample flags of draws 0-199, counted over the first 120
    results = build_model(calibrated).evaluate(calibrated.sample(200, seed=seed), keep_traces=False)
    flags = {(r.population, r.strategy): r.calibration_unreachable for r in results}
    sorafenib = flags[("imbrave150", "sorafenib")]
    assert sorafenib[:120].any() and sorafenib[120:150].any()  # and in draws of chunk 100-150 a run of 120 does not use
    expected = {key: int(np.count_nonzero(values[:120])) if values is not None else 0
                for key, values in flags.items()}

    out = tmp_path / "results"
    argv = ["psa", str(path), "--seed", str(seed), "--chunk-size", "50", "--no-evppi", "--out", str(out)]
    assert main([*argv, "-n", "120"]) == 0  # chunks 0-50, 50-100 and 100-120

    def interrupt_after_chunk_2(store, index, chunk, write=ResultsStore.write_chunk):
        written = write(store, index, chunk)
        if index == 2:  # now 100-150: 50 draws, of which a run of 120 uses 20
            raise KeyboardInterrupt
        return written

    monkeypatch.setattr(ResultsStore, "write_chunk", interrupt_after_chunk_2)
    assert main([*argv, "-n", "200"]) == 130
    monkeypatch.undo()
    assert main([*argv, "-n", "120"]) == 0
    capsys.readouterr()
    summary = pd.read_csv(out / "psa_summary.csv")
    counted = {(row.population, row.strategy): row.os_calibration_unreachable_samples for row in summary.itertuples()}
    assert counted == expected
    assert read_psa(out, calibrated).calibration_unreachable.set_index(["population", "strategy"])["samples"].to_dict() \
        == expected


# ---------------------------------------------------------------------------------
# case 6: a full disk, and what a killed writer leaves
# ---------------------------------------------------------------------------------

def fill_the_disk_at(monkeypatch, name: str) -> None:
    """The first write of a file called ``name`` fails halfway with ENOSPC, as on a full disk."""
    import markov._files as files

    real = files.write_atomically
    failed = []

    def write_atomically(path, write):
        def half_then_full(partial):
            write(partial)
            if not failed:
                failed.append(partial)
                os.truncate(partial, partial.stat().st_size // 2)
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(partial))
        return real(path, half_then_full if Path(path).name == name else write)

    for module in [m for n, m in sys.modules.items() if n.startswith("markov")]:
        if getattr(module, "write_atomically", None) is real:
            monkeypatch.setattr(module, "write_atomically", write_atomically)


@pytest.fixture(scope="module")
def clean_run(analysis, tmp_path_factory) -> Path:
    """The results of `markov psa` and `markov report DIR` on a disk with room."""
    out = tmp_path_factory.mktemp("clean") / "results"
    assert main(psa_argv(analysis, out)) == 0
    assert main(["report", str(out)]) == 0
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["manifest.json", "chunk-000002.parquet", "run.json", "psa_summary.csv",
                                  "ceac_mvi.png", "report.xlsx"])
def test_a_full_disk_leaves_no_half_file_and_the_next_run_finishes(analysis, clean_run, tmp_path, capsys, monkeypatch,
                                                                    name):
    out = tmp_path / "results"
    command = ["report", str(out)] if name.startswith("report") else psa_argv(analysis, out)
    if command[0] == "report":
        shutil.copytree(clean_run, out)
        (out / name).unlink()
    fill_the_disk_at(monkeypatch, name)
    assert main(command) == 1
    one_line_error(capsys, "No space left on device", f"{name}'")
    assert not list(out.rglob(name)), "a half file under its final name"
    assert not list(out.rglob("*.tmp"))
    monkeypatch.undo()
    assert main(command) == 0  # nothing left blocks the next run
    for table in ("psa_summary.csv", "ceac_mvi.csv", "evpi_imbrave150.csv"):
        assert (out / table).read_bytes() == (clean_run / table).read_bytes(), table
    assert len(list(out.rglob(name))) == 1


def test_a_full_disk_while_recording_a_chunk_names_the_journal_and_the_next_run_finishes(analysis, clean_run, tmp_path,
                                                                                         capsys, monkeypatch):
    real = os.fsync

    def full(descriptor):  # the journal's line written, its flush refused; every other file flushed
        if not os.readlink(f"/proc/self/fd/{descriptor}").endswith("journal.jsonl"):
            return real(descriptor)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    out = tmp_path / "results"
    monkeypatch.setattr(os, "fsync", full)
    assert main(psa_argv(analysis, out)) == 1
    one_line_error(capsys, "No space left on device", "journal.jsonl'")
    monkeypatch.undo()
    assert main(psa_argv(analysis, out)) == 0
    for table in ("psa_summary.csv", "ceac_mvi.csv", "evpi_imbrave150.csv"):
        assert (out / table).read_bytes() == (clean_run / table).read_bytes(), table


def test_a_full_disk_while_a_file_is_replaced_keeps_the_one_there(analysis, clean_run, tmp_path, capsys, monkeypatch):
    out = tmp_path / "results"
    shutil.copytree(clean_run, out)
    before = tree_digest(out)
    fill_the_disk_at(monkeypatch, "psa_summary.csv")
    assert main(psa_argv(analysis, out)) == 1
    one_line_error(capsys, "No space left on device")
    assert (out / "psa_summary.csv").read_bytes() == (clean_run / "psa_summary.csv").read_bytes()
    assert {k: v for k, v in tree_digest(out).items() if not k.endswith(".lock")} == \
        {k: v for k, v in before.items() if not k.endswith(".lock")}


def test_temporary_files_a_killed_run_left_block_nothing(analysis, inputs, reference, clean_run, tmp_path):
    # killed (or the disk full) before anything was written: 0 bytes under a temporary name
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / ".run.json.host-41.tmp").write_bytes(b"")
    # the store being created, its results directory claimed
    store_created = tmp_path / "store_created"
    shutil.copytree(clean_run, store_created)
    shutil.rmtree(store_created / "psa_store")
    (store_created / "psa_store").mkdir()
    (store_created / "psa_store" / ".manifest.json.host-41.tmp").write_bytes(b"")
    for out in (fresh, store_created):
        assert main(psa_argv(analysis, out)) == 0
        assert not list(out.rglob("*.tmp"))
        assert (out / "psa_summary.csv").read_bytes() == (clean_run / "psa_summary.csv").read_bytes()
    store = tmp_path / "store"  # a store of the API alone
    store.mkdir()
    (store / ".manifest.json.host-41.tmp").write_bytes(b"")
    run_batch(inputs, 24, 3, store, chunk_size=6)
    assert_same_psa(read_psa(store, inputs), reference)


# ---------------------------------------------------------------------------------
# case 7: hand-edited manifests and records; case 8 and -n: refused before anything is written
# ---------------------------------------------------------------------------------

def _edited(manifest: dict, **changes) -> dict:
    return {**manifest, **changes}


@pytest.mark.parametrize("edit, message", [
    (lambda m: _edited(m, chunk_size=0), "chunk_size is 0: must be a whole number of at least 1"),  # was ZeroDivision
    (lambda m: {k: v for k, v in m.items() if k != "seed"}, "lacks seed"),  # was KeyError
    (lambda m: {k: v for k, v in m.items() if k not in ("fingerprint", "chunks")}, "lacks fingerprint, chunks"),
    (lambda m: _edited(m, n_samples="24"), "n_samples is '24'"),
    (lambda m: _edited(m, n_samples=10**13), "chunks, more than a store holds"),
    (lambda m: _edited(m, chunks={"chunk-000000.parquet": "0" * 64}), "chunks['chunk-000000.parquet'] is '000"),
    (lambda m: _edited(m, chunks=[]), "chunks is []"),
    (lambda m: [m], "not a JSON object"),
    (lambda m: "{", "unreadable"),
])
def test_a_hand_edited_manifest_is_one_line_and_changes_nothing(analysis, inputs, clean_run, tmp_path, capsys, edit,
                                                                message):
    out = tmp_path / "results"
    shutil.copytree(clean_run, out)
    path = out / "psa_store" / "manifest.json"
    edited = edit(json.loads(path.read_text()))
    path.write_text(edited if isinstance(edited, str) else json.dumps(edited))
    before = tree_digest(out)
    assert main(psa_argv(analysis, out)) == 2
    one_line_error(capsys, str(path), message)
    with pytest.raises(InputError, match=r"manifest\.json: "):
        read_psa(out, inputs)
    assert tree_digest(out) == before


def test_chunks_of_another_seed_than_an_edited_manifest_says_are_never_used(inputs, pristine, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(pristine, store)
    manifest = json.loads((store / "manifest.json").read_text())
    (store / "manifest.json").write_text(json.dumps({**manifest, "seed": 4}))  # the chunks hold seed 3's draws
    with pytest.raises(InputError, match=r"chunk-000000\.parquet: holds draws of another model, seed or range"):
        read_psa(store, inputs)
    with pytest.warns(ChunkSetAside, match="holds draws of another model, seed or range"):
        run_batch(inputs, 24, 4, store, chunk_size=6)
    assert len(list((store / "set_aside").iterdir())) == 4
    assert_same_psa(read_psa(store, inputs), run_psa(inputs, 24, seed=4))


def test_a_chunk_rewritten_with_its_draws_out_of_order_is_refused_on_read(inputs, pristine, tmp_path):
    # rows swapped and the manifest's checksum made to match: identity and checksum pass, the draws do not
    store = tmp_path / "store"
    shutil.copytree(pristine, store)
    path = store / "chunks" / "chunk-000002.parquet"
    table = pq.read_table(path)
    path.write_bytes(data := _parquet(table.take([1, 0, *range(2, table.num_rows)])))
    manifest = json.loads((store / "manifest.json").read_text())
    manifest["chunks"][path.name]["sha256"] = hashlib.sha256(data).hexdigest()
    (store / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match=r"chunk-000002\.parquet: does not hold draws 12-18 in order"):
        read_psa(store, inputs)
    # a column dropped, the checksum made to match again
    path.write_bytes(data := _parquet(table.drop_columns([table.column_names[-1]])))
    manifest["chunks"][path.name]["sha256"] = hashlib.sha256(data).hexdigest()
    (store / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match=r"chunk-000002\.parquet: lacks unreachable:"):
        read_psa(store, inputs)


def _parquet(table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def test_a_hand_edited_run_record_is_kept_or_refused_in_one_line(analysis, clean_run, tmp_path, capsys):
    out = tmp_path / "results"
    shutil.copytree(clean_run, out)
    record = json.loads((out / "run.json").read_text())
    (out / "run.json").write_text(json.dumps({**record, "commands": ["psa"]}))  # was a KeyError at the end
    assert main(psa_argv(analysis, out)) == 0
    capsys.readouterr()
    assert list(json.loads((out / "run.json").read_text())["commands"]) == ["psa"]
    (out / "run.json").write_text("[]")
    before = tree_digest(out)
    assert main(psa_argv(analysis, out)) == 2
    one_line_error(capsys, "run.json: unreadable")
    assert tree_digest(out) == before


@pytest.mark.parametrize("argv, message", [
    (["-n", "1000000000000"], "n is 1,000,000,000,000: its per-draw results would take about"),  # was MemoryError
    (["-n", "5000000", "--chunk-size", "1"], "n is 5,000,000 in chunks of 1: 5,000,000 chunks, more than a store"),
    (["--annual-patients", "nan", "--decision-years", "5"], "--annual-patients is nan: must be a finite number"),
    (["--annual-patients", "1000", "--decision-years", "inf"], "--decision-years is inf: must be a finite number"),
    (["--annual-patients", "1000", "--decision-years", "0"], "--decision-years is 0.0: must be a finite number, more"),
])
def test_impossible_values_are_refused_before_anything_is_written(analysis, tmp_path, capsys, argv, message):
    out = tmp_path / "results"
    assert main(["psa", str(analysis), "--out", str(out), *argv]) == 2
    one_line_error(capsys, message)
    assert not out.exists()


def test_the_api_refuses_impossible_values_before_anything_is_written(analysis, tmp_path):
    from markov.runs import run_analysis, run_probabilistic

    inputs = load_analysis(analysis)
    out = tmp_path / "results"
    with pytest.raises(InputError, match="annual_population is nan"):
        run_probabilistic(inputs, out, 24, 3, annual_patients=float("nan"), decision_years=5)
    with pytest.raises(InputError, match="its per-draw results would take about"):
        run_analysis(inputs, out, psa_samples=10**12)
    with pytest.raises(InputError, match="its per-draw results would take about"):
        markov.load(analysis).psa(10**12, out=out)
    with pytest.raises(InputError, match="its per-draw results would take about"):
        run_psa(inputs, 10**12, seed=1)
    assert not out.exists()


# ---------------------------------------------------------------------------------
# case 7: the Dask scheduler dies mid-run
# ---------------------------------------------------------------------------------

#: The client, as a second process: `markov <argv>` that kills the scheduler (pid in
#: argv[1]) once it has written two chunks.
CLIENT = """
import os, signal, sys
from markov.cli import main
from markov.probabilistic.store import ResultsStore

write_chunk, written = ResultsStore.write_chunk, []

def write_then_kill(store, index, chunk):
    path = write_chunk(store, index, chunk)
    written.append(index)
    if len(written) == 2:
        os.kill(int(sys.argv[1]), signal.SIGKILL)
    return path

ResultsStore.write_chunk = write_then_kill
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.slow
def test_the_dask_scheduler_dying_mid_run_is_one_line_and_loses_nothing(analysis, inputs, tmp_path):
    pytest.importorskip("distributed")
    dask = Path(sys.executable).with_name("dask")
    if not dask.is_file():
        pytest.skip("the dask command is not installed beside this Python")
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    address_file = tmp_path / "scheduler.json"
    started = [subprocess.Popen([str(dask), "scheduler", "--scheduler-file", str(address_file), "--host",
                                 "127.0.0.1", "--port", "0", "--no-dashboard"], cwd=tmp_path, env=environment,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while not address_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(address_file.read_text())["address"]
        started.append(subprocess.Popen([str(dask), "worker", address, "--nthreads", "1", "--no-dashboard"],
                                        cwd=tmp_path, env=environment, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL))
        (tmp_path / "client.py").write_text(CLIENT)
        out = tmp_path / "results"
        argv = ["psa", str(analysis), "-n", "240", "--seed", "3", "--chunk-size", "6", "--no-evppi", "--out", str(out)]
        client = subprocess.run([sys.executable, str(tmp_path / "client.py"), str(started[0].pid), *argv,
                                 "--scheduler", address], cwd=tmp_path, env=environment, capture_output=True,
                                text=True, timeout=600, check=False)
    finally:
        for process in started:
            process.kill()
            process.wait()
    assert client.returncode == 1, client.stderr
    errors = [line for line in client.stderr.splitlines() if not line.startswith("PSA [")]
    assert len(errors) == 1 and errors[0].startswith("markov: error: the Dask cluster at ") \
        and "finished chunks are kept: run the same command to resume" in errors[0], client.stderr
    kept = len(list((out / "psa_store" / "chunks").glob("chunk-*.parquet")))
    assert 2 <= kept < 40
    assert main(argv) == 0  # resumed here, without the cluster
    assert_same_psa(read_psa(out, inputs), run_psa(inputs, 240, seed=3, chunk_size=240))


@pytest.mark.slow
def test_a_dask_worker_without_the_package_is_named_in_one_line_before_any_chunk(inputs, tmp_path):
    distributed = pytest.importorskip("distributed")
    dask = Path(sys.executable).with_name("dask")
    if not dask.is_file():
        pytest.skip("the dask command is not installed beside this Python")
    # a package of the same name first on the worker's path: there, markov cannot be imported
    (tmp_path / "elsewhere" / "markov").mkdir(parents=True)
    (tmp_path / "elsewhere" / "markov" / "__init__.py").write_text('raise ImportError("not installed here")\n')
    environment = {**os.environ, "PYTHONPATH": str(tmp_path / "elsewhere"), "OPENBLAS_NUM_THREADS": "1"}
    with distributed.LocalCluster(n_workers=0, protocol="tcp", dashboard_address=None) as cluster:
        worker = subprocess.Popen([str(dask), "worker", cluster.scheduler_address, "--nthreads", "1",
                                   "--no-dashboard"], cwd=tmp_path, env=environment,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with distributed.Client(cluster) as client:
                client.wait_for_workers(1, timeout=60)
                with pytest.raises(RuntimeError, match=r"^a Dask worker cannot import markov \(not installed here\); "
                                                       r"install the same version of markov on every worker$"):
                    run_batch(inputs, 12, 3, tmp_path / "store", chunk_size=6, scheduler=client)
        finally:
            worker.kill()
            worker.wait()
    assert not list((tmp_path / "store" / "chunks").glob("chunk-*.parquet"))
