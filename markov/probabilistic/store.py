"""Results store of a probabilistic analysis: one Parquet file per finished chunk.

A store is a directory::

    manifest.json              what model and which draws: identity, plan, chunk checksums
    journal.jsonl              checksums of the chunks written since the manifest was last
                               written, one line each (while a run is at work)
    chunks/chunk-000000.parquet
    chunks/chunk-000001.parquet  ...
    set_aside/                 chunks that failed their checksum (kept, never read)

Each chunk file holds draws ``start`` to ``stop``: a ``sample`` column, the drawn
value of every uncertain input (``input:<reference>``), every per-sample result
(``<population>:<strategy>:<measure>``) and, per strategy, whether the sample's OS
calibration could not be reached (``unreachable:<population>:<strategy>``), with the
chunk's identity in the file's metadata. Counts are taken over exactly the draws read,
so a chunk holding more draws than a PSA uses (the last chunk of a smaller run than an
extension left) counts only those it uses.

Files are written whole or not at all (:func:`markov._files.write_atomically`), so a
run killed at any moment leaves finished chunks and, at worst, a temporary file that
the next run deletes. Once a chunk is written its SHA-256 is recorded (and the file has
Parquet page checksums): appended to the journal and flushed to disk, so that recording a
chunk costs the same whatever the number written before it; the manifest takes the
journal's records when a run finishes or resumes, and reading a store reads both. A line
cut short by a crash records nothing, so its chunk is computed again. Every read checks
each chunk against its checksum, and a run that resumes sets aside every chunk that does
not match (a flipped bit on disk, a file written by a run stopped before recording it),
says so, and computes it again. Resuming computes only the chunks that are missing.

The identity is a fingerprint of everything that determines a draw's results: the
model files and evidence the analysis resolved to, its settings, the package version
and the source of the modules that compute. A store refuses a run of another
fingerprint or seed, so results of two models are never mixed.
"""
from __future__ import annotations

import hashlib
import json
import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .._files import (
    DirectoryLock,
    append_durably,
    fsync_directory,
    is_bookkeeping,
    remove_temporary_files,
    write_atomically,
    write_bytes_atomically,
)
from .._validate import InputError, check_count
from .._version import __version__
from ..engine import compiled_core_files
from ..inputs.load import ModelInputs

FORMAT = "markov-psa-store/2"
MANIFEST = "manifest.json"
JOURNAL = "journal.jsonl"
CHUNKS = "chunks"
SET_ASIDE = "set_aside"
INPUT_PREFIX = "input:"
UNREACHABLE_PREFIX = "unreachable:"
_METADATA_KEY = b"markov"
#: Chunks a store holds at most: the list of a plan's chunks stays small (a PSA of more
#: draws takes larger chunks).
MAX_CHUNKS = 1_000_000
#: Draws per chunk of a new store when none is asked for (:func:`default_chunk_size`): at
#: least, at most, and the chunks to have at least (where the draws allow).
SMALLEST_CHUNK, LARGEST_CHUNK, LEAST_CHUNKS = 500, 10_000, 16
_CHUNK_NAME = re.compile(r"chunk-\d{6,}\.parquet")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_MANIFEST_FIELDS = ("format", "analysis", "fingerprint", "inputs_fingerprint", "seed", "n_samples", "chunk_size",
                    "chunks")

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


def default_chunk_size(n_samples: int) -> int:
    """Draws per chunk of a new store of ``n_samples`` draws when none is asked for: a
    multiple of :data:`SMALLEST_CHUNK` up to :data:`LARGEST_CHUNK` that gives at least
    :data:`LEAST_CHUNKS` chunks where the draws allow, so that the workers of a run
    finish close together. Larger chunks cost less per draw to send to a worker, to
    write and to read back: 100,000 draws of the HCC base case on 2 workers took
    37.7-38.1 s in chunks of 2,000 and 39.3-39.4 s in chunks of 500; 200,000 draws,
    58.3-60.9 s in chunks of 10,000 and 61.0-65.8 s in chunks of 2,000, three runs each,
    alternated (the model evaluates 500 at a time either way). A run interrupted loses
    at most the chunks its workers were computing."""
    most = n_samples // LEAST_CHUNKS // SMALLEST_CHUNK * SMALLEST_CHUNK
    return max(SMALLEST_CHUNK, min(LARGEST_CHUNK, most))


