"""Batch PSA: chunks computed in this process, in local worker processes or on a Dask
cluster, each written to a results store (:mod:`markov.store`) as it finishes.

Draw ``i`` depends only on the seed and ``i`` (:mod:`markov.psa`), so the store ends
with the same bits whatever the backend, the number of workers, the chunk size or the
order in which chunks finish, and a run that was interrupted is resumed by running it
again: only missing chunks are computed. Workers compute; only this process writes.

Memory stays bounded whatever the number of draws: a worker holds one chunk's traces,
and this process holds at most a few finished chunks' results (about 50 kB per 100
draws) before they are written.
"""
from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from multiprocessing import get_context
from pathlib import Path

from threadpoolctl import threadpool_limits

from .._validate import InputError, check_count
from .._memory import reuse_freed_memory
from ..engine import use_one_fft_thread
from ..engine.memory import fault_in_heap_growth, reused_array_memory
from ..models import build_model
from ..inputs.load import ModelInputs
from .psa import Progress, evaluate_chunk
from .store import (
    Chunk,
    Plan,
    ResultsStore,
    StoreLock,
    code_fingerprint,
    model_fingerprint,
)

Task = tuple[int, int, int]  # chunk index, first draw, draw after the last


class WorkerFailed(RuntimeError):
    """A worker could not compute a chunk (it died, ran out of memory, or runs other
    code). The chunks already written are kept: the same run resumes from them."""


class InProcess:
    """Chunks one after another in this process (no setup, the default)."""

    workers = 1

    def map(self, inputs: ModelInputs, seed: int, tasks: list[Task]) -> Iterator[tuple[int, Chunk]]:
        model = build_model(inputs)
        with reused_array_memory():  # each chunk's arrays in the memory of the chunk before
            for index, start, stop in tasks:
                yield index, evaluate_chunk(inputs, seed, start, stop, model)

    def close(self) -> None:
        pass


# Each worker process builds the model once, at its first chunk of a run (the state is
# per process): a local worker serves one run, a Dask worker keeps the model of the run
# it last worked for.
_worker_state: dict = {}


def _set_up_worker() -> None:
    """FFTs and BLAS in one thread in this worker process (workers are one per core), and
    memory freed by a chunk kept for the next, the heap faulted in as it grows."""
    use_one_fft_thread()
    threadpool_limits(limits=1)
    reuse_freed_memory()
    fault_in_heap_growth()


