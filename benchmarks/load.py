"""BLAS threads on a shared machine (issue #35): ``refimpl paper`` and the test suite timed quiet and with a
competing CPU-bound process (``python -c "while True: pass"``) on the other core, before and after the BLAS change,
side by side in one run.

- ``refimpl paper`` before: OpenBLAS's own default, ``OPENBLAS_THREAD_TIMEOUT=28`` (an idle BLAS thread spins for
  2**28 cycles before it sleeps); after: what the console script sets now, ``OPENBLAS_THREAD_TIMEOUT=4``.  The same
  threads do the same arithmetic, so the two outputs (``--json``) must be byte-identical: the table says so.
- The test suite (``python -m pytest``, pytest-xdist on every core) before: every worker with the machine's BLAS
  threads (``OPENBLAS_NUM_THREADS`` = cores, OpenBLAS's default); after: tests/conftest.py's one BLAS thread per
  worker.  ``--quick`` and the default run time a part of the suite (``tests/experiments``: the MLP trainings, where
  BLAS matters; ``benchmarks/results/load.json``); ``--full-suite`` times all of it (about 35 minutes on a 2-core
  machine; ``load-full-suite.json``).

The goal: under load, no more than 2x the quiet time.  Each cell is one run, after one warm-up run of ``refimpl
paper`` (imports cached); the competitor starts a second before each timed run and is killed after it.
Run: ``python -m benchmarks.load [--quick] [--full-suite]`` (not in ``python -m benchmarks``: it takes minutes).
"""
import hashlib
import os
import pathlib
import subprocess
import sys
import time

from tabulate import tabulate

from benchmarks.common import machine, verdict, write_result

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOAL_RATIO = 2.0
BLAS = ("OPENBLAS_NUM_THREADS", "OPENBLAS_THREAD_TIMEOUT", "GOTO_THREAD_TIMEOUT", "REFIMPL_TESTS_SET_BLAS")
PAPER = {"before": {"OPENBLAS_THREAD_TIMEOUT": "28"}, "after": {}}  # after: the console script's own setting
SUITE = {"before": {"OPENBLAS_NUM_THREADS": str(os.cpu_count() or 1)}, "after": {}}  # after: tests/conftest.py's


def _environment(extra):
    environment = {k: v for k, v in os.environ.items() if k not in BLAS}
    environment.update(extra)
    return environment


def _timed(argv, extra, loaded):
    """Wall and CPU seconds of one run of ``argv`` (CPU: the run's children, from os.times), its stdout's SHA-256."""
    competitor = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if loaded else None
    try:
        if competitor:
            time.sleep(1.0)
        before, start = os.times(), time.perf_counter()
        done = subprocess.run(argv, cwd=ROOT, env=_environment(extra), capture_output=True)
        seconds, after = time.perf_counter() - start, os.times()
    finally:
        if competitor:
            competitor.kill()
            competitor.wait()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return {"seconds": seconds, "cpu_seconds": cpu, "exit_code": done.returncode,
            "stdout_sha256": hashlib.sha256(done.stdout).hexdigest()}


def run(quick=False, full_suite=False):
    paper = [sys.executable, "-m", "refimpl", "paper", "--json", "--quiet"]
    suite = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"] + ([] if full_suite else
                                                                                ["tests/experiments"])
    subprocess.run(paper, cwd=ROOT, capture_output=True)  # warm-up
    cases = []
    for what, argv, settings in (("refimpl paper", paper, PAPER), ("python -m pytest" + (
            "" if full_suite else " tests/experiments"), suite, SUITE)):
        for loaded in (False, True):
            for change, extra in settings.items():
                print(f"  {what}, {'loaded' if loaded else 'quiet'}, {change} ...", file=sys.stderr, flush=True)
                cases.append({"what": what, "load": "loaded" if loaded else "quiet", "blas": change,
                              "environment": extra, **_timed(argv, extra, loaded)})
    name = "load-full-suite" if full_suite else "load"
    return write_result(name, {"quick": quick, "full_suite": full_suite, "goal_ratio": GOAL_RATIO, "cases": cases})


def _cell(result, what, load, blas):
    return next(c for c in result["cases"] if c["what"] == what and c["load"] == load and c["blas"] == blas)


def table(result):
    rows = []
    for what in dict.fromkeys(c["what"] for c in result["cases"]):
        quiet = _cell(result, what, "quiet", "after")["seconds"]
        for case in (c for c in result["cases"] if c["what"] == what):
            rows.append((what, case["load"], case["blas"], f"{case['seconds']:.1f}", f"{case['cpu_seconds']:.1f}",
                         f"{case['seconds'] / quiet:.2f}", case["exit_code"], case["stdout_sha256"][:12]))
    paper = [c for c in result["cases"] if c["what"] == "refimpl paper"]
    same = len({c["stdout_sha256"] for c in paper}) == 1
    return (tabulate(rows, headers=("command", "load", "BLAS", "wall s", "CPU s", "x quiet after", "exit",
                                    "stdout sha256")) +
            f"\nrefimpl paper --json byte-identical in all four runs: {'yes' if same else 'NO'}")


def targets(result):
    out = []
    for what in dict.fromkeys(c["what"] for c in result["cases"]):
        ratio = _cell(result, what, "loaded", "after")["seconds"] / _cell(result, what, "quiet", "after")["seconds"]
        out.append((f"#35 {what} under load / quiet", f"{ratio:.2f}x", f"<= {GOAL_RATIO:.0f}x",
                    verdict(ratio, GOAL_RATIO)))
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    result = run(quick="--quick" in argv, full_suite="--full-suite" in argv)
    print(f"machine: {machine()}")
    print(table(result))
    print(tabulate(targets(result), headers=("target", "measured", "goal", "")))


if __name__ == "__main__":
    main()
