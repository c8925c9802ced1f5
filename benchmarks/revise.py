"""The samplers that revise (issue #21): ReMDM's exact law against Ancestral's on the same problem, side by side.

Target: the exact law of ReMDM with 8 steps at V=4, L=8 within 4x the time of Ancestral (MDLM) with 8 steps,
measured in one run, alternating (Ancestral, ReMDM) rounds after a warm-up, the ratio of the medians.  ReMDM's
kernel is not reveal-only: every clean position may be masked again, so a step computes about
:math:`2^L (V+1)^L` entries where a reveal step computes :math:`(2V+1)^L` (2.3x more at V=4, L=8).
Run: ``python -m benchmarks.revise`` (``--quick``: 1 round at L = 6 instead of 5 at L = 8).
"""
import statistics
import time

import numpy as np
import refimpl
from refimpl import samplers as S
from refimpl.laws import datasets
from tabulate import tabulate

from benchmarks.common import run_main, verdict, write_result

GOAL_RATIO = 4.0
PAIRS = [("cap, eta=0.05", S.ReMDM(8, "cap", eta=0.05)), ("rescale, eta=0.5", S.ReMDM(8, "rescale", eta=0.5))]


def run(quick=False):
    vocab_size, length = 4, 6 if quick else 8  # (quick: the runner works; the target is measured at L = 8)
    law = datasets.dirichlet(vocab_size, length, np.random.default_rng(0))
    oracle = refimpl.oracle_denoiser(law)
    ancestral = S.Ancestral(steps=8)
    rows = []
    for name, remdm in PAIRS:
        times, entries = {"ancestral": [], "remdm": []}, {}
        for sampler in (ancestral, remdm):  # warm-up: the engine's kept workspace, the oracle's tables
            refimpl.exact_law(oracle, sampler, length, vocab_size)
        for _ in range(1 if quick else 5):
            for key, sampler in (("ancestral", ancestral), ("remdm", remdm)):
                start = time.perf_counter()
                result = refimpl.engine.run(refimpl.engine.problem(oracle, sampler, length, vocab_size))
                times[key].append(time.perf_counter() - start)
                entries[key] = result.stats.entries
        medians = {key: statistics.median(value) for key, value in times.items()}
        ratio = medians["remdm"] / medians["ancestral"]
        rows.append({"remdm": repr(remdm), "name": name, "vocab_size": vocab_size, "length": length,
                     "seconds": medians, "entries": entries, "ratio": ratio, "goal_ratio": GOAL_RATIO,
                     "verdict": verdict(ratio, GOAL_RATIO)})
    return write_result("revise", {"quick": quick, "cases": rows})


def targets(result):
    return [(f"#21 ReMDM({c['name']}, 8 steps) / Ancestral(8 steps), V={c['vocab_size']} L={c['length']}",
             f"{c['ratio']:.3g}x", f"<= {c['goal_ratio']}x", c["verdict"]) for c in result["cases"]]


def table(result):
    return tabulate(
        [(f"ReMDM({c['name']})", c["vocab_size"], c["length"], c["seconds"]["ancestral"], c["seconds"]["remdm"],
          f"{c['entries']['ancestral']:.3g}", f"{c['entries']['remdm']:.3g}", c["ratio"], f"<= {c['goal_ratio']}",
          c["verdict"]) for c in result["cases"]],
        headers=("8 steps", "V", "L", "Ancestral s", "ReMDM s", "Ancestral entries", "ReMDM entries", "time ratio",
                 "goal", ""), floatfmt=".3g")


def main(argv=None):
    run_main(run, table, argv)


if __name__ == "__main__":
    main()
