"""The exact optima of issue #23, timed: (c) the best adaptive policy for every T at V=3, L=8 within 60 s and
(b) the best fixed reveal sets for every T at V=4, L=10 within 60 s, each next to the time to build the law's
marginal lattice (the table both read; the ratio is information), after a warm-up, in one run.  Larger sizes
are listed as information.  Run: ``python -m benchmarks.limits`` (``--quick``: the two target cases, one
repeat)."""
import numpy as np
from refimpl import limits
from refimpl.laws import datasets
from refimpl.laws.lattice import marginal_lattice
from tabulate import tabulate

from benchmarks.common import run_main, timed, verdict, write_result

GOAL_SECONDS = 60.0
CASES = [("adaptive (c)", 3, 8, True), ("fixed sets (b)", 4, 10, True), ("step sizes (a)", 4, 10, False),
         ("adaptive (c)", 3, 10, False), ("adaptive (c)", 4, 8, False), ("fixed sets (b)", 4, 11, False)]
RUN = {"adaptive (c)": lambda t: limits.adaptive_optima(t).kls,
       "fixed sets (b)": lambda t: [kl for kl, _ in limits.fixed_set_optima(t)],
       "step sizes (a)": lambda t: [kl for kl, _ in limits.step_size_optima(t)]}


def run(quick=False):
    rows = []
    for name, vocab_size, length, target in CASES:
        if quick and not target:
            continue
        table = np.asarray(datasets.dirichlet(vocab_size, length, np.random.default_rng(0), 0.5))
        repeats = 1 if quick or length > 9 else 3
        solve = timed(lambda: RUN[name](table), repeats=repeats)
        lattice = timed(lambda: marginal_lattice(table), repeats=3)
        kls = RUN[name](table)
        rows.append({"optimum": name, "vocab_size": vocab_size, "length": length, "seconds": solve["median"],
                     "lattice_seconds": lattice["median"], "ratio": solve["median"] / lattice["median"],
                     "kl_by_steps": [float(k) for k in kls], "target": target,
                     "verdict": verdict(solve["median"], GOAL_SECONDS) if target else "info"})
    return write_result("limits", {"quick": quick, "goal_seconds": GOAL_SECONDS, "cases": rows})


def targets(result):
    return [(f"#23 {c['optimum']} for every T, V={c['vocab_size']} L={c['length']}", f"{c['seconds']:.3g} s",
             f"<= {result['goal_seconds']:g} s", c["verdict"]) for c in result["cases"] if c["target"]]


def table(result):
    return tabulate(
        [(c["optimum"], c["vocab_size"], c["length"], c["seconds"], c["lattice_seconds"], c["ratio"],
          " ".join(f"{k:.2g}" for k in c["kl_by_steps"]), c["verdict"]) for c in result["cases"]],
        headers=("optimum, every T", "V", "L", "seconds", "lattice s", "ratio", "min KL at T = 1, 2, ...", ""),
        floatfmt=".3g")


def main(argv=None):
    run_main(run, table, argv)


if __name__ == "__main__":
    main()