@dataclass(frozen=True)
class Plan:
    """Which draws a store holds: ``n_samples`` draws of seed ``seed`` in chunks of
    ``chunk_size`` (chunk ``i`` is draws ``i·chunk_size`` up to the next chunk; None:
    :func:`default_chunk_size`).

    Raises
    ------
    InputError
        For a count that is not a whole number of at least 1 (seed: 0), or more than
        :data:`MAX_CHUNKS` chunks.
    """

    n_samples: int
    seed: int
    chunk_size: int | None = None

    def __post_init__(self) -> None:
        check_count("n", self.n_samples, 1)
        check_count("seed", self.seed, 0)
        if self.chunk_size is None:
            object.__setattr__(self, "chunk_size", default_chunk_size(self.n_samples))
        check_count("chunk_size", self.chunk_size, 1)
        if self.n_chunks > MAX_CHUNKS:
            raise InputError(f"n is {self.n_samples:,} in chunks of {self.chunk_size:,}: {self.n_chunks:,} chunks, "
                             f"more than a store holds ({MAX_CHUNKS:,}); ask for fewer draws or larger chunks")

    @property
    def n_chunks(self) -> int:
        return -(-self.n_samples // self.chunk_size)

    def chunk(self, index: int) -> tuple[int, int]:
        """``(start, stop)`` of chunk ``index``."""
        start = index * self.chunk_size
        return start, min(start + self.chunk_size, self.n_samples)

    def chunks(self) -> list[tuple[int, int, int]]:
        """``(index, start, stop)`` of every chunk."""
        return [(i, *self.chunk(i)) for i in range(self.n_chunks)]


@dataclass(frozen=True)
class Chunk:
    """Draws ``start`` to ``stop``: input values (index ``sample``, one column per
    uncertain input), results (index ``sample``, columns ``(population, strategy,
    measure)``) and whether each sample's OS calibration could not be reached (index
    ``sample``, boolean columns ``(population, strategy)``)."""

    start: int
    stop: int
    parameters: pd.DataFrame
    outcomes: pd.DataFrame
    unreachable: pd.DataFrame


class ChunkSetAside(UserWarning):
    """A chunk of a store did not match its checksum: it was set aside and is computed again."""


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
        """The store in ``path``; :class:`InputError` if there is none, or its manifest
        cannot be read or was changed into something no run writes."""
        path = Path(path)
        manifest_path = path / MANIFEST
        if not manifest_path.is_file():
            raise InputError(f"{path}: no PSA results store here (no {MANIFEST}); run `markov psa --out ...` first")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise InputError(f"{manifest_path}: unreadable ({_excerpt(error)})") from None
        manifest = _checked_manifest(manifest_path, manifest)
        manifest["chunks"].update(_journal_records(path / JOURNAL))
        return cls(path, manifest)

    @classmethod
    def create_or_resume(cls, path: str | Path, inputs: ModelInputs, plan: Plan) -> ResultsStore:
        """The store for ``plan`` of ``inputs`` in ``path``: a new one, or the one there
        if it holds the same model and seed (to resume it, or extend it to more draws),
        its chunks checked against their checksums (:meth:`set_aside_bad_chunks`). The
        manifest keeps the draws it held until :meth:`finish` records an extension, so
        an extension that is interrupted leaves the finished PSA readable. Call it
        holding the store's :class:`StoreLock`.

        Raises
        ------
        InputError
            If ``path`` holds another model's results, another seed, more draws than
            asked for, or files that are not a store. Nothing is changed then.
        """
        store = cls.check(path, inputs, plan)
        path = Path(path)
        remove_temporary_files(path)
        if store is not None:
            remove_temporary_files(path / CHUNKS)
            store.set_aside_bad_chunks()
            store.target = plan.n_samples
            return store
        store = cls(path, {})
        store._write_manifest({
            "format": FORMAT, "analysis": inputs.analysis.name, "fingerprint": model_fingerprint(inputs),
            "inputs_fingerprint": model_fingerprint(inputs, code=False), "package_version": __version__,
            "seed": plan.seed, "n_samples": plan.n_samples,
            "chunk_size": plan.chunk_size, "uncertain_inputs": inputs.uncertain,
            "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"), "chunks": {},
        })
        (path / CHUNKS).mkdir(exist_ok=True)  # after the manifest: a store is never left without one
        store.target = plan.n_samples
        return store

    def finish(self) -> None:
        """Record that the store now holds :attr:`target` draws (all their chunks written),
        with every chunk's checksum in the manifest."""
        if self.target > self.manifest["n_samples"] or (self.path / JOURNAL).exists():
            self._write_manifest({**self.manifest, "n_samples": max(self.target, self.manifest["n_samples"])})

    @classmethod
    def check(cls, path: str | Path, inputs: ModelInputs, plan: Plan) -> ResultsStore | None:
        """What :meth:`create_or_resume` would do, changing nothing: the store there if
        it can be resumed, None if ``path`` is new or empty, else :class:`InputError`."""
        path = Path(path)
        fingerprint = model_fingerprint(inputs)
        if (path / MANIFEST).is_file():
            store = cls.open(path)
            held = store.manifest
            if held["fingerprint"] != fingerprint and held["inputs_fingerprint"] == model_fingerprint(
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
        # a lock or a temporary file (a run stopped, or a full disk, before its manifest was written) is no store
        if path.is_file() or (path.exists() and any(not is_bookkeeping(p.name) for p in path.iterdir())):
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
        """Indices of the chunks of the plan whose file is there and that the manifest
        records as written with at least their draws (a chunk written before the plan was
        extended may hold fewer)."""
        recorded = self.manifest["chunks"]
        done = set()
        for index, start, stop in self.plan.chunks():
            path = self.chunk_path(index)
            entry = recorded.get(path.name)
            # a chunk written for an extension that was then interrupted holds more draws
            if entry is not None and entry["start"] == start and entry["stop"] >= stop and path.is_file():
                done.add(index)
        return done

    def missing(self) -> list[tuple[int, int, int]]:
        """``(index, start, stop)`` of the chunks still to compute."""
        done = self.finished()
        return [chunk for chunk in self.plan.chunks() if chunk[0] not in done]

    def set_aside_bad_chunks(self) -> list[Path]:
        """Check every chunk file against the checksum recorded for it (in the manifest or
        the journal). A file that does not match, or that neither records (its run stopped
        between writing and recording it), is moved to ``set_aside/`` with a
        :class:`ChunkSetAside` warning naming it, and computed again; so is a recorded
        chunk whose file is gone. Returns where the files went."""
        chunks = dict(self.manifest["chunks"])
        moved = []
        for path in sorted((self.path / CHUNKS).glob("chunk-*.parquet")):
            fault, _ = self._opened(path, path.read_bytes())
            if fault is None:
                continue
            chunks.pop(path.name, None)
            moved.append(self._set_aside(path))
            warnings.warn(ChunkSetAside(f"{path}: {fault}; set aside as {moved[-1]} and computed again"), stacklevel=2)
        chunks = {name: entry for name, entry in chunks.items() if (self.path / CHUNKS / name).is_file()}
        # a journal is taken into the manifest before the run appends to it: a line a crash
        # cut short is then gone, not joined to the next one
        if chunks != self.manifest["chunks"] or (self.path / JOURNAL).exists():
            self._write_manifest({**self.manifest, "chunks": chunks})
        return moved

    # --- writing --------------------------------------------------------------------
    def write_chunk(self, index: int, chunk: Chunk) -> Path:
        """Write one chunk atomically, then record its checksum in the journal."""
        start, stop = self.plan.chunk(index)
        if (chunk.start, chunk.stop) != (start, stop):
            raise ValueError(f"chunk {index} holds draws {chunk.start}-{chunk.stop}, the plan {start}-{stop}")
        names = ["sample", *(INPUT_PREFIX + name for name in chunk.parameters.columns),
                 *(outcome_column(*c) for c in chunk.outcomes.columns),
                 *(UNREACHABLE_PREFIX + f"{p}:{s}" for p, s in chunk.unreachable.columns)]
        # each frame's block as rows, one per column: built column by column through pandas,
        # a table of a hundred columns took longer than its compression
        arrays = [chunk.outcomes.index.to_numpy(dtype=np.int64)]
        for frame, kind in ((chunk.parameters, np.float64), (chunk.outcomes, np.float64), (chunk.unreachable, bool)):
            arrays.extend(np.ascontiguousarray(frame.to_numpy(dtype=kind).T))
        meta = {"fingerprint": self.manifest["fingerprint"], "seed": self.manifest["seed"], "start": start,
                "stop": stop}
        table = pa.Table.from_arrays(arrays, names=names, metadata={_METADATA_KEY: json.dumps(meta).encode()})
        sink = pa.BufferOutputStream()
        # no dictionary encoding: draws of continuous inputs and results hardly repeat, so
        # trying it took longer (8.2 against 4.7 ms a chunk of 500 draws) for larger files.
        # LZ4, and min/max statistics for the sample index alone: 5.5 against 10.7 ms a
        # chunk of 1,000 draws with zstd and every column's statistics, for files 8% larger;
        # the main process writes while the workers compute, on the same cores
        pq.write_table(table, sink, compression="lz4", write_statistics=["sample"], write_page_checksum=True,
                       use_dictionary=False)
        data = sink.getvalue().to_pybytes()
        final = write_bytes_atomically(self.chunk_path(index), data)
        entry = {"sha256": _sha256(data), "start": start, "stop": stop}
        self._record(final.name, entry)
        return final

    def _record(self, name: str, entry: dict) -> None:
        """Append a chunk's record to the journal, flushed to disk (a line a failure cut
        short records nothing: the next run computes the chunk again)."""
        append_durably(self.path / JOURNAL, json.dumps({"name": name, **entry}) + "\n")
        self.manifest["chunks"][name] = entry

    # --- reading --------------------------------------------------------------------
    def read(self, *, measures: tuple[str, ...] | None = None, parameter_samples: int | None = None,
             columns_of: list[tuple[str, str]] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """The finished PSA: input values, results, and per sample whether the OS
        calibration of each strategy could not be reached; every chunk checked against
        its checksum.

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
            If chunks are missing (the run did not finish: run the same command again)
            or one does not match its checksum.
        """
        missing = self.missing()
        if missing:
            raise InputError(f"{self.path}: {len(missing)} of {self.plan.n_chunks} chunks not finished; run the "
                             f"same command again to resume")
        n = self.plan.n_samples
        held = n if parameter_samples is None else min(parameter_samples, n)
        names = self._columns(measures, columns_of)
        # one array per kind, filled chunk by chunk: memory is what is read, plus one chunk
        outcomes = np.empty((len(names["outcomes"]), n))
        drawn = np.empty((len(names["inputs"]), held))
        flags = np.empty((len(names["flags"]), n), dtype=bool)
        for index, start, stop in self.plan.chunks():
            inputs = names["inputs"] if start < held else []
            table = self._read_table(index, self._chunk(index), ["sample", *names["outcomes"], *names["flags"], *inputs])
            table = table.slice(0, stop - start)  # a chunk may hold more draws than this PSA uses
            if not np.array_equal(table.column("sample").to_numpy(), np.arange(start, stop)):
                raise InputError(f"{self.chunk_path(index)}: does not hold draws {start}-{stop} in order (was it "
                                 f"edited?); run the same PSA command again to compute it again")
            for target, columns, rows in ((outcomes, names["outcomes"], stop - start),
                                          (flags, names["flags"], stop - start),
                                          (drawn, inputs, min(stop, held) - start)):
                for i, name in enumerate(columns):
                    target[i, start:start + rows] = table.column(name).slice(0, rows).to_numpy()
        # frames on these arrays as they are (one block each, samples along the rows)
        outcomes = pd.DataFrame(outcomes.T, index=pd.RangeIndex(n, name="sample"), copy=False,
                                columns=pd.MultiIndex.from_tuples([tuple(name.split(":")) for name in names["outcomes"]],
                                                                  names=["population", "strategy", "measure"]))
        parameters = pd.DataFrame(drawn.T, index=pd.RangeIndex(held, name="sample"), copy=False,
                                  columns=[name[len(INPUT_PREFIX):] for name in names["inputs"]])
        unreachable = pd.DataFrame(flags.T, index=outcomes.index, copy=False, columns=pd.MultiIndex.from_tuples(
            [tuple(name[len(UNREACHABLE_PREFIX):].split(":")) for name in names["flags"]],
            names=["population", "strategy"]))
        return parameters, outcomes, unreachable

    def _columns(self, measures: tuple[str, ...] | None, columns_of: list[tuple[str, str]] | None) -> dict:
        """The columns :meth:`read` reads, from the first chunk's schema: ``outcomes``
        (of ``measures``, strategies in the order of ``columns_of``), ``inputs`` and ``flags``."""
        schema = self._chunk(0).schema_arrow
        outcomes = [name for name in schema.names if name != "sample"
                    and not name.startswith((INPUT_PREFIX, UNREACHABLE_PREFIX))
                    and (measures is None or name.split(":")[2] in measures)]
        if columns_of is not None:
            order = {key: i for i, key in enumerate(columns_of)}
            outcomes.sort(key=lambda name: order[tuple(name.split(":")[:2])])
        return {"outcomes": outcomes, "inputs": [name for name in schema.names if name.startswith(INPUT_PREFIX)],
                "flags": [name for name in schema.names if name.startswith(UNREACHABLE_PREFIX)]}

    # --- internals ------------------------------------------------------------------
    def _chunk(self, index: int) -> pq.ParquetFile:
        """The file of chunk ``index``, checked against its checksum and the draws it
        should hold, opened (its footer parsed once, for the check and the reading)."""
        path = self.chunk_path(index)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise InputError(f"{path}: missing; run the same command again to compute it") from None
        fault, opened = self._opened(path, data)
        if fault is not None:
            raise InputError(f"{path}: {fault}; run the same PSA command again to set it aside and compute it again")
        return opened

    def _opened(self, path: Path, data: bytes) -> tuple[str | None, pq.ParquetFile | None]:
        """Why the chunk file ``path``, holding ``data``, cannot be used (None if it can),
        and the file opened where it can."""
        entry = self.manifest["chunks"].get(path.name)
        if entry is None:
            return "is not recorded in the manifest or its journal (its run stopped before recording it)", None
        if _sha256(data) != entry["sha256"]:
            return "does not match the checksum recorded for it (it changed on disk)", None
        try:
            opened = pq.ParquetFile(pa.BufferReader(data))
            meta = json.loads(opened.schema_arrow.metadata[_METADATA_KEY])
            identity = tuple(meta[key] for key in ("fingerprint", "seed", "start", "stop"))
        except (KeyError, TypeError, ValueError, OSError, pa.ArrowException):
            identity = None
        if identity != (self.manifest["fingerprint"], self.manifest["seed"], entry["start"], entry["stop"]):
            return "holds draws of another model, seed or range than the manifest records (was it edited?)", None
        return None, opened

    def _read_table(self, index: int, opened: pq.ParquetFile, columns: list[str]) -> pa.Table:
        try:
            # one file's columns, in this thread: read_table's dataset machinery takes longer than the reading
            table = opened.read(columns=columns, use_threads=False)
        except (OSError, pa.ArrowException) as error:
            raise InputError(f"{self.chunk_path(index)}: unreadable ({_excerpt(error)}); run the same PSA command "
                             f"again to compute it again") from None
        held = set(table.column_names)  # (a list built anew at each use of the property)
        absent = [name for name in columns if name not in held]  # not an error of ParquetFile's
        if absent:
            raise InputError(f"{self.chunk_path(index)}: lacks {_excerpt(', '.join(absent))} (was it edited?); run "
                             f"the same PSA command again to compute it again")
        return table

    def _set_aside(self, path: Path) -> Path:
        """Move a chunk file to ``set_aside/`` under a name not taken yet."""
        directory = self.path / SET_ASIDE
        directory.mkdir(exist_ok=True)
        target, copy = directory / path.name, 0
        while target.exists():
            copy += 1
            target = directory / f"{path.stem}.{copy}{path.suffix}"
        path.rename(target)
        return target

    def _write_manifest(self, manifest: dict) -> None:
        """Write the manifest, then delete the journal, whose records it holds (a crash
        between the two leaves records that are in both: the same)."""
        text = json.dumps(manifest, indent=1) + "\n"
        write_atomically(self.path / MANIFEST, lambda partial: partial.write_text(text, encoding="utf-8"))
        self.manifest = manifest
        journal = self.path / JOURNAL
        if journal.exists():
            journal.unlink()
            fsync_directory(self.path)


class StoreLock(DirectoryLock):
    """Refuses a second run on the store at ``directory`` while one is running
    (:class:`markov._files.DirectoryLock`). Take it before changing the store."""

    def __init__(self, directory: str | Path) -> None:
        super().__init__(directory, "store")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _excerpt(value, limit: int = 80) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[:limit] + "…"


def _checked_manifest(path: Path, manifest) -> dict:
    """``manifest`` if it is one a run writes; else :class:`InputError` naming the field
    (a manifest edited by hand, or damaged)."""
    def refuse(problem: str):
        raise InputError(f"{path}: {problem} (was it edited?); restore it, or delete {path.parent} to compute the "
                         f"PSA again")

    if not isinstance(manifest, dict):
        refuse(f"holds {_excerpt(repr(manifest), 60)}, not a JSON object")
    absent = [field for field in _MANIFEST_FIELDS if field not in manifest]
    if absent:
        refuse(f"lacks {', '.join(absent)}")
    if manifest["format"] != FORMAT:
        refuse(f"format is {_excerpt(repr(manifest['format']), 60)}; this version reads {FORMAT!r} (a store of an "
               f"earlier version cannot be read)")
    for field in ("analysis", "fingerprint", "inputs_fingerprint"):
        if not isinstance(manifest[field], str):
            refuse(f"{field} is {_excerpt(repr(manifest[field]), 60)}: must be text")
    for field, least in (("seed", 0), ("n_samples", 1), ("chunk_size", 1)):
        if type(manifest[field]) is not int or manifest[field] < least:
            refuse(f"{field} is {_excerpt(repr(manifest[field]), 60)}: must be a whole number of at least {least}")
    try:
        Plan(manifest["n_samples"], manifest["seed"], manifest["chunk_size"])
    except InputError as error:
        refuse(str(error))
    chunks = manifest["chunks"]
    if not isinstance(chunks, dict):
        refuse(f"chunks is {_excerpt(repr(chunks), 60)}: must map each chunk file to its checksum and draws")
    for name, entry in chunks.items():
        if not _is_chunk_record(name, entry):
            refuse(f"chunks[{_excerpt(repr(name), 40)}] is {_excerpt(repr(entry), 60)}: must give the file's sha256, "
                   f"start and stop")
    return manifest


def _is_chunk_record(name, entry) -> bool:
    """Whether ``entry`` records chunk file ``name``: its SHA-256 and its draws."""
    return bool(isinstance(name, str) and _CHUNK_NAME.fullmatch(name) and isinstance(entry, dict)
                and isinstance(entry.get("sha256"), str) and _SHA256.fullmatch(entry["sha256"])
                and all(type(entry.get(key)) is int for key in ("start", "stop")) and 0 <= entry["start"] < entry["stop"])


def _journal_records(path: Path) -> dict:
    """The chunk records of the journal at ``path`` (none if there is none), a later line
    over an earlier one. A last line without its newline was cut short by a crash: it
    records nothing. Any other line that is not a record refuses the store, naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: unreadable ({_excerpt(error)}); delete it to compute its chunks again") from None
    records = {}
    for number, line in enumerate(text.split("\n")[:-1], start=1):
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        name = record.pop("name", None) if isinstance(record, dict) else None
        if not _is_chunk_record(name, record):
            raise InputError(f"{path}: line {number} is {_excerpt(repr(line), 60)}, not a chunk's name, sha256, start "
                             f"and stop (was it edited?); delete it to compute its chunks again")
        records[name] = record
    return records
