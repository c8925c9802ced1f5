"""Issue #37's findings table: each decoding rule 2026's serving stacks ship, at its shipped defaults (greedy: a
point mass, so KL(p || q) is infinite) and in its reference temperature mode (T = 1), on the paper's toy set and a
Markov chain, with the oracle: KL(p || q), incoherent mass, expected calls, tokens per call, the tie probability, and
the gap to the best adaptive policy at the same expected calls (refimpl.limits).  One block covers the sequence
(the shipped blocks, 32, are longer than these laws); ShiftConfidence's four sub-blocks where the length allows.

Run: ``python -m benchmarks.serving_findings`` (results/serving_findings.json; docs/findings.md quotes its table).
"""
import numpy as np
from refimpl import samplers as S
from tabulate import tabulate

from benchmarks.common import run_main, write_result


def rules(length):
    """(rule, shipped sampler, its T = 1 mode or None) for a law of ``length`` positions."""
    sub_blocks = 4 if length % 4 == 0 else 1
    return [
        ("R1 JointThreshold", S.JointThreshold(), S.JointThreshold(0.95, 0.9, temperature=1.0, original="hf")),
        ("R2 EntropyThreshold", S.EntropyThreshold(), S.EntropyThreshold(0.5, temperature=1.0)),
        ("R3 MultiBlock", S.MultiBlock(), S.MultiBlock(0.5, 2 if length % 2 == 0 else 1, 0.5, 0.5, 1.0,
                                                       "d3llm-dream")),
        ("R4 HierarchyBlock", S.HierarchyBlock(), S.HierarchyBlock(temperature=1.0, top_p=0.95)),
        ("R5 ShiftConfidence", S.ShiftConfidence(num_small_blocks=sub_blocks), None),
        ("R6 LinearSpec", S.LinearSpec(), None),
        ("R7 Nemotron (dllm)", S.Nemotron(), S.Nemotron(temperature=1.0)),
        ("R7 FastDiffuser", S.Nemotron(original="fastdiffuser"), S.Nemotron(0.9, temperature=1.0,
                                                                            original="fastdiffuser")),
        ("R12 LowConfidence", S.LowConfidence(), S.LowConfidence(temperature=1.0)),
        ("R14 vLLM plugin LLaDA2.0", S.LowConfidence(0.01, final_call=False), None),
        ("R13 dllm MDLM", S.DllmMDLM(length, temperature=0.0), S.DllmMDLM(length, temperature=1.0)),
        ("R10 Info-Gain", S.InfoGain(length), None), ("R10 LookUM", S.InfoGain(length, variant="lookum"), None),
        ("R11 PC-Sampler", S.PCSampler(length, lam=0.25, clip=10.0), S.PCSampler(length, lam=0.25, clip=10.0,
                                                                                 temperature=1.0)),
    ]


def laws():
    from refimpl.experiments import toy
    from refimpl.laws import datasets

    transition = np.random.default_rng(1).dirichlet(np.full(3, 0.5), size=3)
    return [("paper's toy set (V=5, L=5)", np.asarray(datasets.empirical(toy.toy_sequences(), vocab_size=5))),
            ("markov chain (V=3, L=8)",
             np.asarray(datasets.markov_chain(datasets.stationary(transition), transition, 8)))]


def run(quick=False):
    import refimpl
    from refimpl.experiments.frontier import frontier_rows
    from refimpl.experiments.limits_report import reachable
    from refimpl.limits import adaptive_optima

    cases = []
    for name, table in laws():
        oracle = refimpl.oracle_denoiser(table)
        kls = adaptive_optima(table).kls
        chosen = [(rule, mode, sampler) for rule, shipped, tempered in rules(table.ndim)
                  for mode, sampler in (("shipped", shipped), ("T=1", tempered)) if sampler is not None]
        rows = frontier_rows(table, oracle, [s for _, _, s in chosen])
        out = []
        for (rule, mode, sampler), row in zip(chosen, rows):
            best = reachable(kls, row["expected_calls"])
            out.append({"rule": rule, "mode": mode, "sampler": repr(sampler), "kl_p_q": row["kl_p_q"],
                        "incoherent_mass": row["incoherent_mass"], "expected_calls": row["expected_calls"],
                        "tokens_per_call": row["tokens_per_call"], "tie_probability": row["tie_probability"],
                        "adaptive_kl_at_calls": best, "gap": row["kl_p_q"] - best})
        cases.append({"law": name, "total_correlation": float(refimpl.laws.quantities.total_correlation(table)),
                      "rows": out})
    return write_result("serving_findings", {"quick": quick, "cases": cases})


def table(result):
    parts = []
    for case in result["cases"]:
        parts.append(f"{case['law']}: TC(p) = {case['total_correlation']:.4g} nats")
        parts.append(tabulate([(r["rule"], r["mode"], r["kl_p_q"], r["incoherent_mass"], r["expected_calls"],
                                r["tokens_per_call"], r["tie_probability"], r["adaptive_kl_at_calls"], r["gap"])
                               for r in case["rows"]],
                              headers=("rule", "mode", "KL(p||q)", "incoherent", "E[calls]", "tokens/call", "P(tie)",
                                       "(c) at E[calls]", "gap"), floatfmt=".4g"))
    return "\n\n".join(parts)


def main(argv=None):
    run_main(run, table, argv)


if __name__ == "__main__":
    main()
