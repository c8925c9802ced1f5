"""``python -m benchmarks [--quick | --smoke]``: every benchmark, its tables, result files, and a PASS/MISS summary
of every performance target of issues #3, #4, #5, #9, #21, #23, #24, #34, #37, #38 and #39 (and #22's costs, as information).
``--smoke``: every benchmark at its smallest, one repeat — it shows that the runner and each benchmark work
(tests/test_benchmarks.py runs it), and says nothing about speed.  ``--quick``
(under 2 minutes) skips the slow cases (Ancestral at V=4 L=10, the largest-problem search) and the slow checks;
``--reuse-largest`` prints the last largest-problem search (benchmarks/results/largest.json) instead of rerunning it (about
20 minutes).  A full run ends with the checks marked ``slow`` (``python -m pytest -m slow``), which the
test suite leaves out."""
import json
import os
import pathlib
import subprocess
import sys
import time

from tabulate import tabulate

from benchmarks import (
    families,
    frontier,
    imports,
    largest,
    limits,
    oracle,
    precision,
    revise,
    samplers,
    serving,
    serving_findings,
    stages,
    suite,
    sweeps,
    theory,
    training,
    uniform,
)
from benchmarks.common import RESULTS, RESULTS_ENV, SMOKE_ENV, machine


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--smoke" in argv:  # every benchmark at its smallest: the runner works (tests/test_benchmarks.py)
        os.environ[SMOKE_ENV] = "1"
    quick = "--quick" in argv or "--smoke" in argv
    start = time.perf_counter()
    print(f"machine: {machine()}")
    summary = []
    modules = [("oracle", oracle), ("samplers", samplers), ("stages", stages), ("families", families),
               ("frontier", frontier), ("revise", revise), ("training", training), ("precision", precision),
               ("limits", limits), ("sweeps", sweeps), ("imports", imports), ("serving", serving),
               ("serving_findings", serving_findings), ("uniform", uniform),
               ("theory", theory)]
    reuse_largest = "--reuse-largest" in argv  # print the last largest-problem search instead of rerunning it
    if not quick:
        modules += [("largest", largest), ("suite", suite)]
    for name, module in modules:
        print(f"\n== {name} ==", flush=True)
        if name == "largest" and reuse_largest:
            result = json.loads((pathlib.Path(os.environ.get(RESULTS_ENV) or RESULTS) / "largest.json").read_text())
            print(f"(from the search of {result.get('machine', {}).get('cpu', '?')}, benchmarks/results/largest.json)")
        else:
            result = module.run(quick=quick)
        print(module.table(result), flush=True)
        if hasattr(module, "targets"):
            summary.extend(module.targets(result))
    print("\n== targets ==")
    print(tabulate(summary, headers=("target", "measured", "goal", "")))
    status = 0
    if not quick:
        print("\n== slow checks (python -m pytest -m slow) ==", flush=True)
        status = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "slow", "-p", "no:cacheprovider"],
                                cwd=pathlib.Path(__file__).resolve().parent.parent).returncode
    kind = "smoke: the verdicts above say nothing about speed" if "--smoke" in argv else "quick" if quick else "full"
    print(f"\nbenchmarks finished in {time.perf_counter() - start:.1f} s ({kind}); "
          f"results in benchmarks/results/")
    return status


if __name__ == "__main__":
    sys.exit(main())
