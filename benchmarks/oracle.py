"""Oracle construction for all partial sequences against numpy's own speed of writing as many float64s.

Target (issue #3): V=4, L=10 — 9.8 million partial sequences, 78 million conditional probabilities —
within 2x of the time ``np.full`` needs to write the same number of float64 values into fresh memory.
Run: ``python -m benchmarks.oracle`` (``--quick`` for a smaller case).
"""

import numpy as np
from refimpl import denoisers
from refimpl.laws import datasets
from tabulate import tabulate

from benchmarks.common import run_main, timed, verdict, write_result

GOAL_RATIO = 2.0


TARGET = (4, 10)


def case(vocab_size, length, repeats):
    law = datasets.dirichlet(vocab_size, length, np.random.default_rng(0))
    count = length * vocab_size * (vocab_size + 1) ** (length - 1)
    oracle_time = timed(lambda: denoisers.oracle_denoiser(law), repeats=repeats)
    write_time = timed(lambda: np.full(count, 1.0), repeats=repeats)
    ratio = oracle_time["median"] / write_time["median"]
    return {"vocab_size": vocab_size, "length": length, "partial_sequences": (vocab_size + 1) ** length,
            "conditional_probabilities": count, "oracle_seconds": oracle_time, "write_seconds": write_time,
            "ratio": ratio, "goal_ratio": GOAL_RATIO if (vocab_size, length) == TARGET else None,
            "verdict": verdict(ratio, GOAL_RATIO) if (vocab_size, length) == TARGET else ""}


def run(quick=False):
    cases = [TARGET] if quick else [(3, 10), (4, 8), (4, 9), (4, 10), (5, 8), (6, 8)]
    rows = [case(v, n, repeats=3 if quick else 5) for v, n in cases]
    return write_result("oracle", {"quick": quick, "cases": rows})


def table(result):
    return tabulate(
        [(c["vocab_size"], c["length"], c["partial_sequences"], c["conditional_probabilities"],
          c["oracle_seconds"]["median"], c["write_seconds"]["median"], c["ratio"],
          f"<= {c['goal_ratio']}" if c["goal_ratio"] else "", c["verdict"]) for c in result["cases"]],
        headers=("V", "L", "partial seqs", "cond. probs", "oracle s", "np.full s", "ratio", "goal", ""),
        floatfmt=".3f")


def targets(result):
    return [(f"#3 oracle for all partial sequences V={c['vocab_size']} L={c['length']} vs np.full",
             f"{c['ratio']:.3g}x ({c['oracle_seconds']['median']:.3g} s)", f"<= {c['goal_ratio']}x", c["verdict"])
            for c in result["cases"] if c["goal_ratio"]]


def main(argv=None):
    run_main(run, table, argv)


if __name__ == "__main__":
    main()
