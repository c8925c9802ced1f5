"""Per sampler family, the largest (V, L) whose exact law refimpl computes in under 5 minutes within
16 GiB (slow: minutes per family; not part of the test suite or of ``--quick``).

Each probe runs in its own process (``python -m benchmarks.largest --probe NAME V L``), which reports
its time and peak resident memory; L grows at V=4 until a probe exceeds 5 minutes or refimpl's memory
guard (set to 16 GiB) refuses it.  Targets (issue #9): Ancestral, 5 steps, at least V=4 L=10; LLaDA with
block_length 4 at least V=4 L=12 (16.7 million clean sequences).
Run: ``python -m benchmarks.largest [FAMILY ...] [--workers N]`` (N searches side by side; their timings then
share the machine).
"""
import argparse
import concurrent.futures
import functools
import json
import resource
import subprocess
import sys
import time

from tabulate import tabulate

from benchmarks.common import machine, write_result

TIME_LIMIT = 300.0
MEMORY_LIMIT = 16 * 2**30
START_LENGTH = 8
MAX_LENGTH = 14
TARGETS = {"Ancestral(5 steps)": 10, "LLaDA(block_length=4, 1 token/step, T=1)": 12}


def sampler(name, length):
    from refimpl import samplers as S

    return {
        "Ancestral(5 steps)": lambda: S.Ancestral(steps=5),
        "LLaDA(block_length=4, 1 token/step, T=1)": lambda: S.LLaDA(length, block_length=4, temperature=1.0),
        "FirstHitting()": lambda: S.FirstHitting(),
        "Dream(maskgit_plus, 4 steps, T=1)": lambda: S.Dream(4, "maskgit_plus", temperature=1.0),
        "Threshold(0.9, block_length=4, T=1)": lambda: S.Threshold(0.9, block_length=4, temperature=1.0),
        "LeftToRight()": lambda: S.LeftToRight(),
        "SemiAR(4, RandomK(2))": lambda: S.SemiAR(4, S.RandomK(2)),
    }[name]()


FAMILIES = ["Ancestral(5 steps)", "LLaDA(block_length=4, 1 token/step, T=1)", "FirstHitting()",
            "Dream(maskgit_plus, 4 steps, T=1)", "Threshold(0.9, block_length=4, T=1)", "LeftToRight()",
            "SemiAR(4, RandomK(2))"]


def probe(name, vocab_size, length):
    """Child process: build a Markov law (cheap at any L), time the exact law, report peak memory."""
    import numpy as np
    import refimpl
    from refimpl.laws import datasets

    with refimpl.memory_limit(MEMORY_LIMIT):
        rng = np.random.default_rng(0)
        transition = rng.dirichlet(np.ones(vocab_size), size=vocab_size)
        law = datasets.markov_chain(datasets.stationary(transition), transition, length)
        oracle = refimpl.oracle_denoiser(law)
        start = time.perf_counter()
        q = refimpl.exact_law(oracle, sampler(name, length), length, vocab_size)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak_bytes": peak, "total": float(q.sum())}))


def attempt(name, vocab_size, length, module="benchmarks.largest"):
    """One probe in its own process (``python -m MODULE --probe NAME V L``): its result, or why it stopped."""
    command = [sys.executable, "-m", module, "--probe", name, str(vocab_size), str(length)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIME_LIMIT + 60)
    except subprocess.TimeoutExpired:
        return {"length": length, "status": "over 5 minutes"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        status = "refused: over 16 GiB" if "memory limit" in last else f"failed: {last[:120]}"
        return {"length": length, "status": status}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    status = "ok" if result["seconds"] <= TIME_LIMIT else "over 5 minutes"
    return dict(result, length=length, status=status)


BLOCKED = {"LLaDA(block_length=4, 1 token/step, T=1)", "Threshold(0.9, block_length=4, T=1)", "SemiAR(4, RandomK(2))"}


def lengths(name):
    """Lengths to try: multiples of the block length for blockwise families."""
    step = 4 if name in BLOCKED else 1
    return [length for length in range(START_LENGTH, MAX_LENGTH + 1) if length % step == 0]


def search(name, vocab_size, status=None):
    """One family's row: L from START_LENGTH up until a probe fails or runs over the limit; ``status`` (a
    :class:`refimpl.cli.status.Status`) hears each probe as it starts."""
    tried = []
    for length in lengths(name):
        if status is not None:
            status(f"{name}: V = {vocab_size}, L = {length}")
        outcome = attempt(name, vocab_size, length)
        tried.append(outcome)
        if outcome["status"] != "ok":
            break
    best = [t for t in tried if t["status"] == "ok"]
    return {"family": name, "vocab_size": vocab_size, "tried": tried,
            "largest_length": best[-1]["length"] if best else None,
            "seconds": best[-1]["seconds"] if best else None,
            "peak_bytes": best[-1]["peak_bytes"] if best else None,
            "stopped_by": tried[-1]["status"] if tried[-1]["status"] != "ok" else f"search ends at L = {MAX_LENGTH}"}


def run(quick=False, families=None, vocab_size=4, workers=1):
    """Search every family (or only ``families``, keeping the others' rows from the last results file); with
    ``workers`` > 1 the families' searches run side by side (refimpl.experiments.executors.ordered_map), each
    probe still in a process of its own — the default is one at a time, so that no probe's time shares the
    machine's cores with another's."""
    import json as _json
    import os
    import pathlib

    from benchmarks.common import RESULTS, RESULTS_ENV

    previous = {}
    path = pathlib.Path(os.environ.get(RESULTS_ENV) or RESULTS) / "largest.json"
    if families and path.exists():
        previous = {row["family"]: row for row in _json.loads(path.read_text())["cases"]}
    from refimpl.cli.status import Status
    from refimpl.experiments.executors import ordered_map

    status = Status.for_arguments("benchmarks.largest", argparse.Namespace())  # a line per probe, as refimpl's commands
    searched = [name for name in FAMILIES if not families or name in families]
    executor = concurrent.futures.ThreadPoolExecutor(workers) if workers > 1 else None  # each probe its own process
    try:
        found = dict(zip(searched, ordered_map(functools.partial(search, vocab_size=vocab_size, status=status), searched,
                                               executor)))
    finally:
        status.close()
        if executor is not None:
            executor.shutdown()
    rows = [found[name] if name in found else previous[name] for name in FAMILIES if name in found or name in previous]
    return write_result("largest", {"quick": quick, "time_limit_seconds": TIME_LIMIT,
                                    "memory_limit_bytes": MEMORY_LIMIT, "cases": rows})


def targets(result):
    out = []
    for row in result["cases"]:
        goal = TARGETS.get(row["family"])
        if goal is not None:
            reached = row["largest_length"] or 0
            out.append((f"#9 largest exact {row['family']} (V=4)", f"L = {reached}", f"L >= {goal}",
                        "PASS" if reached >= goal else "MISS"))
    return out


def table(result):
    return tabulate([(r["family"], r["vocab_size"], r["largest_length"], r["seconds"],
                      (r["peak_bytes"] or 0) / 2**30, r["stopped_by"]) for r in result["cases"]],
                    headers=("family", "V", "largest L", "seconds", "peak GiB", "next L stopped by"),
                    floatfmt=".3g")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--probe"]:
        probe(argv[1], int(argv[2]), int(argv[3]))
        return
    workers = 1
    if "--workers" in argv:
        at = argv.index("--workers")
        workers, argv = int(argv[at + 1]), argv[:at] + argv[at + 2:]
    result = run(families=argv or None, workers=workers)
    print(f"machine: {machine()}")
    print(table(result))


if __name__ == "__main__":
    main()
