"""Exact sampler laws: time, transition entries per second against numpy's multiply-add throughput,
and what Monte Carlo would need for the same accuracy.

Targets (issue #4): Ancestral, 5 steps, V=4 L=8 <= 0.5 s and V=4 L=10 <= 60 s; LLaDA low_confidence,
temperature 1, one block, 4 steps, V=3 L=8 <= 2 s and V=4 L=8 <= 20 s; throughput >= 0.25 of numpy's
multiply-add throughput.  A transition entry is one (source state, reachable destination) pair the
engine evaluates (``EngineStats.entries``): (2V+1)^L per full Ancestral step.
Run: ``python -m benchmarks.samplers`` (``--quick`` skips V=4, L=10).
"""
import sys
import time

import numpy as np
from tabulate import tabulate

import refimpl
from refimpl import datasets
from refimpl import samplers as S
from refimpl.law import EngineStats

from .common import machine, timed, verdict, write_result

GOAL_RATIO = 0.25
CASES = [  # (name, sampler, V, L, goal seconds, quick)
    ("Ancestral(5 steps)", S.Ancestral(steps=5), 4, 8, 0.5, True),
    ("Ancestral(5 steps)", S.Ancestral(steps=5), 4, 10, 60.0, False),
    ("LLaDA(low_confidence, T=1, 4 steps)", S.LLaDA(4, temperature=1.0), 3, 8, 2.0, True),
    ("LLaDA(low_confidence, T=1, 4 steps)", S.LLaDA(4, temperature=1.0), 4, 8, 20.0, True),
]


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
    q = law.ravel()
    spread = np.sum(np.sqrt(q * (1 - q) / (2 * np.pi)))
    return int(np.ceil((spread / tv_error) ** 2))


def case(name, sampler, vocab_size, length, goal, fma_rate, repeats):
    law = datasets.dirichlet(vocab_size, length, np.random.default_rng(0))
    oracle = refimpl.oracle_denoiser(law)
    runs = []

    def compute():
        stats = EngineStats()
        runs.append((refimpl.exact_law(oracle, sampler, length, vocab_size, stats=stats), stats))

    seconds = timed(compute, repeats=repeats, warmup=1 if repeats > 1 else 0)
    result, stats = runs[-1]
    rate = stats.entries / seconds["median"]
    needed = monte_carlo_samples_for_tv(result, 0.01)
    probe = min(needed, 20000)
    start = time.perf_counter()
    refimpl.sample(oracle, sampler, probe, np.random.default_rng(1), length, vocab_size)
    mc_seconds = (time.perf_counter() - start) * needed / probe
    return {"name": name, "vocab_size": vocab_size, "length": length, "seconds": seconds, "goal_seconds": goal,
            "time_verdict": verdict(seconds["median"], goal), "entries": stats.entries, "entries_per_second": rate,
            "ratio_to_multiply_add": rate / fma_rate, "goal_ratio": GOAL_RATIO,
            "ratio_verdict": verdict(rate / fma_rate, GOAL_RATIO, lower_is_better=False),
            "mc_samples_for_tv_0.01": needed, "mc_seconds_for_tv_0.01": mc_seconds,
            "mc_seconds_extrapolated_from": probe}


def run(quick=False):
    fma_rate = multiply_add_throughput()
    rows = [case(name, smp, v, l, goal, fma_rate, repeats=7 if goal < 30 else 1)
            for name, smp, v, l, goal, in_quick in CASES if in_quick or not quick]
    return write_result("samplers", {"quick": quick, "multiply_add_per_second": fma_rate, "cases": rows})


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    result = run(quick="--quick" in argv)
    print(f"machine: {machine()}")
    print(f"numpy multiply-add throughput: {result['multiply_add_per_second']:.3g} elements/s")
    print(tabulate(
        [(c["name"], c["vocab_size"], c["length"], c["seconds"]["median"], f"<= {c['goal_seconds']}",
          c["time_verdict"], f"{c['entries']:.3g}", f"{c['entries_per_second']:.3g}",
          c["ratio_to_multiply_add"], c["ratio_verdict"], c["mc_samples_for_tv_0.01"],
          c["mc_seconds_for_tv_0.01"]) for c in result["cases"]],
        headers=("sampler", "V", "L", "exact s", "goal", "", "entries", "entries/s", "ratio", ">= 0.25",
                 "MC n (TV 0.01)", "MC s"),
        floatfmt=".3g"))


if __name__ == "__main__":
    main()
