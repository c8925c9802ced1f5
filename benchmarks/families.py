"""Every sampler family's exact law over a (V, L) grid, next to what Monte Carlo needs for the same
accuracy, and the cost growth of the Ancestral sampler against its formula.

Run: ``python -m benchmarks.families`` (``--quick``: the smallest grid point only).
"""

from refimpl import samplers as S
from tabulate import tabulate

from benchmarks.common import exact_case, multiply_add_throughput, run_main, smoke, write_result


def families(length):
    return [
        S.Ancestral(steps=5), S.FirstHitting(), S.RandomK(2),
        S.LLaDA(length // 2, temperature=1.0), S.LLaDA(length // 2, temperature=1.0, remasking="random"),
        S.Dream(4, "origin", temperature=1.0), S.Dream(4, "maskgit_plus", temperature=1.0),
        S.Dream(4, "maskgit_plus", temperature=1.0, top_p=0.9), S.Dream(4, "entropy", temperature=1.0, alg_temp=0.5),
        S.Threshold(0.6, temperature=1.0), S.Factor(1.0, temperature=1.0), S.LeftToRight(), S.SemiAR(2, S.RandomK(1)),
    ]


def ancestral_entries(vocab_size, length, steps):
    """(V+1)^L for the first step, (2V+1)^L for each middle step, (2V)^L for the last (it reveals all)."""
    return (vocab_size + 1) ** length + (steps - 2) * (2 * vocab_size + 1) ** length + (2 * vocab_size) ** length


def run(quick=False):
    fma_rate = multiply_add_throughput()
    grid = [(3, 4)] if smoke() else [(3, 6)] if quick else [(3, 6), (4, 6), (3, 8), (4, 8)]
    rows = [exact_case(sampler, v, n, repeats=3, fma_rate=fma_rate) for v, n in grid for sampler in families(n)]
    growth = []
    for length in ([3, 4] if smoke() else [5, 6] if quick else [5, 6, 7, 8, 9]):
        case = exact_case(S.Ancestral(steps=5), 4, length, repeats=3, fma_rate=fma_rate, probe=1000)
        growth.append({"length": length, "seconds": case["seconds"]["median"], "entries": case["entries"],
                       "formula_entries": ancestral_entries(4, length, 5)})
    return write_result("families", {"quick": quick, "multiply_add_per_second": fma_rate, "cases": rows,
                                     "ancestral_growth_v4": growth})


def table(result):
    main = tabulate(
        [(c.get("label", c["sampler"])[:64], c["vocab_size"], c["length"], c["seconds"]["median"], f"{c['entries']:.3g}",
          c["ratio_to_multiply_add"], f"{c['mc_samples_for_tv_0.01']:.3g}", c["mc_seconds_for_tv_0.01"],
          f"{c['mc_samples_for_tv_0.001']:.3g}", c["mc_seconds_for_tv_0.001"]) for c in result["cases"]],
        headers=("sampler", "V", "L", "exact s", "entries", "ratio", "MC n TV .01", "MC s", "MC n TV .001", "MC s"),
        floatfmt=".3g")
    growth = tabulate([(g["length"], g["seconds"], f"{g['entries']:.4g}", f"{g['formula_entries']:.4g}")
                       for g in result["ancestral_growth_v4"]],
                      headers=("L", "exact s", "entries", "(V+1)^L + 3(2V+1)^L + (2V)^L"), floatfmt=".3g")
    return main + "\n\nAncestral(5 steps), V=4: cost growth\n" + growth


def main(argv=None):
    run_main(run, table, argv)


if __name__ == "__main__":
    main()
