r"""Studies that outgrow one run (issue #24): a sweep of exact computations as independent tasks on any
:class:`concurrent.futures.Executor` — a local process pool by default, a Dask cluster given its scheduler's
address (``dask[distributed]``: ``Client.get_executor()``), or in this process (``workers=1``).

Each task's result is written atomically to ``<results>/tasks/<key>.json`` as it finishes, so a sweep killed
and started again computes only what is missing.  A task that raises is written to ``<results>/failed/`` with
its inputs and the error, and the others go on; it is run again next time.  ``<results>/sweep.json`` holds the
sweep's identity (:func:`refimpl.experiments.sweep_spec.fingerprint`): a directory holding another sweep's
results is refused.  When every task is done, ``<results>/results.json`` lists them in the spec's order —
the same bytes whichever executor ran them (no timings in results; progress goes to ``progress``).
"""
import concurrent.futures
import dataclasses
import json
import os
import time
import typing

from ..core.errors import InvalidParameterError
from ..core.files import atomic_write_json
from ..core.types import Sampler
from ..denoisers import oracle_denoiser
from ..diffusion import schedules
from ..laws.datasets import named
from ..limits import parallelism_profile
from ..models.checkpoint import load
from ..samplers import registry
from .executors import InlineExecutor, local_executor
from .frontier import frontier_rows
from .sweep_spec import Task, build_sampler, expand, fingerprint, read_spec

SCHEMA = "refimpl-sweep-1"


def run_task(task: Task) -> dict:
    """The result of one task (JSON-ready, exact): a frontier row, or a parallelism profile."""
    law = named(**task.law)
    table = law.table
    if task.task == "limits":
        return {"profile": parallelism_profile(table)}
    if task.denoiser == "oracle":
        denoiser = oracle_denoiser(table)
    else:
        denoiser = load(task.denoiser)[0]
    row = frontier_rows(table, denoiser, [build_sampler(task.sampler)])[0]
    return {k: v for k, v in row.items() if k != "sampler"}


def _attempt(task: Task) -> tuple:
    """``(key, result, None)`` or ``(key, None, error)``: what a worker sends back (it never raises)."""
    try:
        return task.key, run_task(task), None
    except Exception as error:  # the task failed: report it with its inputs, let the others finish
        return task.key, None, f"{type(error).__name__}: {error}"


def _claim(results, tasks, spec_name):
    """Create or check ``<results>/sweep.json``: another sweep's directory is refused."""
    for folder in ("tasks", "failed"):
        os.makedirs(os.path.join(results, folder), exist_ok=True)
        for name in os.listdir(os.path.join(results, folder)):  # a write a kill cut short (atomic: never read)
            if name.endswith(".tmp"):
                os.remove(os.path.join(results, folder, name))
    manifest = os.path.join(results, "sweep.json")
    identity = fingerprint(tasks)
    if os.path.exists(manifest):
        with open(manifest, encoding="utf-8") as handle:
            held = json.load(handle)
        if held.get("fingerprint") != identity:
            raise InvalidParameterError(
                f"{results} holds the results of another sweep ({held.get('spec', '?')}, {held.get('tasks', '?')} "
                f"tasks); give this sweep ({spec_name}, {len(tasks)} tasks) a directory of its own")
        return
    atomic_write_json(manifest, {"schema": SCHEMA, "spec": spec_name, "fingerprint": identity, "tasks": len(tasks),
                                 "keys": [t.key for t in tasks]})


