"""The test suite's wall time (issue #34: under 3 minutes on 2 cores, quiet): ``python -m pytest`` (what ``.ci/run``
runs) in a subprocess, timed, with the machine's load average before and after (``os.getloadavg``: the mean
number of runnable processes over 1, 5 and 15 minutes — near 0 is quiet, near 2 on two cores means another job
took half the machine) and the ten slowest tests (``--durations``).  A timing, never an assertion: the suite
itself asserts none.  Run: ``python -m benchmarks.suite`` (not in ``--quick``: it takes minutes).
"""
import os
import pathlib
import re
import subprocess
import sys
import time

from tabulate import tabulate

from benchmarks.common import run_main, verdict, write_result

GOAL_SECONDS = 180.0
ROOT = pathlib.Path(__file__).resolve().parent.parent


def run(quick=False):
    before = os.getloadavg()
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=10"], cwd=ROOT,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = os.getloadavg()
    summary = next((line for line in reversed(done.stdout.splitlines()) if " in " in line and "passed" in line), "")
    slowest = re.findall(r"^([\d.]+)s (call|setup|teardown)\s+(\S+)", done.stdout, re.M)
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", done.stdout, re.M)
    return write_result("suite", {"quick": quick, "seconds": seconds, "exit_code": done.returncode, "summary": summary,
                                  "load_before": list(before), "load_after": list(after), "goal_seconds": GOAL_SECONDS,
                                  "slowest": [{"seconds": float(s), "phase": p, "test": t} for s, p, t in slowest],
                                  "failed": failed,
                                  "cases": [summary]})


def table(result):
    rows = [("python -m pytest", f"{result['seconds']:.1f} s", result["summary"], result["exit_code"]),
            ("load average before (1, 5, 15 min)", " / ".join(f"{v:.2f}" for v in result["load_before"]), "", ""),
            ("load average after", " / ".join(f"{v:.2f}" for v in result["load_after"]), "", "")]
    rows += [(f"  {row['test']} ({row['phase']})", f"{row['seconds']:.1f} s", "", "") for row in result["slowest"]]
    rows += [(f"  failed: {name}", "", "", "") for name in result["failed"]]
    return tabulate(rows, headers=("", "seconds", "pytest says", "exit"))


def targets(result):
    return [("#34 test suite wall time (python -m pytest, 2 cores)", f"{result['seconds']:.0f} s",
             f"<= {GOAL_SECONDS:.0f} s", verdict(result["seconds"], GOAL_SECONDS))]


def main(argv=None):
    run_main(run, table, argv)


if __name__ == "__main__":
    main()
