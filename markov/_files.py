"""Files written whole or not at all, and one writer per directory.

Every file markov writes (tables, figures, reports, run records, PSA chunks and
manifests) goes through :func:`write_atomically`: written under a temporary name in
the same directory, flushed to disk, then renamed, so a file under its final name is
always complete, whether the disk fills, the process is killed or the machine stops.
A failed write removes its temporary file; one left by ``kill -9`` is recognised
(:func:`is_temporary`), never mistaken for a result, and removed by the next writer
(:func:`remove_temporary_files`).

A journal of records (the PSA store's checksums) grows by lines instead:
:func:`append_durably` flushes each line to disk, and a line a crash cut short is the
last one, without its newline.

:class:`DirectoryLock` lets one process at a time write into a directory.
"""
from __future__ import annotations

import fcntl
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ._validate import InputError

if TYPE_CHECKING:  # Python 3.11 on; annotations are not evaluated
    from typing import Self

#: The lock file of a directory (:class:`DirectoryLock`).
LOCK = ".lock"
_TEMPORARY_SUFFIX = ".tmp"


def write_atomically(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write`` with a temporary name beside ``path``, flush what it wrote to disk
    and rename it to ``path`` (creating ``path``'s directory). If ``write`` fails (a full
    disk, say), the temporary file is removed and nothing is left under ``path``'s name
    but what was there before; an :class:`OSError` then names ``path``. Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{socket.gethostname()}-{os.getpid()}{_TEMPORARY_SUFFIX}")
    try:
        write(partial)
        descriptor = os.open(partial, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        if error.errno is None:
            raise
        raise OSError(error.errno, error.strerror, str(path)) from error  # the file meant, not the temporary one
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)
    return path


def append_durably(path: str | Path, line: str) -> None:
    """Append ``line`` (ending in a newline) to ``path``, created if absent, and flush it
    to disk. If that fails (a full disk), the :class:`OSError` names ``path``."""
    path = Path(path)
    new = not path.exists()
    try:
        with open(path, "a", encoding="utf-8") as file:
            file.write(line)
            file.flush()
            os.fsync(file.fileno())
    except OSError as error:
        if error.errno is None:
            raise
        raise OSError(error.errno, error.strerror, str(path)) from error
    if new:
        fsync_directory(path.parent)


def write_bytes_atomically(path: str | Path, data: bytes) -> Path:
    """:func:`write_atomically` of ``data``."""
    return write_atomically(path, lambda partial: partial.write_bytes(data))


def is_temporary(name: str) -> bool:
    """Whether a file named ``name`` is a temporary file of :func:`write_atomically`."""
    return name.startswith(".") and name.endswith(_TEMPORARY_SUFFIX)


def remove_temporary_files(directory: str | Path) -> None:
    """Delete the temporary files a killed writer left in ``directory`` (not below it).
    Call it holding the directory's :class:`DirectoryLock`: no other writer is at work."""
    directory = Path(directory)
    if directory.is_dir():
        for path in directory.iterdir():
            if is_temporary(path.name) and path.is_file():
                path.unlink(missing_ok=True)


def is_bookkeeping(name: str) -> bool:
    """Whether ``name`` is a file markov keeps beside results (its lock, a temporary file),
    not a result: a directory holding only these is empty."""
    return name == LOCK or is_temporary(name)


def fsync_directory(path: Path) -> None:
    """Make a rename in ``path`` durable."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class DirectoryLock:
    """While held, no other process can take the lock of ``directory``: a second writer
    is refused with :class:`InputError` naming the holder.

    The lock is the kernel's (``flock`` on ``directory/.lock``), so it ends with its
    process however the process ends, ``kill -9`` included. Within a thread it is
    re-entrant: a command holding it can call a writer that takes it again. The lock
    file stays (deleting it would race a new holder).

    Parameters
    ----------
    directory : str or Path
        Created if missing.
    what : str
        What the directory is, for the message (``"results directory"``, ``"store"``).
    """

    _held = threading.local()

    def __init__(self, directory: str | Path, what: str) -> None:
        self.directory, self.what = Path(directory), what
        self.path = self.directory / LOCK
        self._key = ""

    def __enter__(self) -> Self:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._key = os.path.realpath(self.path)
        held = self._held.__dict__.setdefault("locks", {})
        if self._key in held:
            held[self._key][1] += 1
            return self
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = "".join(c for c in handle.read(200) if c.isprintable()).strip() or "another process"
            handle.close()
            raise InputError(f"{self.directory}: another run is writing to this {self.what} ({holder}); wait for it "
                             f"to finish or write elsewhere") from None
        try:  # who holds it, for the message of a writer refused (informative only)
            handle.seek(0)
            handle.truncate()
            handle.write(f"process {os.getpid()} on {socket.gethostname()}")
            handle.flush()
        except OSError:
            pass
        held[self._key] = [handle, 1]
        return self

    def __exit__(self, *_) -> None:
        held = self._held.locks
        entry = held[self._key]
        entry[1] -= 1
        if entry[1] == 0:
            del held[self._key]
            entry[0].close()  # releases the lock