def sweep(spec: "str | os.PathLike | dict", results: str, workers: "int | None" = None, scheduler: "str | None" = None,
          executor: "concurrent.futures.Executor | None" = None, progress: "typing.TextIO | None" = None) -> dict:
    """Run the sweep ``spec`` (a path to a TOML or JSON file, or the parsed dict) into the directory ``results``.

    ``executor``: any :class:`concurrent.futures.Executor`; else ``scheduler`` (a Dask address), else a process
    pool of ``workers`` (default: every core; 1 runs in this process).  ``progress``: a text stream for the
    done / total / failed / time-left line.  Returns ``{"total", "done", "skipped", "failed": [{"inputs",
    "error"}], "results": path or None}`` — ``results.json`` is written only when every task is done.

    Parameters
    ----------
    spec : str, path or dict
        The sweep (module docstring of :mod:`refimpl.experiments.sweep_spec`).
    results : str
        The directory results go to (created; a directory holding another sweep is refused).
    workers : int, optional
        Processes (default every core; 1 runs here).
    scheduler : str, optional
        A Dask scheduler's address.
    executor : concurrent.futures.Executor, optional
        Any executor instead.
    progress : text stream, optional
        Where the progress line goes.

    Returns
    -------
    dict

    Examples
    --------
    >>> import json, os, tempfile, refimpl
    >>> spec = {"laws": [{"data": "coupled", "vocab_size": 4, "length": 2}],
    ...         "samplers": [{"family": "llada", "steps": [1, 2], "temperature": 1.0}]}
    >>> folder = os.path.join(tempfile.mkdtemp(), "results")
    >>> summary = refimpl.sweep(spec, folder, workers=1)
    >>> summary["total"], summary["done"]
    (2, 2)
    >>> rows = json.load(open(summary["results"]))["tasks"]
    >>> [round(row["result"]["kl_p_q"], 4) for row in rows]
    [0.6931, 0.0]
    """
    if isinstance(spec, (str, os.PathLike)):
        parsed, text = read_spec(str(spec))
        name = os.path.basename(str(spec))
    else:
        parsed, text, name = spec, "", "a spec"
    tasks = expand(parsed, text)
    close = lambda: None  # noqa: E731
    if executor is None:  # a Dask scheduler is reached, and workers checked, before anything is written
        executor, close = local_executor(workers, scheduler)
    try:
        _claim(results, tasks, name)
        path = lambda folder, task: os.path.join(results, folder, task.key + ".json")  # noqa: E731
        pending = [t for t in tasks if not os.path.exists(path("tasks", t))]
        failed, done, start = [], 0, time.perf_counter()
        by_key = {t.key: t for t in pending}
        for key, result, error in _outcomes(executor or InlineExecutor(), pending):
            task = by_key[key]
            if error is None:
                atomic_write_json(path("tasks", task), {"key": key, "inputs": task.inputs(), "result": result})
                if os.path.exists(path("failed", task)):
                    os.remove(path("failed", task))
                done += 1
            else:
                atomic_write_json(path("failed", task), {"key": key, "inputs": task.inputs(), "error": error})
                failed.append({"inputs": task.inputs(), "error": error})
            _report(progress, done + len(failed), len(pending), len(failed), len(tasks) - len(pending), start)
    finally:
        close()
    complete = all(os.path.exists(path("tasks", t)) for t in tasks)
    out = None
    if complete:
        out = os.path.join(results, "results.json")
        rows = []
        for task in tasks:
            with open(path("tasks", task), encoding="utf-8") as handle:
                rows.append(json.load(handle))
        atomic_write_json(out, {"schema": SCHEMA, "fingerprint": fingerprint(tasks), "tasks": rows})
    return {"total": len(tasks), "done": done, "skipped": len(tasks) - len(pending), "failed": failed, "results": out}


def sampler_entry(sampler: Sampler) -> dict:
    """A sampler as a spec entry: its family's name and the fields that differ from their defaults (a schedule by
    name, semi_ar's inner sampler as a table); a field a spec cannot hold (a ranking function, a schedule with
    parameters) is refused."""
    entry = {"family": registry.family_of(sampler).name}
    for field in dataclasses.fields(sampler):
        value = getattr(sampler, field.name)
        default = field.default if field.default is not dataclasses.MISSING else None
        if value == default:
            continue
        if schedules.name_of(value) is not None:
            value = schedules.name_of(value)
        elif dataclasses.is_dataclass(value) and field.name == "inner":
            value = sampler_entry(value)
        if not isinstance(value, (str, int, float, bool, type(None), dict)):  # (a list would be a grid axis)
            raise InvalidParameterError(f"{sampler!r}: its {field.name} {value!r} cannot be written in a sweep spec")
        entry[field.name] = value
    return entry


def frontier_sweep_rows(law: dict, samplers: typing.Iterable[Sampler], results: str, denoiser: str = "oracle",
                        **run) -> list:
    """:func:`refimpl.experiments.frontier.frontier_rows` for the named law ``law`` (its parameters) as a sweep
    into ``results`` (resumable; ``run``: :func:`sweep`'s ``workers``, ``scheduler``, ``progress``), in the
    samplers' order."""
    samplers = list(samplers)
    spec = {"sweep": {"task": "frontier", "denoiser": denoiser}, "laws": [law],
            "samplers": [sampler_entry(s) for s in samplers]}
    summary = sweep(spec, results, **run)
    if summary["failed"]:
        failure = summary["failed"][0]
        raise InvalidParameterError(f"{len(summary['failed'])} frontier settings failed, e.g. "
                                    f"{failure['inputs']['sampler']}: {failure['error']}")
    with open(summary["results"], encoding="utf-8") as handle:
        rows = json.load(handle)["tasks"]
    return [dict(row["result"], sampler=repr(s)) for row, s in zip(rows, samplers)]


def _outcomes(executor, pending):
    """Each task's ``(key, result, error)`` as it finishes (in this process: one task at a time, so that each
    result is written before the next task starts)."""
    if isinstance(executor, InlineExecutor):
        for task in pending:
            yield _attempt(task)
        return
    futures = [executor.submit(_attempt, task) for task in pending]
    for future in concurrent.futures.as_completed(futures):
        yield future.result()


def _report(stream, finished, pending, failed, skipped, start):
    if stream is None:
        return
    elapsed = time.perf_counter() - start
    left = elapsed / finished * (pending - finished) if finished else float("nan")
    stream.write(f"\rsweep: {finished}/{pending} run ({skipped} already done), {failed} failed, "
                 f"{elapsed:.1f} s, about {left:.0f} s left" + ("\n" if finished == pending else ""))
    stream.flush()


