"""Issue #39's targets: ``refimpl bounds`` on a law of V=3, L=8 within 10 s; Wainwright's Bernoulli sampler's exact
law at V=4, L=10 within the time Ancestral takes (on the uniform grid they are the same plan: tests/limits/
test_bernoulli.py), side by side; and W19's asymptotic statement shown converging, not asserted: on an N-step grid of
[1/d, 1 - 1/d] with equal square-root UGC mass per step, N times the summed one-step defects approaches P_UGC / 2.
A Markov law (seed 0) of V=4, L=10 and a Dirichlet law (seed 0) of V=3, L=8 stand in.  Also timed, for
information (no goal): the zero-error depth D_0 by its dynamic programme over the support, on the walk of length 7
(V=8, 128 sequences) and a full-support Dirichlet law (seed 0) of V=3, L=4.

Run: ``python -m benchmarks.theory`` (``--quick``: one repeat, no V=4 L=10 case).
"""
import math

import numpy as np
from tabulate import tabulate

from benchmarks.common import run_main, smoke, timed, verdict, write_result

BOUNDS_GOAL = 10.0


def w19(table, steps_list=(10, 20, 40, 80)):
    """[(N, N * sum of defects on the equal-sqrt-mass grid, P_UGC / 2)] on [1/d, 1 - 1/d]."""
    from refimpl.limits import ugc

    d = table.ndim
    start, end = 1 / d, 1 - 1 / d
    phi = lambda t: math.log(t / (1 - t))  # noqa: E731
    lam = np.linspace(phi(start), phi(end), 4001)
    r = np.exp(lam) / (1 + np.exp(lam))
    root = np.sqrt(np.maximum(r ** 2 * (1 - r) ** 2 * ugc.slope(table, r), 0.0))
    mass = np.concatenate([[0.0], np.cumsum(0.5 * (root[1:] + root[:-1]) * np.diff(lam))])
    out = []
    for steps in steps_list:
        cuts = np.interp(np.linspace(0, mass[-1], steps + 1), mass, lam)
        grid = np.exp(cuts) / (1 + np.exp(cuts))
        total = sum(ugc.defect(table, a, b) for a, b in zip(grid[:-1], grid[1:]))
        out.append((steps, steps * total, mass[-1] ** 2 / 2))
    return out


def permutation_rate(rounds_list=(2, 3, 4), sizes=(50, 100, 200, 400)):
    """WLL6's Theorem 8 (asymptotic, shown not asserted): E_{n,R} - [n(1 - rho_R)/ln 2 - log2(2 pi n)/2] for growing
    n should settle to a constant (O_R(1)); rho_1 = 0, rho_R = exp(rho_{R-1} - 1).  E_{n,R} by Proposition 1's
    recursion F_{n,R} = min_m {(n - m) log2 n + F_{m,R-1}}, F_{n,1} = n log2 n, E = F - log2 n!."""
    out = []
    for rounds in rounds_list:
        rho = 0.0
        for _ in range(rounds - 1):
            rho = math.exp(rho - 1)
        for n in sizes:
            F = {m: m * math.log2(m) for m in range(1, n + 1)}
            for r in range(2, rounds + 1):
                F = {m: min((m - k) * math.log2(m) + F[k] for k in range(r - 1, m)) for m in range(r, n + 1)}
            E = F[n] - math.lgamma(n + 1) / math.log(2)
            out.append((rounds, n, E, E - (n * (1 - rho) / math.log(2) - 0.5 * math.log2(2 * math.pi * n))))
    return out


def joint_frontier(rates=(0.7, 0.8, 0.9), sizes=(100, 1000, 10000)):
    """WLL6's Theorem 10 (asymptotic, shown not asserted) on r >= 2/3: E_{n, ceil(rn)} -> eps_*(r) = log2(1/(2r - 1))/2,
    with E_{n,n-s} = sum_{j<s} log2((n - 2j)/(n - 2j - 1)) (Theorem 9, checked against brute force in
    tests/limits/test_depth.py)."""
    out = []
    for r in rates:
        for n in sizes:
            s = n - math.ceil(r * n)
            value = sum(math.log2((n - 2 * j) / (n - 2 * j - 1)) for j in range(s))
            out.append((r, n, value, 0.5 * math.log2(1 / (2 * r - 1))))
    return out


