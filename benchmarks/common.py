"""Shared benchmark plumbing: the machine, warm-up-then-repeat timing, result files."""
import os
import pathlib
import platform
import statistics
import time

import numpy as np
from refimpl.core.files import atomic_write_json
from refimpl.reports.labels import sampler_label

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
RESULTS_ENV = "REFIMPL_BENCH_RESULTS"  # another folder for the result files (tests use a temporary one)
SMOKE_ENV = "REFIMPL_BENCH_SMOKE"  # "1": every benchmark at its smallest, to show the runner works (the tests)


def smoke():
    """Whether this is a smoke run (``python -m benchmarks --smoke``): one repeat, the smallest sizes — numbers
    that show the benchmarks run and record their machine, and nothing about speed."""
    return os.environ.get(SMOKE_ENV) == "1"


def machine():
    """CPU model, cores, Python, numpy and the BLAS numpy uses."""
    cpu = platform.processor() or "unknown"
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = "unknown"
    try:
        config = np.show_config(mode="dicts")
        blas_info = config.get("Build Dependencies", {}).get("blas", {})
        blas = f"{blas_info.get('name', '?')} {blas_info.get('version', '')}".strip()
    except Exception:  # numpy < 1.26 has no mode="dicts"; the BLAS name is then not recorded
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "blas": blas, "platform": platform.platform()}


def timed(fn, repeats=3, warmup=1):
    """Run ``fn`` ``warmup`` times untimed, then ``repeats`` times; returns min/median/max seconds."""
    if smoke():
        repeats, warmup = 1, 0
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return {"min": min(times), "median": statistics.median(times), "max": max(times), "repeats": repeats}


def timed_alternating(fns, rounds=10, per_round=20, warmup=5):
    """Time several step functions side by side: ``rounds`` rounds, each running every fn
    ``warmup + per_round`` times in turn and timing the last ``per_round``.

    Alternating blocks (not one fn after the other) spreads the machine's slow spells over all of
    them; whole blocks (not single calls) keep one library's idle threads (OpenMP, OpenBLAS spin
    after their work) from landing in the other's timings.  Returns one min/median/max dict per fn.
    """
    if smoke():
        rounds, per_round, warmup = 1, 1, 0
    times = [[] for _ in fns]
    for _ in range(rounds):
        for fn, out in zip(fns, times):
            for k in range(warmup + per_round):
                start = time.perf_counter()
                fn()
                if k >= warmup:
                    out.append(time.perf_counter() - start)
    return [{"min": min(t), "median": statistics.median(t), "max": max(t), "repeats": len(t)} for t in times]


def verdict(value, goal, lower_is_better=True):
    ok = value <= goal if lower_is_better else value >= goal
    return "PASS" if ok else "MISS"


def write_result(name, payload):
    """``benchmarks/results/<name>.json`` with the machine recorded, written atomically."""
    payload = dict(payload, machine=machine(), benchmark=name)
    folder = pathlib.Path(os.environ.get(RESULTS_ENV) or RESULTS)
    atomic_write_json(folder / f"{name}.json", payload)
    return payload


def multiply_add_throughput(size=1 << 22, repeats=5):
    """Elements per second of ``a * b + c`` (float64, preallocated output) on this machine, now."""
    rng = np.random.default_rng(0)
    a, b, c = rng.random(size), rng.random(size), rng.random(size)
    out = np.empty(size)

    def fma():
        np.multiply(a, b, out=out)
        np.add(out, c, out=out)

    return size / timed(fma, repeats=repeats)["median"]


def monte_carlo_samples_for_tv(law, tv_error):
    r"""Samples n with expected TV(empirical, law) = ``tv_error``: E TV ~ sum_x sqrt(q(1-q) / (2 pi n))."""
    q = np.asarray(law).ravel()
    spread = np.sum(np.sqrt(q * (1 - q) / (2 * np.pi)))
    return int(np.ceil((spread / tv_error) ** 2))


def exact_case(sampler, vocab_size, length, repeats, fma_rate, probe=20000):
    """Time the exact law of ``sampler`` with the oracle of a Dirichlet law, count its transition
    entries, and what Monte Carlo needs for TV 0.01 and 0.001 (time extrapolated from ``probe`` draws)."""
    import refimpl
    from refimpl.laws import datasets

    if smoke():
        length, probe = min(length, 5), min(probe, 200)
    law = datasets.dirichlet(vocab_size, length, np.random.default_rng(0))
    oracle = refimpl.oracle_denoiser(law)
    runs = []

    def compute():
        result = refimpl.engine.run(refimpl.engine.problem(oracle, sampler, length, vocab_size))
        runs.append((result.finished(), result.stats))

    seconds = timed(compute, repeats=repeats, warmup=1 if repeats > 1 else 0)
    result, stats = runs[-1]
    rate = stats.entries / seconds["median"]
    drawn = min(probe, monte_carlo_samples_for_tv(result, 0.01))
    start = time.perf_counter()
    refimpl.sample(oracle, sampler, drawn, np.random.default_rng(1), length, vocab_size)
    per_sample = (time.perf_counter() - start) / drawn
    out = {"sampler": repr(sampler), "label": sampler_label(sampler), "vocab_size": vocab_size, "length": length,
           "seconds": seconds,
           "entries": stats.entries, "entries_per_second": rate, "ratio_to_multiply_add": rate / fma_rate,
           "mc_seconds_per_sample": per_sample, "mc_probe_samples": drawn}
    for error in (0.01, 0.001):
        needed = monte_carlo_samples_for_tv(result, error)
        out[f"mc_samples_for_tv_{error}"] = needed
        out[f"mc_seconds_for_tv_{error}"] = needed * per_sample
    return out


def run_main(run, table, argv=None, header=None):
    """The ``python -m benchmarks.NAME [--quick]`` entry point every benchmark module shares."""
    import sys

    argv = sys.argv[1:] if argv is None else argv
    result = run(quick="--quick" in argv)
    print(f"machine: {machine()}" + (f"  {header(result)}" if header else ""))
    print(table(result))
