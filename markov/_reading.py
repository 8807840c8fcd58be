"""Reading input files with bounded time and memory, whatever their size or shape.

Every file markov reads as input — analysis, model, evidence and network files, sidecars,
patient-level data, life tables — is read here, and every YAML document is parsed here
(:func:`read_yaml`), so one set of rules holds for all of them:

* only a regular file is opened (its target, for a symbolic link): a FIFO, a device such
  as ``/dev/zero`` or a directory is refused before it is opened, since reading one can
  block for ever or never end;
* a file holds at most :data:`MAX_INPUT_BYTES`;
* text is UTF-8 (a byte-order mark is allowed); an error names the byte offset and line;
* a YAML document has at most :data:`MAX_YAML_NODES` nodes once its aliases are expanded
  (a "billion laughs" document fails at once, not after exhausting memory), nests at most
  :data:`MAX_YAML_DEPTH` deep (no ``RecursionError``) and repeats no key of a mapping
  (YAML would keep the last silently). A merge key ``<<`` is not a repeat.

Errors are :class:`~markov._validate.InputError` naming the file and the rule, quoting at
most a short excerpt of any value (:func:`~markov._validate.excerpt`).
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
)

from ._validate import InputError, excerpt

#: The largest input file read, in bytes (the largest shipped file is under 20 kB).
MAX_INPUT_BYTES = 20 * 1024 * 1024
#: The most nodes a YAML document may have, each alias counted as the nodes it stands for
#: (the largest shipped document has about 550).
MAX_YAML_NODES = 100_000
#: The deepest nesting of mappings and lists in a YAML document (shipped files reach 14).
MAX_YAML_DEPTH = 100

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when PyYAML has it
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_bytes(path: str | Path, what: str = "file") -> bytes:
    """The bytes of the regular file ``path`` (at most :data:`MAX_INPUT_BYTES`).

    ``what`` names the file in errors (``"analysis file"``, ``"evidence file"`` …).
    """
    path = Path(path)
    try:
        status = os.stat(path)  # follows a symbolic link to what it points at, opening nothing
    except FileNotFoundError:
        raise InputError(f"{what} {str(path)!r} does not exist") from None
    except OSError as error:
        raise InputError(f"{path}: the {what} cannot be read ({error.strerror})") from None
    if not stat.S_ISREG(status.st_mode):
        raise InputError(f"{path}: the {what} is {_kind(status.st_mode)}; inputs are read from regular files only")
    _check_size(path, what, status.st_size)
    try:  # opened without blocking and checked again, in case the file was swapped since
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise InputError(f"{path}: the {what} cannot be read ({error.strerror})") from None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise InputError(f"{path}: the {what} is {_kind(os.fstat(handle.fileno()).st_mode)}; inputs are read "
                             f"from regular files only")
        data = handle.read(MAX_INPUT_BYTES + 1)  # a file that grows while read is still bounded
    _check_size(path, what, len(data))
    return data


def _check_size(path: Path, what: str, size: int) -> None:
    if size > MAX_INPUT_BYTES:
        raise InputError(f"{path}: the {what} is {size:,} bytes or more; an input file may hold at most "
                         f"{MAX_INPUT_BYTES:,} bytes ({MAX_INPUT_BYTES // 1024**2} MiB)")


def decode(data: bytes, path: str | Path, what: str = "file") -> str:
    """``data`` (the bytes of ``path``) as UTF-8 text; a byte-order mark is dropped."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InputError(f"{path}: the {what} is not UTF-8 text: byte 0x{data[error.start]:02x} at byte offset "
                         f"{error.start} (line {line}) cannot be decoded; save the file as UTF-8") from None


def read_text(path: str | Path, what: str = "file") -> str:
    """The UTF-8 text of the regular file ``path`` (:func:`read_bytes`, :func:`decode`)."""
    return decode(read_bytes(path, what), path, what)


def read_yaml(path: str | Path, what: str = "file"):
    """The content of the YAML file ``path``, parsed safely (plain data only: no tags that
    build Python objects) within the limits of this module."""
    return parse_yaml(read_text(path, what), str(path))


def parse_yaml(text: str, where: str):
    """The content of the YAML document ``text``; ``where`` names it in errors."""
    try:
        _check_shape(text, where)
        return yaml.load(text, Loader=_LOADER)  # a safe loader: plain data only
    except yaml.YAMLError as error:
        raise InputError(f"{where}: not valid YAML ({_one_line(error)})") from None


def _one_line(error: yaml.YAMLError) -> str:
    return " ".join(str(error).split())


def _check_shape(text: str, where: str) -> None:
    """Refuse a document too large once aliases are expanded, nested too deep, or with a
    key repeated in a mapping, reading its events once (no tree is built)."""
    expanded = 0  # nodes so far, each alias counted as the nodes of what it refers to
    sizes: dict[str, int] = {}  # anchor -> nodes of its node, once that node is complete
    open_anchors: set[str] = set()
    # per open collection: its anchor, nodes before it, and for a mapping the keys seen
    # (key text -> line) and whether the next node is a key
    stack: list[tuple[str | None, int, dict | None, list]] = []
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, CollectionEndEvent):
            anchor, before, _, _ = stack.pop()
            if anchor is not None:
                sizes[anchor] = expanded - before
                open_anchors.discard(anchor)
            continue
        if not isinstance(event, NodeEvent):
            continue
        line = event.start_mark.line + 1
        if stack and stack[-1][2] is not None:  # inside a mapping: keys and values alternate
            keys, turn = stack[-1][2], stack[-1][3]
            if turn[0] and isinstance(event, ScalarEvent) and not (event.value == "<<" and event.implicit[0]):
                if event.value in keys:
                    raise InputError(f"{where}: line {line}: key {excerpt(event.value)} appears twice in one mapping "
                                     f"(first on line {keys[event.value]}); YAML would keep only the last")
                keys[event.value] = line
            turn[0] = not turn[0]
        if isinstance(event, AliasEvent):
            if event.anchor in open_anchors:
                raise InputError(f"{where}: line {line}: alias *{event.anchor[:40]} refers to a node that contains "
                                 f"it (a cycle)")
            expanded += sizes.get(event.anchor, 1)
        else:
            expanded += 1
        if expanded > MAX_YAML_NODES:
            raise InputError(f"{where}: line {line}: more than {MAX_YAML_NODES:,} values once its aliases are "
                             f"expanded; an input file may hold at most that many")
        if isinstance(event, CollectionStartEvent):
            if len(stack) >= MAX_YAML_DEPTH:
                raise InputError(f"{where}: line {line}: nested more than {MAX_YAML_DEPTH} deep; an input file may "
                                 f"nest mappings and lists at most that deep")
            stack.append((event.anchor, expanded - 1,
                          {} if isinstance(event, MappingStartEvent) else None, [True]))
            if event.anchor is not None:
                open_anchors.add(event.anchor)
        elif isinstance(event, ScalarEvent) and event.anchor is not None:
            sizes[event.anchor] = 1
