"""Results store of a probabilistic analysis: one Parquet file per finished chunk.

A store is a directory::

    manifest.json              what model and which draws: identity and plan
    chunks/chunk-000000.parquet
    chunks/chunk-000001.parquet  ...

Each chunk file holds draws ``start`` to ``stop``: a ``sample`` column, the drawn
value of every uncertain input (``input:<reference>``) and every per-sample result
(``<population>:<strategy>:<measure>``), with the chunk's identity and its count of
samples whose OS calibration could not be reached in the file's metadata. A chunk is
written under a temporary name and renamed, so a file under its final name is always
complete: a run killed at any moment leaves finished chunks and, at worst, a temporary
file that the next run deletes. Resuming recomputes only the chunks that are missing.

The identity is a fingerprint of everything that determines a draw's results: the
model files and evidence the analysis resolved to, its settings, the package version
and the source of the modules that compute. A store refuses chunks of another
fingerprint or seed, so results of two models are never mixed.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .._validate import InputError
from .._version import __version__
from ..engine import compiled_core_files
from ..inputs.load import ModelInputs

FORMAT = "markov-psa-store/1"
MANIFEST = "manifest.json"
CHUNKS = "chunks"
INPUT_PREFIX = "input:"
_METADATA_KEY = b"markov"
LOCK = ".lock"

#: Modules whose source determines a draw's results (paths relative to the package).
COMPUTING_MODULES = ("_validate.py", "engine", "grid.py", "uncertainty.py", "probabilistic/psa.py", "inputs",
                     "models", "outcomes", "survival")


def code_fingerprint() -> str:
    """SHA-256 of the package version, the source of the modules that compute and the
    compiled core (a worker built separately from the same source may differ in its
    bytes: it is then refused, the safe side)."""
    package = Path(__file__).parent.parent
    digest = hashlib.sha256(__version__.encode())
    files = [file for name in COMPUTING_MODULES
             for file in (sorted((package / name).rglob("*.py")) if (package / name).is_dir() else [package / name])]
    files += compiled_core_files()
    for file in files:
        digest.update(file.relative_to(package).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def model_fingerprint(inputs: ModelInputs, code: bool = True) -> str:
    """SHA-256 of everything that determines a draw's results: settings that change the
    model (not the name, seed or sample count), model files, every input's evidence and
    distribution, and (unless ``code`` is false) :func:`code_fingerprint`."""
    content = {**inputs.content(), "code": code_fingerprint() if code else None}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def outcome_column(population: str, strategy: str, measure: str) -> str:
    return f"{population}:{strategy}:{measure}"


@dataclass(frozen=True)
class Plan:
    """Which draws a store holds: ``n_samples`` draws of seed ``seed`` in chunks of
    ``chunk_size`` (chunk ``i`` is draws ``i·chunk_size`` up to the next chunk)."""

    n_samples: int
    seed: int
    chunk_size: int

    def chunk(self, index: int) -> tuple[int, int]:
        """``(start, stop)`` of chunk ``index``."""
        start = index * self.chunk_size
        return start, min(start + self.chunk_size, self.n_samples)

    def chunks(self) -> list[tuple[int, int, int]]:
        """``(index, start, stop)`` of every chunk."""
        return [(i, *self.chunk(i)) for i in range(-(-self.n_samples // self.chunk_size))]


@dataclass(frozen=True)
class Chunk:
    """Draws ``start`` to ``stop``: input values (index ``sample``, one column per
    uncertain input), results (index ``sample``, columns ``(population, strategy,
    measure)``) and, per ``(population, strategy)``, the samples whose OS calibration
    could not be reached."""

    start: int
    stop: int
    parameters: pd.DataFrame
    outcomes: pd.DataFrame
    unreachable: dict[tuple[str, str], int]


class ResultsStore:
    """A PSA's chunks on disk (see the module docstring). Open one with :meth:`open`
    (to read) or :meth:`create_or_resume` (to run)."""

    def __init__(self, path: Path, manifest: dict) -> None:
        self.path = path
        self.manifest = manifest
        #: draws of the run in progress (more than the manifest's while extending)
        self.target: int = manifest.get("n_samples", 0)

    # --- opening --------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path) -> ResultsStore:
        """The store in ``path``; :class:`InputError` if there is none."""
        path = Path(path)
        manifest_path = path / MANIFEST
        if not manifest_path.is_file():
            raise InputError(f"{path}: no PSA results store here (no {MANIFEST}); run `markov psa --out ...` first")
        try:
            manifest = json.loads(manifest_path.read_text())
        except (OSError, ValueError) as error:
            raise InputError(f"{manifest_path}: unreadable ({error})") from None
        if manifest.get("format") != FORMAT:
            raise InputError(f"{manifest_path}: format {manifest.get('format')!r}; this version reads {FORMAT!r}")
        return cls(path, manifest)

    @classmethod
    def create_or_resume(cls, path: str | Path, inputs: ModelInputs, plan: Plan) -> ResultsStore:
        """The store for ``plan`` of ``inputs`` in ``path``: a new one, or the one there
        if it holds the same model and seed (to resume it, or extend it to more draws).
        The manifest keeps the draws it held until :meth:`finish` records an extension,
        so an extension that is interrupted leaves the finished PSA readable.

        Raises
        ------
        InputError
            If ``path`` holds another model's results, another seed, more draws than
            asked for, or files that are not a store. Nothing is changed then.
        """
        store = cls.check(path, inputs, plan)
        if store is not None:
            store._remove_temporary_files()
            store.target = plan.n_samples
            return store
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        store = cls(path, {})
        store._write_manifest({
            "format": FORMAT, "analysis": inputs.analysis.name, "fingerprint": model_fingerprint(inputs),
            "inputs_fingerprint": model_fingerprint(inputs, code=False), "package_version": __version__,
            "seed": plan.seed, "n_samples": plan.n_samples,
            "chunk_size": plan.chunk_size, "uncertain_inputs": inputs.uncertain,
            "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        })
        (path / CHUNKS).mkdir(exist_ok=True)  # after the manifest: a store is never left without one
        store.target = plan.n_samples
        return store

    def finish(self) -> None:
        """Record that the store now holds :attr:`target` draws (all their chunks written)."""
        if self.target > self.manifest["n_samples"]:
            self._write_manifest({**self.manifest, "n_samples": self.target})

    @classmethod
    def check(cls, path: str | Path, inputs: ModelInputs, plan: Plan) -> ResultsStore | None:
        """What :meth:`create_or_resume` would do, changing nothing: the store there if
        it can be resumed, None if ``path`` is new or empty, else :class:`InputError`."""
        path = Path(path)
        fingerprint = model_fingerprint(inputs)
        if (path / MANIFEST).is_file():
            store = cls.open(path)
            held = store.manifest
            if held["fingerprint"] != fingerprint and held.get("inputs_fingerprint") == model_fingerprint(
                    inputs, code=False):
                raise InputError(f"{path}: holds a PSA of these inputs computed by another version of markov (its "
                                 f"code or compiled core differ); it can be read but not resumed or extended: choose "
                                 f"another output directory")
            if held["fingerprint"] != fingerprint:
                raise InputError(
                    f"{path}: holds the PSA of a different model or inputs (analysis {held['analysis']!r}, "
                    f"fingerprint {held['fingerprint'][:12]}; this run is {inputs.analysis.name!r}, "
                    f"{fingerprint[:12]}); choose another output directory or delete this one")
            if held["seed"] != plan.seed:
                raise InputError(f"{path}: holds a PSA with seed {held['seed']}, not {plan.seed}; choose another "
                                 f"output directory, or the same seed to resume")
            if held["n_samples"] > plan.n_samples:
                raise InputError(f"{path}: holds {held['n_samples']:,} draws; asked for {plan.n_samples:,} "
                                 f"(ask for at least {held['n_samples']:,} to resume or extend it)")
            return store
        if path.is_file() or (path.exists() and any(p.name != LOCK for p in path.iterdir())):
            raise InputError(f"{path}: exists and is not a PSA results store; choose a new or empty directory")
        return None

    # --- what it holds --------------------------------------------------------------
    @property
    def plan(self) -> Plan:
        """The draws held (when finished) or being computed (:attr:`target`)."""
        return Plan(max(self.target, self.manifest["n_samples"]), self.manifest["seed"], self.manifest["chunk_size"])

    def chunk_path(self, index: int) -> Path:
        return self.path / CHUNKS / f"chunk-{index:06d}.parquet"

    def finished(self) -> set[int]:
        """Indices of the chunks of the plan whose file is there and holds exactly their
        draws (a chunk written before the plan was extended may hold fewer)."""
        done = set()
        for index, start, stop in self.plan.chunks():
            path = self.chunk_path(index)
            if path.is_file():
                meta = self._chunk_metadata(path)
                # a chunk written for an extension that was then interrupted holds more draws
                if meta["start"] == start and meta["stop"] >= stop:
                    done.add(index)
        return done

    def missing(self) -> list[tuple[int, int, int]]:
        """``(index, start, stop)`` of the chunks still to compute."""
        done = self.finished()
        return [chunk for chunk in self.plan.chunks() if chunk[0] not in done]

    # --- writing --------------------------------------------------------------------
    def write_chunk(self, index: int, chunk: Chunk) -> Path:
        """Write one chunk atomically (temporary file, fsync, rename)."""
        start, stop = self.plan.chunk(index)
        if (chunk.start, chunk.stop) != (start, stop):
            raise ValueError(f"chunk {index} holds draws {chunk.start}-{chunk.stop}, the plan {start}-{stop}")
        frame = pd.concat([chunk.parameters.add_prefix(INPUT_PREFIX),
                           chunk.outcomes.set_axis([outcome_column(*c) for c in chunk.outcomes.columns], axis=1)],
                          axis=1)
        table = pa.Table.from_pandas(frame.rename_axis("sample").reset_index(), preserve_index=False)
        meta = {"fingerprint": self.manifest["fingerprint"], "seed": self.manifest["seed"], "start": start,
                "stop": stop, "unreachable": [[p, s, n] for (p, s), n in chunk.unreachable.items()]}
        table = table.replace_schema_metadata({_METADATA_KEY: json.dumps(meta).encode()})
        final = self.chunk_path(index)
        temporary = final.with_name(f".{final.name}.{socket.gethostname()}.{os.getpid()}.tmp")
        with open(temporary, "wb") as handle:
            pq.write_table(table, handle, compression="zstd")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        _fsync_directory(final.parent)
        return final

    # --- reading --------------------------------------------------------------------
    def read(self, *, measures: tuple[str, ...] | None = None, parameter_samples: int | None = None,
             columns_of: list[tuple[str, str]] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """The finished PSA: input values, results and unreachable-calibration counts.

        Parameters
        ----------
        measures : tuple of str, optional
            Only these per-sample measures (e.g. ``("cost", "qalys")``): a large PSA
            read for its decision analysis need not hold every cost category.
        parameter_samples : int, optional
            Read the input values of only the first this many samples (what the EVPPI
            uses): the inputs of a million draws need not be held to analyse them.
        columns_of : list of (population, strategy), optional
            The strategies in their order (default: as stored).

        Raises
        ------
        InputError
            If chunks are missing (the run did not finish: run the same command again).
        """
        missing = self.missing()
        if missing:
            raise InputError(f"{self.path}: {len(missing)} of {len(self.plan.chunks())} chunks not finished; run the "
                             f"same command again to resume")
        schema = pq.read_schema(self.chunk_path(0))
        outcome_names = [name for name in schema.names if name != "sample" and not name.startswith(INPUT_PREFIX)]
        split = [tuple(name.split(":")) for name in outcome_names]
        keep = [name for name, (_, _, m) in zip(outcome_names, split, strict=True) if measures is None or m in measures]
        inputs = [name for name in schema.names if name.startswith(INPUT_PREFIX)]
        wanted = self.plan.n_samples if parameter_samples is None else parameter_samples
        results, drawn, unreachable = [], [], {}
        for index, start, stop in self.plan.chunks():
            path = self.chunk_path(index)
            results.append(self._read_table(path, ["sample", *keep]).slice(0, stop - start))
            if start < wanted:
                drawn.append(self._read_table(path, ["sample", *inputs]).slice(0, min(stop, wanted) - start))
            for p, s, n in self._chunk_metadata(path)["unreachable"]:
                unreachable[(p, s)] = unreachable.get((p, s), 0) + n
        outcomes = pa.concat_tables(results).to_pandas().set_index("sample")
        if drawn:
            parameters = pa.concat_tables(drawn).to_pandas().set_index("sample")
        else:  # no inputs asked for
            parameters = pd.DataFrame(columns=inputs, index=pd.Index([], dtype="int64", name="sample"), dtype=float)
        parameters = parameters.rename(columns=lambda name: name[len(INPUT_PREFIX):])
        outcomes.columns = pd.MultiIndex.from_tuples([tuple(name.split(":")) for name in keep],
                                                     names=["population", "strategy", "measure"])
        if columns_of is not None:
            order = {key: i for i, key in enumerate(columns_of)}
            outcomes = outcomes[sorted(outcomes.columns, key=lambda c: order[(c[0], c[1])])]
        counts = pd.DataFrame([{"population": p, "strategy": s, "samples": n} for (p, s), n in unreachable.items()])
        return parameters, outcomes, counts

    # --- internals ------------------------------------------------------------------
    @staticmethod
    def _read_table(path: Path, columns: list[str]) -> pa.Table:
        try:
            return pq.read_table(path, columns=columns)
        except (OSError, pa.ArrowException) as error:
            message = " ".join(str(error).split())
            raise InputError(f"{path}: unreadable ({message}); delete it and run the same command to recompute "
                             f"it") from None

    def _chunk_metadata(self, path: Path) -> dict:
        try:
            meta = json.loads(pq.read_schema(path).metadata[_METADATA_KEY])
        except (OSError, KeyError, TypeError, ValueError, pa.ArrowException) as error:
            raise InputError(f"{path}: not a chunk of this store ({error}); delete it to recompute it") from None
        if meta["fingerprint"] != self.manifest["fingerprint"] or meta["seed"] != self.manifest["seed"]:
            raise InputError(f"{path}: a chunk of another model or seed; delete it to recompute it")
        return meta

    def _write_manifest(self, manifest: dict) -> None:
        final = self.path / MANIFEST
        temporary = final.with_name(f".{MANIFEST}.{os.getpid()}.tmp")
        with open(temporary, "w") as handle:
            handle.write(json.dumps(manifest, indent=2) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        _fsync_directory(self.path)
        self.manifest = manifest

    def _remove_temporary_files(self) -> None:
        """Delete what a killed run was writing (never a finished chunk)."""
        for path in (self.path / CHUNKS).glob(".chunk-*.tmp"):
            path.unlink(missing_ok=True)


class StoreLock:
    """Refuses a second run on the store at ``directory`` while one is running. The lock
    is the kernel's (``flock`` on ``.lock``), so it ends with its process however the
    process ends, ``kill -9`` included; the file names the holder for the message.
    Take it before changing the store."""

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / LOCK
        self.handle = None

    def __enter__(self) -> StoreLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise InputError(f"{self.path.parent}: another run is writing to this store ({holder}); wait for it "
                             f"or stop it") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{socket.gethostname()} {os.getpid()}")
        handle.flush()
        self.handle = handle
        return self

    def __exit__(self, *_) -> None:
        self.handle.close()  # releases the lock; the file stays (deleting it would race a new holder)


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
