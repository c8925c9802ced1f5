"""Sweeps on a process pool (issue #24): a 40-task frontier sweep (4 Dirichlet laws at V=3, L=8 x 10 sampler
settings, the oracle) run in this process and on a 2-process pool, side by side in one run after a warm-up,
alternating; target: the pool at least 1.7x faster than serial (ratio of the medians; the pool's start-up is in
its time).  Both give the same results.json bytes, checked here too.
Run: ``python -m benchmarks.sweeps`` (``--quick``: one round at L=6, which shows only that the runner works: its
tasks are too short for a pool to pay).
"""
import os
import shutil
import statistics
import tempfile
import time

from tabulate import tabulate

from benchmarks.common import run_main, smoke, verdict, write_result

GOAL_SPEEDUP = 1.7
SPEC = {"sweep": {"task": "frontier"},
        "laws": [{"data": "dirichlet", "vocab_size": 3, "length": 8, "seed": [0, 1, 2, 3]}],  # (L = 6 when quick)
        "samplers": [{"family": "llada", "steps": [2, 4, 8], "temperature": 1.0},
                     {"family": "threshold", "threshold": [0.5, 0.7, 0.9], "temperature": 1.0},
                     {"family": "factor", "factor": [1.0, 2.0], "temperature": 1.0},
                     {"family": "entropy_bound", "gamma": [0.5, 1.0], "temperature": 1.0}]}


def run(quick=False):
    from refimpl.experiments.sweep import sweep

    spec = dict(SPEC, laws=[dict(SPEC["laws"][0], length=6 if quick else 8)])
    if smoke():  # 4 tasks at L = 4: the runner works
        spec = dict(spec, laws=[dict(spec["laws"][0], length=4, seed=[0, 1])], samplers=spec["samplers"][:1])
        spec["samplers"] = [dict(spec["samplers"][0], steps=[2, 4])]
    folder = tempfile.mkdtemp(prefix="refimpl-sweep-bench-")
    times = {1: [], 2: []}
    outputs = {}
    try:
        sweep(spec, os.path.join(folder, "warm"), workers=1)  # warm-up: imports, the engine's workspaces
        for round_ in range(1 if quick else 3):
            for workers in (1, 2):
                target = os.path.join(folder, f"r{round_}-w{workers}")
                start = time.perf_counter()
                summary = sweep(spec, target, workers=workers)
                times[workers].append(time.perf_counter() - start)
                with open(summary["results"], "rb") as handle:
                    outputs[workers] = handle.read()
        tasks = summary["total"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    serial, pooled = statistics.median(times[1]), statistics.median(times[2])
    speedup = serial / pooled
    return write_result("sweeps", {"quick": quick, "tasks": tasks, "serial_seconds": serial, "pool_seconds": pooled,
                                   "speedup": speedup, "goal_speedup": GOAL_SPEEDUP, "identical": outputs[1] == outputs[2],
                                   "length": spec["laws"][0]["length"],
                                   "verdict": "MISS" if outputs[1] != outputs[2] else "info" if quick
                                   else verdict(speedup, GOAL_SPEEDUP, lower_is_better=False)})


def targets(result):
    return [(f"#24 {result['tasks']}-task frontier sweep (L={result['length']}), 2-process pool / serial",
             f"{result['speedup']:.3g}x",
             f">= {result['goal_speedup']}x", result["verdict"])]


def table(result):
    return tabulate([(result["tasks"], result["serial_seconds"], result["pool_seconds"], result["speedup"],
                      f">= {result['goal_speedup']}", result["identical"], result["verdict"])],
                    headers=("tasks", "serial s", "2-process pool s", "speed-up", "goal", "same bytes", ""),
                    floatfmt=".3g")


def main(argv=None):
    run_main(run, table, argv)


if __name__ == "__main__":
    main()