def _start_worker() -> None:
    _set_up_worker()
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """End this worker when the process that started it is gone (killed with -9, say),
    instead of idling for ever."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _ready() -> None:
    """Nothing: what a worker is given first, so that it starts (and imports the package)
    before the first chunk."""


def _worker_chunk(inputs: ModelInputs, seed: int, task: Task) -> tuple[int, Chunk]:
    """One chunk in a local worker, which builds the model at its first (a pool serves one run).

    The inputs come with each chunk (about 0.2 MB pickled for the HCC model), not at
    start-up: starting a process waits until it has read what it is sent, and reading
    inputs imports the package, so inputs sent at start-up would start the workers one
    after the other (1.5 s each, measured)."""
    if "model" not in _worker_state:
        _worker_state["model"] = build_model(inputs)
    index, start, stop = task
    return index, evaluate_chunk(inputs, seed, start, stop, _worker_state["model"])


class LocalProcesses:
    """Chunks in ``workers`` processes on this machine (spawned, so each starts clean).

    At most two chunks per worker are queued at a time, so finished results never pile
    up in memory and an interruption loses at most the chunks being computed.
    """

    def __init__(self, workers: int) -> None:
        self.workers = check_count("workers", workers, 1)
        # the workers start now and import the package (over a second each) while this
        # process goes on: loading, the base case, the checks before the PSA
        self.pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
            self.workers, mp_context=get_context("spawn"), initializer=_start_worker)
        for _ in range(self.workers):
            self.pool.submit(_ready)

    def map(self, inputs: ModelInputs, seed: int, tasks: list[Task]) -> Iterator[tuple[int, Chunk]]:
        if self.pool is None:
            raise RuntimeError("these local processes were closed")
        first_done = partial(wait, return_when=FIRST_COMPLETED)
        yield from _in_window(tasks, partial(self.pool.submit, _worker_chunk, inputs, seed), first_done,
                              2 * self.workers)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def _in_window(tasks: list[Task], submit, first_done, window: int,
               backend_errors: tuple[type[BaseException], ...] = ()) -> Iterator[tuple[int, Chunk]]:
    """Results of ``tasks`` as they finish, with at most ``window`` submitted at a time
    (``submit(task)`` returns a future; ``first_done(futures)`` waits until at least one
    is done and returns ``(done, not_done)``), so finished results never pile up. A
    chunk's failure ends the run as :func:`_failure` says, except ``backend_errors``
    (the backend itself failed), raised as they are."""
    pending, queue = {}, iter(tasks)
    for task in _take(queue, window):
        pending[submit(task)] = task
    while pending:
        done, _ = first_done(list(pending))
        for future in done:
            task = pending.pop(future)
            try:
                result = future.result()
            except backend_errors:
                raise
            except Exception as error:  # noqa: BLE001 - any failure of a chunk ends the run in one line
                raise _failure(task, error) from error
            yield result
            for task in _take(queue, 1):
                pending[submit(task)] = task


def _failure(task: Task, error: Exception) -> Exception:
    """The error to report for a chunk that failed: an input error as it is, anything
    else as :class:`WorkerFailed` naming the chunk."""
    if isinstance(error, (InputError, WorkerFailed)):
        return error
    if isinstance(error, BrokenProcessPool):
        return WorkerFailed("a worker process died (out of memory? try a smaller --chunk-size); finished chunks are "
                            "kept: run the same command to resume")
    index, start, stop = task
    message = " ".join(str(error).split())
    return WorkerFailed(f"chunk {index} (draws {start}-{stop}): {type(error).__name__}: {message}; finished chunks "
                        f"are kept: run the same command to resume")


def _dask_chunk(inputs: ModelInputs, seed: int, task: Task, code: str, model: str) -> tuple[int, Chunk]:
    """One chunk on a Dask worker; ``code`` and ``model`` are the client's fingerprints."""
    # a worker keeps the model of the run it is working for, instead of rebuilding it per chunk
    if _worker_state.get("model_fingerprint") != model:
        # a worker with other code would compute other numbers: refuse rather than mix them
        if code_fingerprint() != code:
            raise WorkerFailed("a Dask worker runs another version of markov than the client; install the same "
                               "version on every worker")
        _worker_state.clear()
        _set_up_worker()
        _worker_state.update(model_fingerprint=model, model=build_model(inputs))
    index, start, stop = task
    return index, evaluate_chunk(inputs, seed, start, stop, _worker_state["model"])


class DaskCluster:
    """Chunks on a Dask distributed cluster (``tcp://host:port`` of its scheduler, or a
    ``distributed.Client``). Every worker needs the same version of this package; the
    inputs are sent once to each worker. Needs ``pip install "markov-hcc[dask]"``.
    """

    def __init__(self, scheduler) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise InputError('--scheduler needs Dask distributed: pip install "markov-hcc[dask]"') from None
        if isinstance(scheduler, Client):
            self.client, self._own = scheduler, False
            self.address = self.client.scheduler.address
        else:
            self.client, self._own = _connect(Client, str(scheduler)), True
            self.address = str(scheduler)
        self.workers = max(len(self.client.scheduler_info().get("workers", {})), 1)

    def map(self, inputs: ModelInputs, seed: int, tasks: list[Task]) -> Iterator[tuple[int, Chunk]]:
        from distributed import wait as dask_wait
        from distributed.comm import CommClosedError

        try:
            try:  # by a function every worker has (a function of this package would not even arrive)
                self.client.run(importlib.import_module, __name__)
            except ImportError as error:  # a worker's, sent back
                raise WorkerFailed(f"a Dask worker cannot import markov ({error}); install the same version of markov "
                                   f"on every worker") from error
            # before any chunk: a worker computes in a thread that its first task starts,
            # which then allocates from the heap that keeps freed memory
            self.client.run(_set_up_worker)
            shared = self.client.scatter(inputs, broadcast=True)
            code, model = code_fingerprint(), model_fingerprint(inputs)

            def submit(task: Task):
                return self.client.submit(_dask_chunk, shared, seed, task, code, model, pure=False)

            yield from _in_window(tasks, submit, partial(dask_wait, return_when="FIRST_COMPLETED"), 2 * self.workers,
                                  backend_errors=(CommClosedError, CancelledError, asyncio.CancelledError))
        except (InputError, WorkerFailed):
            raise
        except (Exception, asyncio.CancelledError) as error:  # the cluster, not a chunk, failed: one line
            message = " ".join(str(error).split())[:200]
            raise WorkerFailed(f"the Dask cluster at {self.address} stopped answering ({type(error).__name__}: "
                               f"{message}); finished chunks are kept: run the same command to resume") from error

    def close(self) -> None:
        if self._own:
            with contextlib.suppress(Exception, asyncio.CancelledError):  # a scheduler gone has nothing to close
                self.client.close()


