"""Exact sampler laws against their targets: time, transition entries per second against numpy's
multiply-add throughput, and what Monte Carlo would need for the same accuracy.

Targets (issue #4): Ancestral, 5 steps, V=4 L=8 <= 0.5 s and V=4 L=10 <= 60 s; LLaDA low_confidence,
temperature 1, one block, 4 steps, V=3 L=8 <= 2 s and V=4 L=8 <= 20 s.  The ratio of transition entries per
second to numpy's multiply-add throughput is printed as information: its 0.25 goal is retired (the top-k
steps are scatter-bound and finish far under their time goals; the engine stays pure NumPy).  A transition
entry is one (source state, reachable destination) pair the engine evaluates (``EngineStats.entries``):
(2V+1)^L per full Ancestral step.
Run: ``python -m benchmarks.samplers`` (``--quick`` skips V=4, L=10).
"""

from refimpl import samplers as S
from tabulate import tabulate

from benchmarks.common import exact_case, multiply_add_throughput, run_main, verdict, write_result

GOAL_RATIO = 0.25  # retired as a target: printed as information
CASES = [  # (name, sampler, V, L, goal seconds, in quick mode)
    ("Ancestral(5 steps)", S.Ancestral(steps=5), 4, 8, 0.5, True),
    ("Ancestral(5 steps)", S.Ancestral(steps=5), 4, 10, 60.0, False),
    ("LLaDA(low_confidence, T=1, 4 steps)", S.LLaDA(4, temperature=1.0), 3, 8, 2.0, True),
    ("LLaDA(low_confidence, T=1, 4 steps)", S.LLaDA(4, temperature=1.0), 4, 8, 20.0, True),
]


def run(quick=False):
    fma_rate = multiply_add_throughput()
    rows = []
    for name, sampler, vocab_size, length, goal, in_quick in CASES:
        if quick and not in_quick:
            continue
        row = exact_case(sampler, vocab_size, length, repeats=7 if goal < 30 else 1, fma_rate=fma_rate)
        row.update(name=name, goal_seconds=goal, time_verdict=verdict(row["seconds"]["median"], goal),
                   goal_ratio=GOAL_RATIO,
                   ratio_verdict=verdict(row["ratio_to_multiply_add"], GOAL_RATIO, lower_is_better=False))
        rows.append(row)
    return write_result("samplers", {"quick": quick, "multiply_add_per_second": fma_rate, "cases": rows})


def targets(result):
    """(target, measured, goal, PASS/MISS) rows for the runner's summary."""
    out = []
    for c in result["cases"]:
        label = f"#4 {c['name']} V={c['vocab_size']} L={c['length']}"
        out.append((f"{label}: exact law time", f"{c['seconds']['median']:.3g} s", f"<= {c['goal_seconds']} s",
                    c["time_verdict"]))
    return out  # (the entries/s ratio to numpy's multiply-add is information, not a target: see the module)


def table(result):
    return tabulate(
        [(c["name"], c["vocab_size"], c["length"], c["seconds"]["median"], f"<= {c['goal_seconds']}",
          c["time_verdict"], f"{c['entries']:.3g}", f"{c['entries_per_second']:.3g}",
          c["ratio_to_multiply_add"], c["ratio_verdict"], c["mc_samples_for_tv_0.01"],
          c["mc_seconds_for_tv_0.01"]) for c in result["cases"]],
        headers=("sampler", "V", "L", "exact s", "goal", "", "entries", "entries/s", "ratio (info)", "was >= 0.25",
                 "MC n (TV 0.01)", "MC s"), floatfmt=".3g")


def main(argv=None):
    run_main(run, table, argv, header=lambda r: (
        f"numpy multiply-add throughput: {r['multiply_add_per_second']:.3g} elements/s"))


if __name__ == "__main__":
    main()
