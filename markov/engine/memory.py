"""Memory of the arrays of a chunk loop: in a user's session, and in a process that runs
the model in bulk."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from .. import _engine
from .._memory import keeps_freed_memory

# blocks kept for arrays made later: at most this much in all, each at least the smallest
# (below it the C library's heap serves them without new pages)
KEPT_ARRAY_BYTES, SMALLEST_KEPT_ARRAY_BYTES = 1024**3, 64 * 1024
_heap_faulting = None  # the handler of fault_in_heap_growth, made once per process


@contextlib.contextmanager
def reused_array_memory() -> Iterator[None]:
    """Inside, numpy arrays freed keep their memory for arrays of the same size made
    after (up to 1 GiB in all), instead of handing it back to the C library, which may
    return it to the system and take fresh pages, zeroed one by one, for the next chunk
    of draws. For a chunk loop in a user's session (the Python API), where
    :func:`markov._memory.reuse_freed_memory` does not apply: on the HCC base case that
    loop ran 1,213-1,249 draws per CPU second with about 800,000 page faults per 9,000
    draws, and inside this 1,380-1,469 with about 7,000, at about 100 MB more peak
    memory. What is kept is freed on leaving. The memory handler is numpy's for the
    current context (thread or task) only; the one before is restored on leaving. Nothing
    changes in a process that keeps freed memory already (the command line's, a worker):
    there the cache would only hold memory the C library keeps too.
    """
    if keeps_freed_memory():
        yield
        return
    handler = _engine.array_cache(KEPT_ARRAY_BYTES, SMALLEST_KEPT_ARRAY_BYTES)
    before = _engine.set_memory_handler(handler)
    try:
        yield
    finally:
        _engine.set_memory_handler(before)
        _engine.close_array_cache(handler)


def fault_in_heap_growth() -> bool:
    """In a process that keeps freed memory (:func:`markov._memory.reuse_freed_memory`:
    the command line's, a worker), make numpy's arrays of this context (thread or task)
    come from a handler that faults in the C library's heap at once each time it grows,
    instead of page by page as arrays first write to it. A process's first chunk of
    draws grows the heap by the model's working memory and, faulted page by page, cost
    several times as much: on the HCC base case a fresh process's first 500-draw block
    took 480-522 ms, and with this 301-345 ms, at the same peak memory; later blocks
    reuse the heap and fault in nothing. Linux 5.14 or later (elsewhere the handler stops
    asking at the first refusal). Returns whether the handler was set (not in a user's
    session, where :func:`reused_array_memory` keeps arrays' memory instead).
    """
    global _heap_faulting
    if not keeps_freed_memory():
        return False
    if _heap_faulting is None:
        _heap_faulting = _engine.heap_faulting_handler()
    _engine.set_memory_handler(_heap_faulting)
    return True