def run(quick=False):
    import refimpl
    from refimpl.diffusion.schedules import Linear
    from refimpl.experiments.bounds import bounds_report
    from refimpl.laws import datasets
    from refimpl.samplers.bernoulli import Bernoulli

    vocab_size, length = (2, 3) if smoke() else (3, 8)
    table = datasets.dirichlet(vocab_size, length, np.random.default_rng(0)).table
    seconds = timed(lambda: bounds_report(table), repeats=1 if quick else 3)
    cases = [{"name": f"refimpl bounds V={vocab_size} L={length}", "seconds": seconds, "goal_seconds": BOUNDS_GOAL,
              "time_verdict": verdict(seconds["median"], BOUNDS_GOAL)}]
    if not quick:
        rng = np.random.default_rng(0)
        transition = rng.dirichlet(np.ones(4), size=4)
        markov = datasets.markov_chain(datasets.stationary(transition), transition, 10)
        oracle = refimpl.oracle_denoiser(markov)
        times = {}
        for name, sampler in (("Ancestral(Linear(), 5, float64)", refimpl.samplers.Ancestral(Linear(), 5,
                                                                                             grid="float64")),
                              ("Bernoulli(0, 0.2, ..., 1)", Bernoulli(tuple(np.arange(6) / 5)))):
            times[name] = timed(lambda s=sampler: refimpl.exact_law(oracle, s, 10, 4), repeats=3)
        ancestral, bernoulli = (times[k]["median"] for k in times)
        cases.append({"name": "Bernoulli vs Ancestral V=4 L=10 (5 steps)", "seconds": times,
                      "goal_seconds": ancestral, "ratio": bernoulli / ancestral,
                      "time_verdict": verdict(bernoulli, 1.1 * ancestral)})
    from refimpl.laws import examples
    from refimpl.limits.depth import zero_error_depth

    depth_laws = {"the walk n=2 (V=3)": examples.walk(2)} if smoke() else {
        "the walk n=7 (V=8, 128 sequences)": examples.walk(7),
        "Dirichlet V=3 L=4 (full support)": datasets.dirichlet(3, 4, np.random.default_rng(0)).table}
    depth = [(name, zero_error_depth(law), timed(lambda law=law: zero_error_depth(law), repeats=1 if quick else 3))
             for name, law in depth_laws.items()]
    rate = permutation_rate(sizes=(20, 40) if quick else (50, 100, 200, 400))
    return write_result("theory", {"quick": quick, "cases": cases, "w19": w19(table), "wll6_theorem8": rate,
                                   "wll6_theorem10": joint_frontier(),
                                   "zero_error_depth": [{"law": n, "depth": d, "seconds": t} for n, d, t in depth]})


def targets(result):
    out = []
    for case in result["cases"]:
        measured = case["seconds"]["median"] if "median" in case["seconds"] else case["ratio"]
        goal = f"<= {case['goal_seconds']:.3g} s" if "ratio" not in case else "<= 1.1x Ancestral"
        out.append((f"#39 {case['name']}", f"{measured:.3g}" + (" s" if "ratio" not in case else "x"), goal,
                    case["time_verdict"]))
    return out


def table(result):
    first = tabulate(targets(result), headers=("case", "measured", "goal", ""))
    second = tabulate(result["w19"], headers=("N", "N x sum of defects", "P_UGC / 2"), floatfmt=".5g")
    third = tabulate(result["wll6_theorem8"], headers=("R", "n", "E_{n,R} (bits)", "E minus the leading terms"),
                     floatfmt=".5g")
    fourth = tabulate(result["wll6_theorem10"], headers=("r", "n", "E_{n,ceil(rn)} (bits)", "eps_*(r)"), floatfmt=".5g")
    fifth = tabulate([(row["law"], row["depth"], f"{row['seconds']['median']:.3g}")
                      for row in result["zero_error_depth"]], headers=("law", "D_0", "seconds (median)"))
    return (first + "\n\nThe zero-error depth's dynamic programme (information, no goal):\n" + fifth
            + "\n\nW19 (asymptotic, shown not asserted):\n" + second
            + "\n\nWLL6 Theorem 8 (asymptotic, shown not asserted):\n" + third
            + "\n\nWLL6 Theorem 10 on r >= 2/3 (asymptotic, shown not asserted):\n" + fourth)


def main(argv=None):
    run_main(run, table, argv)


if __name__ == "__main__":
    main()
