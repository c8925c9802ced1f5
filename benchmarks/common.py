"""Shared benchmark plumbing: the machine, warm-up-then-repeat timing, result files."""
import os
import pathlib
import platform
import statistics
import time

import numpy as np

from refimpl.files import atomic_write_json

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


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
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return {"min": min(times), "median": statistics.median(times), "max": max(times), "repeats": repeats}


def verdict(value, goal, lower_is_better=True):
    ok = value <= goal if lower_is_better else value >= goal
    return "PASS" if ok else "MISS"


def write_result(name, payload):
    """``benchmarks/results/<name>.json`` with the machine recorded, written atomically."""
    payload = dict(payload, machine=machine(), benchmark=name)
    atomic_write_json(RESULTS / f"{name}.json", payload)
    return payload
