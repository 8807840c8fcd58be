"""How a process that runs the model in bulk (the command line, a batch worker) manages
the memory it frees."""
from __future__ import annotations

import ctypes
import ctypes.util

# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8
_MMAP_THRESHOLD_BYTES = 32 * 1024**2  # glibc's largest
_TRIM_THRESHOLD_BYTES = 1024**3
_kept = False  # whether reuse_freed_memory has set this process up


def reuse_freed_memory() -> bool:
    """Keep memory freed by one chunk of draws for the next, instead of handing it back
    to the system and having it zeroed again page by page (about 10% of the model's time
    on the HCC base case). Arrays of up to 32 MiB come from the heap, which keeps up to
    1 GiB free at its top: a run's memory stays at its high-water mark, which repeats
    from chunk to chunk. For processes of the package's own (not a user's session:
    there, :func:`markov.engine.memory.reused_array_memory` keeps arrays' memory for a
    chunk loop). A Dask worker needs it most: its nanny starts it with
    ``MALLOC_TRIM_THRESHOLD_=65536``, which also turns off glibc's adaptive mmap
    threshold, so that every temporary array over 128 kB was mapped and unmapped page by
    page (the model ran 1.7 times slower there).

    Threads started from now on allocate from that same heap, instead of each from an
    arena of its own, whose heaps go back to the system whenever a chunk frees all of
    one, whatever the thresholds. A Dask worker computes in such a thread: there 10,000
    draws of the HCC model took 360,000 to 690,000 page faults instead of about 900, and
    18% more CPU time. A thread that has allocated already keeps its arena.

    Returns whether the C library took the settings (glibc only; elsewhere nothing
    changes).
    """
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    global _kept
    _kept = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES) and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES)
                 and mallopt(_M_ARENA_MAX, 1))
    return _kept


def keeps_freed_memory() -> bool:
    """Whether :func:`reuse_freed_memory` has set this process up."""
    return _kept
