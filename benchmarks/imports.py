"""What ``import refimpl`` costs, side by side with ``import numpy, scipy.special`` (issue #34: at most 1.5x).

Each case runs in a fresh interpreter (a subprocess timing its own import with ``time.perf_counter``), the three
cases in turn for several rounds so that the machine's slow spells fall on all of them; medians are reported:

- ``numpy, scipy.special``: the floor — refimpl's run-time dependencies that every exact computation needs;
- ``import refimpl``: the package alone (its public names load on first use, PEP 562);
- ``refimpl, first use``: ``import refimpl`` and reading ``exact_law``, ``oracle_denoiser`` and
  ``samplers.LLaDA`` — what a first exact law needs (numpy, scipy.special, the engine, the samplers).

Twice: with the bytecode cache (as a pip install leaves it: ``PYTHONPYCACHEPREFIX`` in a temporary folder, warmed
by one run first) and without it (``PYTHONDONTWRITEBYTECODE=1``, as some sandboxes and CI images run: every module
compiled on every import).  Run: ``python -m benchmarks.imports`` (``--quick``: 3 rounds instead of 9).
"""
import os
import statistics
import subprocess
import sys
import tempfile

from tabulate import tabulate

from benchmarks.common import run_main, smoke, verdict, write_result

GOAL_RATIO = 1.5  # first use of refimpl against numpy and scipy.special
CASES = {
    "numpy, scipy.special": "import numpy, scipy.special",
    "import refimpl": "import refimpl",
    "refimpl, first use": "import refimpl; refimpl.exact_law; refimpl.oracle_denoiser; refimpl.samplers.LLaDA",
}
PROBE = "import time; start = time.perf_counter(); {code}; print(time.perf_counter() - start)"


def _time(code, env):
    done = subprocess.run([sys.executable, "-c", PROBE.format(code=code)], capture_output=True, text=True, env=env,
                          check=True)
    return float(done.stdout.strip())


def _modules(env):
    code = ("import sys, refimpl; before = len([m for m in sys.modules if m.startswith('refimpl')]); "
            "refimpl.exact_law; refimpl.oracle_denoiser; refimpl.samplers.LLaDA; "
            "print(before, len([m for m in sys.modules if m.startswith('refimpl')]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return [int(v) for v in done.stdout.split()]


def run(quick=False):
    rounds = 1 if smoke() else 3 if quick else 9
    cases = []
    with tempfile.TemporaryDirectory() as cache:
        modes = {"bytecode cached": dict(os.environ, PYTHONPYCACHEPREFIX=cache),
                 "no bytecode": dict(os.environ, PYTHONDONTWRITEBYTECODE="1")}
        modes["bytecode cached"].pop("PYTHONDONTWRITEBYTECODE", None)
        for mode, env in modes.items():
            for code in CASES.values():  # warm-up: the bytecode written, the files in the page cache
                _time(code, env)
            times = {name: [] for name in CASES}
            for _ in range(rounds):
                for name, code in CASES.items():
                    times[name].append(_time(code, env))
            medians = {name: statistics.median(values) for name, values in times.items()}
            floor = medians["numpy, scipy.special"]
            cases.append({"mode": mode, "rounds": rounds, "seconds": medians,
                          "ratios": {name: value / floor for name, value in medians.items()},
                          "modules": _modules(env)})
    return write_result("imports", {"quick": quick, "goal_ratio": GOAL_RATIO, "cases": cases})


def table(result):
    rows = []
    for case in result["cases"]:
        for name, seconds in case["seconds"].items():
            rows.append((case["mode"], name, f"{seconds:.3f}", f"{case['ratios'][name]:.2f}x"))
        before, after = case["modules"]
        rows.append((case["mode"], f"refimpl modules loaded: {before} on import, {after} on first use", "", ""))
    return tabulate(rows, headers=("mode", "import", "median s", "vs numpy, scipy.special"))


def targets(result):
    cached = next(case for case in result["cases"] if case["mode"] == "bytecode cached")
    ratio = cached["ratios"]["refimpl, first use"]
    return [("#34 import refimpl and first use vs import numpy, scipy.special", f"{ratio:.2f}x",
             f"<= {GOAL_RATIO}x", verdict(ratio, GOAL_RATIO))]


def main(argv=None):
    run_main(run, table, argv)


if __name__ == "__main__":
    main()
