"""The memory handlers of chunk loops. In a user's session (markov.engine.memory.reused_array_memory)
freed arrays lend their blocks to arrays of the same size made after, and nothing else
changes; in a process that runs the model in bulk (fault_in_heap_growth) the C library's
heap is faulted in at once as it grows."""
import subprocess
import sys
import threading

import numpy as np
import pytest

from markov import _engine
from markov.engine.memory import fault_in_heap_growth, reused_array_memory

handler_name = (np._core if hasattr(np, "_core") else np.core).multiarray.get_handler_name
SIZE = 200_000  # 1.6 MB: above the smallest block kept


@pytest.fixture(autouse=True)
def user_session(monkeypatch):
    """A process that reuse_freed_memory has not set up, whatever ran before in this one."""
    monkeypatch.setattr("markov._memory._kept", False)


def address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def test_an_array_freed_lends_its_block_to_the_next_of_its_size():
    handler = _engine.array_cache(1 << 30, 1024)
    before = _engine.set_memory_handler(handler)
    try:
        first = np.ones(SIZE)
        kept = address(first)
        del first
        assert _engine.array_cache_held(handler) == 8 * SIZE
        other = np.empty(SIZE + 1)  # another size: not lent
        again = np.empty(SIZE)
        assert address(again) == kept and address(other) != kept
        assert _engine.array_cache_held(handler) == 0
    finally:
        _engine.set_memory_handler(before)
        _engine.close_array_cache(handler)


def test_arrays_made_inside_use_the_cache_and_the_handler_before_is_restored():
    before = handler_name()
    with reused_array_memory():
        inside = np.ones(SIZE)
        assert handler_name(inside) == "markov_array_cache"
    assert handler_name() == before
    del inside  # made inside, freed after: back to the C library


def test_zeros_in_a_lent_block_are_zeros():
    with reused_array_memory():
        dirty = np.full(SIZE, 7.0)
        kept = address(dirty)
        del dirty
        zeros = np.zeros(SIZE)
        assert address(zeros) == kept  # by calloc, from the block that held 7s
        assert not zeros.any()


def test_what_is_kept_stays_within_its_limit_and_is_freed_on_closing():
    handler = _engine.array_cache(3 * 8 * SIZE, 1024)
    before = _engine.set_memory_handler(handler)
    try:
        arrays = [np.ones(SIZE) for _ in range(5)]
        small = np.ones(10)  # below the smallest kept: not kept
        del arrays, small
        assert _engine.array_cache_held(handler) == 3 * 8 * SIZE
        grown = np.ones(SIZE)
        grown.resize(2 * SIZE, refcheck=False)  # realloc of a lent block keeps its values
        assert grown[:SIZE].all() and grown.size == 2 * SIZE
    finally:
        _engine.set_memory_handler(before)
    _engine.close_array_cache(handler)
    assert _engine.array_cache_held(handler) == 0
    del grown  # freed after closing: not kept
    assert _engine.array_cache_held(handler) == 0


def test_the_handler_is_this_threads_only():
    seen = []
    with reused_array_memory():
        worker = threading.Thread(target=lambda: seen.append(handler_name(np.ones(SIZE))))
        worker.start()
        worker.join()
        assert handler_name(np.ones(SIZE)) == "markov_array_cache"
    assert seen == ["default_allocator"]


def test_an_error_inside_restores_the_handler_before():
    before = handler_name()
    with pytest.raises(RuntimeError, match="a chunk failed"), reused_array_memory():
        raise RuntimeError("a chunk failed")
    assert handler_name() == before


def test_nothing_changes_in_a_process_that_keeps_freed_memory_already(monkeypatch):
    monkeypatch.setattr("markov._memory._kept", True)  # as after reuse_freed_memory()
    before = handler_name()
    with reused_array_memory():
        assert handler_name(np.ones(SIZE)) == before


# in a fresh process, as the command line sets one up: arrays of 96 MB in all, from the heap,
# keep their values, and what they grew the heap by is faulted in where the kernel takes
# the advice (Linux 5.14), which a page of its own shows
_BULK_PROCESS = r"""
import ctypes, json, mmap
import numpy as np
from markov import _engine
from markov._memory import reuse_freed_memory
from markov.engine import memory
page = mmap.mmap(-1, mmap.PAGESIZE)
libc = ctypes.CDLL(None, use_errno=True)
libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
libc.sbrk.argtypes, libc.sbrk.restype = [ctypes.c_ssize_t], ctypes.c_void_p
advice_taken = libc.madvise(ctypes.addressof(ctypes.c_char.from_buffer(page)), mmap.PAGESIZE, 23) == 0
kept = reuse_freed_memory()
installed = memory.fault_in_heap_growth()
top = libc.sbrk(0)
arrays = [np.full(250_000, float(i)) for i in range(48)]  # 2 MB each: from the heap
grown = libc.sbrk(0) - top
right = all(float(a.sum()) == 250_000.0 * i for i, a in enumerate(arrays))
name = (np._core if hasattr(np, "_core") else np.core).multiarray.get_handler_name(arrays[0])
del arrays
print(json.dumps({"kept": kept, "installed": installed, "right": right, "name": name, "advice": advice_taken,
                  "grown": grown, "faulted": _engine.heap_faulted_bytes(memory._heap_faulting)}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the C library's heap is glibc's")
def test_a_bulk_process_faults_in_its_heap_as_it_grows(tmp_path):
    import json

    # run outside the source tree, whose package may not be built in place: the installed one
    done = subprocess.run([sys.executable, "-c", _BULK_PROCESS], cwd=tmp_path, capture_output=True, text=True,
                          check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    if not found["kept"]:
        pytest.skip("not glibc: freed memory is not kept, so nothing is faulted in")
    assert found["installed"] and found["right"] and found["name"] == "markov_heap_faulting"
    assert found["grown"] > 48e6  # most of the arrays took new heap
    if found["advice"]:
        assert found["faulted"] >= found["grown"] - 4096  # all of it, from the page the growth starts in
    else:  # the kernel refuses the advice: the handler stopped asking, arrays are as before
        assert found["faulted"] == 0


def test_a_users_session_keeps_its_handler():
    before = handler_name()
    assert fault_in_heap_growth() is False
    assert handler_name(np.ones(SIZE)) == before


def test_faulted_bytes_are_only_a_faulting_handlers():
    with pytest.raises(ValueError, match="not a handler from heap_faulting_handler"):
        _engine.heap_faulted_bytes(_engine.array_cache(1 << 20, 1024))
