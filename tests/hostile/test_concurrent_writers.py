"""Two commands writing into one results directory at once (issue 17, case 1): the second,
of whatever kind, is refused with one line and changes nothing; the first finishes whole.

A real second process holds the directory: `markov psa`, stopped (by a hook of its own)
between computing its draws and writing its tables, so it holds the lock from its first
byte (``run.json``) and has not yet written its last. While it waits, every command and
API writer is tried on the same directory in this process.
"""
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

import markov
from markov._files import DirectoryLock
from markov._validate import InputError
from markov.cli import main
from markov.report import write_reports

ROOT = Path(__file__).resolve().parents[2]

#: Run as a second process: `markov <argv>` that, holding its results directory, signals
#: READY and waits for RELEASE before writing the PSA's tables and figures.
HOLDER = """
import sys, time
from pathlib import Path
import markov.runs.probabilistic as probabilistic
from markov.cli import main

ready, release = Path(sys.argv[1]), Path(sys.argv[2])
write_psa = probabilistic.write_psa

def held(*args, **kwargs):
    ready.touch()
    deadline = time.monotonic() + 600
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return write_psa(*args, **kwargs)

probabilistic.write_psa = held
sys.exit(main(sys.argv[3:]))
"""


@pytest.fixture(scope="module")
def analysis(tmp_path_factory) -> Path:
    """The shipped sequence search on a coarse grid: every command, `sequences` included, can run on it."""
    settings = yaml.safe_load((ROOT / "analyses" / "hcc_sequences.yaml").read_text())
    settings.update(name="concurrent", cycle_length_days=30.4375, horizon_years=10)
    path = tmp_path_factory.mktemp("analysis") / "concurrent.yaml"
    path.write_text(yaml.safe_dump(settings))
    return path


def tree_digest(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def start_holder(tmp_path: Path, argv: list[str]) -> tuple[subprocess.Popen, Path]:
    """The holding process, once it holds its directory; and the file that releases it."""
    script, ready, release = tmp_path / "holder.py", tmp_path / "ready", tmp_path / "release"
    script.write_text(HOLDER)
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, str(script), str(ready), str(release), *argv], cwd=tmp_path,
                               env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready.exists(), f"the holder never got to hold its directory: {process.stderr.read()}"
    return process, release


def refused(capsys, argv: list[str]) -> None:
    assert main(argv) == 2, argv
    # a report announces itself before it takes the lock: only that may precede the refusal
    err = "".join(line for line in capsys.readouterr().err.splitlines(keepends=True) if not line.startswith("Writing "))
    assert err.count("\n") == 1 and err.startswith("markov: error: "), (argv, err)
    assert "another run is writing to this results directory (process " in err, (argv, err)


@pytest.mark.slow
def test_a_second_writer_of_any_kind_is_refused_and_the_first_finishes_whole(analysis, tmp_path, capsys):
    out = tmp_path / "mix"
    holder, release = start_holder(tmp_path, ["psa", str(analysis), "-n", "60", "--seed", "1", "--chunk-size", "20",
                                              "--evppi-samples", "60", "--out", str(out)])
    try:
        held = tree_digest(out)
        assert "run.json" in held and "psa_store/manifest.json" in held and "psa_summary.csv" not in held
        a, o = str(analysis), str(out)
        for argv in (["psa", a, "-n", "120", "--seed", "1", "--no-evppi", "--out", o],  # the case 1
                     ["run", a, "--out", o], ["run", a, "--psa", "60", "--seed", "1", "--out", o],
                     ["dsa", a, "--out", o], ["gsa", a, "--method", "morris", "-n", "2", "--out", o],
                     ["sequences", a, "--psa", "0", "--out", o], ["report", a, "--psa", "60", "--seed", "1",
                                                                   "--out", o],
                     ["report", o], ["report", o, "--out", str(tmp_path / "elsewhere")]):
            refused(capsys, argv)
            assert tree_digest(out) == held, argv
        api = markov.load(analysis)
        for write in (lambda: api.psa(60, seed=1, out=out), lambda: api.report(out, psa=60, seed=1),
                      lambda: api.sequences(n=0).write(out), lambda: write_reports(out)):
            with pytest.raises(InputError, match="another run is writing to this results directory"):
                write()
            assert tree_digest(out) == held
        assert not (tmp_path / "elsewhere").exists()
    finally:
        release.touch()
        assert holder.wait(timeout=600) == 0, holder.stderr.read()
    # the holder's outputs are whole and of one run: 60 draws everywhere
    record = json.loads((out / "run.json").read_text())
    assert record["commands"]["psa"]["psa_samples"] == 60 and list(record["commands"]) == ["psa"]
    assert json.loads((out / "psa_store" / "manifest.json").read_text())["n_samples"] == 60
    assert (pd.read_csv(out / "evppi_imbrave150.csv")["n_samples"] == 60).all()
    assert pd.read_csv(out / "convergence_imbrave150.csv")["n"].max() == 60
    assert (out / "psa_summary.csv").is_file() and (out / "ceac_imbrave150.svg").is_file()
    assert not [p for p in out.rglob(".*.tmp")]
    # and the directory takes the next command as usual
    assert main(["psa", str(analysis), "-n", "80", "--seed", "1", "--no-evppi", "--out", str(out)]) == 0


@pytest.mark.slow
def test_the_lock_goes_with_its_process_even_after_kill_9(analysis, tmp_path, capsys):
    out = tmp_path / "results"
    holder, _ = start_holder(tmp_path, ["psa", str(analysis), "-n", "10", "--seed", "1", "--no-evppi",
                                        "--out", str(out)])
    refused(capsys, ["psa", str(analysis), "-n", "10", "--seed", "1", "--no-evppi", "--out", str(out)])
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert main(["psa", str(analysis), "-n", "10", "--seed", "1", "--no-evppi", "--out", str(out)]) == 0
    assert json.loads((out / "run.json").read_text())["commands"]["psa"]["psa_samples"] == 10


def test_the_lock_is_reentrant_in_its_thread_and_refuses_another_thread(tmp_path):
    errors = []

    def other_thread():
        try:
            with DirectoryLock(tmp_path, "results directory"):
                pass
        except InputError as error:
            errors.append(str(error))

    with DirectoryLock(tmp_path, "results directory"):
        with DirectoryLock(tmp_path / ".", "results directory"):  # the same directory, taken again
            pass
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert len(errors) == 1 and f"process {os.getpid()} on " in errors[0]
    thread = threading.Thread(target=other_thread)  # released: any thread may take it
    thread.start()
    thread.join()
    assert len(errors) == 1
