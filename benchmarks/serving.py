"""Issue #37's decoding rules (the ones 2026's serving stacks ship): each rule's exact law and expected calls at V=3,
L=6, blocks of 3 where the rule has blocks, at its shipped defaults and in its reference temperature mode — the
target is 5 s each on 2 cores — and the lookahead samplers' cost against their candidate count: the expected
calls (a batched lookahead pass is one) and the expected rows those passes evaluate
(:func:`refimpl.engine.calls.expected_rows`).  The oracle of a Dirichlet law (seed 0) stands in for the model.

Run: ``python -m benchmarks.serving`` (``--quick``: the same cases, one repeat).
"""
import numpy as np
from refimpl import samplers as S
from tabulate import tabulate

from benchmarks.common import run_main, timed, verdict, write_result

GOAL_SECONDS = 5.0


def rules():
    """(rule, sampler) at V=3, L=6: the shipped defaults (blocks of 3) and the temperature modes."""
    return [
        ("R1 JointThreshold (sglang)", S.JointThreshold(block_length=3)),
        ("R1 JointThreshold (LLaDA2.1 generate, T=1)", S.JointThreshold(0.95, 0.9, block_length=3, temperature=1.0,
                                                                        original="hf")),
        ("R2 EntropyThreshold (sglang)", S.EntropyThreshold(block_length=3)),
        ("R2 EntropyThreshold (d3LLM, T=1)", S.EntropyThreshold(0.5, block_length=3, temperature=1.0)),
        ("R3 MultiBlock (sglang)", S.MultiBlock(block_length=3)),
        ("R3 MultiBlock (d3LLM LLaDA, T=1)", S.MultiBlock(0.5, 3, 0.5, 0.5, 1.0, "d3llm-llada")),
        ("R4 HierarchyBlock (sglang)", S.HierarchyBlock(block_length=3)),
        ("R4 HierarchyBlock (Fast-dLLM v2, T=1)", S.HierarchyBlock(block_length=3, temperature=1.0, top_p=0.95)),
        ("R5 ShiftConfidence (sglang)", S.ShiftConfidence(block_length=3, num_small_blocks=3)),
        ("R6 LinearSpec (sglang)", S.LinearSpec(3)),
        ("R7 Nemotron (dllm)", S.Nemotron(block_length=3)),
        ("R7 Nemotron (dllm, T=1)", S.Nemotron(block_length=3, temperature=1.0)),
        ("R7 Nemotron (FastDiffuser, T=1)", S.Nemotron(None, 3, 1.0, "fastdiffuser")),
        ("R11 PCSampler (T=1)", S.PCSampler(6, 3, 0.25, 10.0, temperature=1.0)),
        ("R12 LowConfidence (sglang, T=1)", S.LowConfidence(block_length=3, temperature=1.0)),
        ("R13 dllm MDLM (T=1)", S.DllmMDLM(6, 3, 1.0)),
        ("R14 vLLM plugin LLaDA2.0", S.LowConfidence(0.01, 3, final_call=False)),
    ] + [(f"R10 InfoGain ({n} candidates)", S.InfoGain(6, 3, n, threshold=0.0)) for n in (1, 2, 4, 8)] + [
        ("R10 LookUM (8 candidates)", S.InfoGain(6, 3, 8, threshold=0.0, variant="lookum"))] + [
        (f"R10 InfoGain ({n} candidates, T=1)", S.InfoGain(6, 3, n, threshold=0.0, temperature=1.0)) for n in (2, 8)]


def run(quick=False):
    import refimpl
    from refimpl.engine.calls import expected_rows
    from refimpl.laws import datasets

    vocab_size, length = 3, 6  # (the smoke run too: all of them take well under a second)
    oracle = refimpl.oracle_denoiser(datasets.dirichlet(vocab_size, length, np.random.default_rng(0)))
    rows = []
    for name, sampler in rules():
        out = {}

        def compute():
            out["run"] = refimpl.run(refimpl.problem(oracle, sampler, length, vocab_size))

        seconds = timed(compute, repeats=1 if quick else 3)
        result = out["run"]
        batched = expected_rows(oracle, sampler, length, vocab_size)
        rows.append({"name": name, "sampler": repr(sampler), "vocab_size": vocab_size, "length": length,
                     "seconds": seconds, "goal_seconds": GOAL_SECONDS,
                     "time_verdict": verdict(seconds["median"], GOAL_SECONDS),
                     "expected_calls": float(result.expected_calls), "expected_rows": batched,
                     "entries": int(result.stats.entries),
                     "support": int(np.count_nonzero(result.law > 1e-15))})
    return write_result("serving", {"quick": quick, "cases": rows})


def targets(result):
    return [(f"#37 {c['name']} V={c['vocab_size']} L={c['length']}: exact law time", f"{c['seconds']['median']:.3g} s",
             f"<= {c['goal_seconds']} s", c["time_verdict"]) for c in result["cases"]]


def table(result):
    return tabulate([(c["name"], c["seconds"]["median"], c["time_verdict"], c["expected_calls"], c["expected_rows"],
                      f"{c['entries']:.3g}", c["support"]) for c in result["cases"]],
                    headers=("rule", "exact s", "<= 5 s", "E[calls]", "E[lookahead rows]", "entries", "support"),
                    floatfmt=".3g")


def main(argv=None):
    run_main(run, table, argv)


if __name__ == "__main__":
    main()