#: Seconds to reach a Dask scheduler, including its handshake.
CONNECT_SECONDS = 30.0


def _connect(client_class, address: str):
    """A client of the scheduler at ``address``, or one line on why not. The connection
    runs in a thread with a deadline: something that accepts the connection but never
    answers as a Dask scheduler would otherwise hang the run."""
    outcome: dict = {}

    def connect() -> None:
        try:
            outcome["client"] = client_class(address, timeout=f"{CONNECT_SECONDS:g}s")
        except BaseException as error:  # noqa: BLE001 - reported below, in one line
            outcome["error"] = error

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(CONNECT_SECONDS + 5.0)
    if "client" in outcome:
        return outcome["client"]
    reason = "no answer" if thread.is_alive() else " ".join(str(outcome["error"]).split())[:200]
    raise InputError(f"--scheduler {address}: cannot reach a Dask scheduler there ({reason})")


def _take(queue: Iterator[Task], count: int) -> Iterable[Task]:
    for _ in range(count):
        task = next(queue, None)
        if task is None:
            return
        yield task


def backend_for(workers: int = 1, scheduler=None):
    """The backend for ``workers`` local processes (1: this process) or a Dask scheduler."""
    if scheduler is not None:
        if workers != 1:
            raise InputError("--workers and --scheduler: give one (a Dask cluster has its own workers)")
        return DaskCluster(scheduler)
    check_count("workers", workers, 1)
    return InProcess() if workers == 1 else LocalProcesses(workers)


def run_batch(inputs: ModelInputs, n: int, seed: int, directory: str | Path, *,
              chunk_size: int | None = None, workers: int = 1, scheduler=None, backend=None,
              progress: Progress | None = None, on_chunk: Callable[[int], None] | None = None) -> ResultsStore:
    """Run (or resume, or extend) the ``n``-draw PSA seeded ``seed`` into the results
    store at ``directory``.

    Parameters
    ----------
    inputs : ModelInputs
    n : int
        Number of draws, at least 1.
    seed : int
        0 or more.
    directory : path
        The store: created if new; if it holds this model's PSA with this seed, its
        finished chunks are kept and only the missing ones computed. A chunk that does
        not match its checksum is set aside and computed again, with a
        :class:`~markov.probabilistic.store.ChunkSetAside` warning naming it.
    chunk_size : int
        Draws per chunk for a new store (None:
        :func:`~markov.probabilistic.store.default_chunk_size`; a resumed store keeps its own).
    workers : int
        Local worker processes; 1 computes in this process.
    scheduler : str or distributed.Client, optional
        A Dask scheduler address such as ``tcp://10.0.0.5:8786``: compute on that cluster.
    backend : optional
        A backend already made by :func:`backend_for` (instead of ``workers`` and
        ``scheduler``), so that a caller can connect before it writes anything; it is
        closed here.
    progress : callable, optional
        Called as ``progress(draws_done, n)`` at the start and after each chunk.
    on_chunk : callable, optional
        Called with each chunk's index after it is written (tests use it to interrupt).

    Returns
    -------
    ResultsStore
        The complete store; read it with :func:`markov.psa.read_psa`.
    """
    plan = Plan(n, seed, chunk_size)
    try:
        ResultsStore.check(directory, inputs, plan)  # refuse before changing anything, even the lock
        backend = backend or backend_for(workers, scheduler)
        with StoreLock(directory):
            store = ResultsStore.create_or_resume(directory, inputs, plan)
            tasks = store.missing()
            n = plan.n_samples
            done = n - sum(stop - start for _, start, stop in tasks)
            if progress is not None:
                progress(done, n)
            for index, chunk in backend.map(inputs, plan.seed, tasks):
                store.write_chunk(index, chunk)
                done += chunk.stop - chunk.start
                if progress is not None:
                    progress(done, n)
                if on_chunk is not None:
                    on_chunk(index)
            store.finish()
    finally:
        if backend is not None:
            backend.close()
    return store
