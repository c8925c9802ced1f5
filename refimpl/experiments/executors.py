"""Where the exact computations run (issue #24): in this process, on a local process pool, or on a Dask cluster
(``dask[distributed]``: ``Client.get_executor()``), behind :class:`concurrent.futures.Executor`."""
import concurrent.futures
import contextlib
import multiprocessing
import os
import typing

from ..core import validate
from ..core.errors import InvalidParameterError


class InlineExecutor(concurrent.futures.Executor):
    """Runs each task when it is submitted, in this process (``workers=1``)."""

    def submit(self, fn, /, *args, **kwargs):
        future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # (as a pool would report it)
            future.set_exception(error)
        return future


def dask_executor(address: str, timeout: str = "10s") -> tuple:
    """``(client, client.get_executor())``; an address no scheduler answers on within ``timeout`` is refused,
    naming it."""
    try:
        from distributed import Client
    except ImportError:
        raise InvalidParameterError("a Dask scheduler needs dask[distributed]: pip install 'refimpl[dask]'") from None
    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError) as error:
        raise InvalidParameterError(f"no Dask scheduler answers at {address}: {error}") from None
    return client, client.get_executor()


def ordered_map(fn: typing.Callable, items: typing.Iterable, executor: "concurrent.futures.Executor | None" = None,
                progress: "typing.Callable | None" = None) -> list:
    """``[fn(item) for item in items]``, on ``executor`` when given (any :class:`concurrent.futures.Executor`:
    ``fn`` and the items must pickle for a process pool), the results in the items' order whatever order they
    finish in — how the frontier, the prescriptions grid and the largest-problem search run their cells
    side by side.  ``progress(done, total)``, if given, after each result (in this process, in the items' order)."""
    items = list(items)
    futures = None if executor is None or len(items) <= 1 else [executor.submit(fn, item) for item in items]
    results = []
    for k, item in enumerate(items):
        results.append(fn(item) if futures is None else futures[k].result())
        if progress is not None:
            progress(len(results), len(items))
    return results


def local_executor(workers: "int | None" = None, scheduler: "str | None" = None) -> tuple:
    """``(executor, close)``: a Dask cluster's executor given its scheduler's address, else a process pool of
    ``workers`` (default: every core), else None for ``workers=1`` (run in this process)."""
    if scheduler is not None:
        client, executor = dask_executor(scheduler)
        return executor, client.close
    count = validate.integer(workers, "workers", 1) if workers is not None else os.cpu_count() or 1
    if count == 1:
        return None, lambda: None
    pool = concurrent.futures.ProcessPoolExecutor(count)
    return pool, pool.shutdown


BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def single_threaded_pool(workers: int) -> typing.Iterator[concurrent.futures.ProcessPoolExecutor]:
    """A process pool (fresh interpreters) whose workers' BLAS runs one thread each, for tasks made of small matrix
    products (training MLPs): with two BLAS threads in each of two workers on two cores the threads spin against
    each other — ``refimpl paper``'s four trainings took 152 s on two workers against 55 s in one process, and 37 s
    on two workers with one BLAS thread each (docs/PERFORMANCE.md).  The variables are set only while the block
    runs, so submit the tasks inside it (a worker starts with the environment of its first task's submission)."""
    saved = {name: os.environ.get(name) for name in BLAS_THREADS}
    os.environ.update({name: "1" for name in BLAS_THREADS})
    pool = concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield pool
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        pool.shutdown()
