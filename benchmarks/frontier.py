"""What parallel decoding loses per model call, exactly: every sampler family at several speeds, with the
optimal denoiser (the oracle), on three data laws — the exact KL(p || q), TV and incoherent mass of its
output law q next to the exact expected number of model calls (NFE) its original loop makes.

With the oracle nothing is lost to training: every nat of KL is what revealing tokens together costs
(one step revealing all L tokens loses exactly TC(p); one token per step in a value-independent order
loses nothing).  The samplers draw at temperature 1, so that KL(p || q) is finite; NFE follows each
original's loop (``refimpl.expected_calls``): LLaDA and Dream call the model on every step, MDLM with
its cache (``Ancestral(cache=True)``) only after a step that revealed something, Fast-dLLM's threshold
and factor rules until the block holds no mask.  The frontier marks the settings no other setting
beats on both counts (as few calls or fewer and a smaller KL, or fewer calls and as small a KL).

Run: ``python -m benchmarks.frontier`` (``--quick``: the paper's toy set only, fewer settings).
"""
import time

import numpy as np
from tabulate import tabulate

import refimpl
from refimpl import datasets, joint, metrics
from refimpl import samplers as S
from refimpl.experiments import toy
from refimpl.calls import call_probabilities

from .common import label, run_main, write_result


def data_laws(quick):
    """(name, law table) pairs: the paper's toy set, a Dirichlet law and a Markov chain."""
    laws = [("paper's toy set (V=5, L=5)", np.asarray(datasets.empirical(toy.toy_sequences(), vocab_size=5)))]
    if not quick:
        rng = np.random.default_rng(0)
        laws.append(("dirichlet(0.5) (V=3, L=8)", np.asarray(datasets.dirichlet(3, 8, rng, concentration=0.5))))
        transition = np.random.default_rng(1).dirichlet(np.full(3, 0.5), size=3)
        laws.append(("markov chain (V=3, L=8)",
                     np.asarray(datasets.markov_chain(datasets.stationary(transition), transition, 8))))
    return laws


def settings(length, quick):
    """Every family at several speeds, temperature 1, one block — and LLaDA with blocks of 2 and 4 where they
    tile the sequence (not at L = 5)."""
    steps = sorted({1, 2, length // 2, length}) if not quick else [1, 2, length]
    out = [S.LeftToRight()]
    out += [S.Ancestral(steps=s, cache=True) for s in sorted(set(steps) | {4 * length})]
    out += [S.LLaDA(s, temperature=1.0) for s in steps]
    if length % 4 == 0:  # the paper's semi-autoregressive prescription: small blocks, decoded in turn
        out += [S.LLaDA(s, block_length=b, temperature=1.0) for b in (2, 4) for s in (length // 2, length)]
    out += [S.LLaDA(s, temperature=1.0, remasking="random") for s in steps]
    out += [S.Dream(s, "maskgit_plus", temperature=1.0) for s in steps]
    if not quick:
        out += [S.Dream(s, "entropy", temperature=1.0) for s in steps]
    out += [S.Threshold(t, temperature=1.0) for t in ((0.3, 0.6, 0.9) if quick else (0.2, 0.4, 0.6, 0.8, 0.95, 1.0))]
    out += [S.Factor(f, temperature=1.0) for f in ((2.0, 0.5) if quick else (4.0, 2.0, 1.0, 0.5, 0.25))]
    return out


def frontier(rows, tolerance=1e-12):
    """The rows no other row dominates — none calls the model as often or less and loses less, or less
    often and as much or less — by increasing NFE (rows equal to within ``tolerance`` all stay)."""
    def dominates(a, b):
        fewer, less = a["expected_calls"] < b["expected_calls"] - tolerance, a["kl_p_q"] < b["kl_p_q"] - tolerance
        return ((fewer or a["expected_calls"] <= b["expected_calls"] + tolerance)
                and (less or a["kl_p_q"] <= b["kl_p_q"] + tolerance) and (fewer or less))
    kept = [row for row in rows if not any(dominates(other, row) for other in rows)]
    return sorted(kept, key=lambda r: (r["expected_calls"], r["kl_p_q"]))


def run(quick=False):
    cases = []
    for name, table in data_laws(quick):
        vocab_size, length = table.shape[0], table.ndim
        oracle = refimpl.oracle_denoiser(table)
        rows = []
        for sampler in settings(length, quick):
            start = time.perf_counter()
            reveals = []
            q = refimpl.exact_law(oracle, sampler, length, vocab_size, reveals=reveals)
            calls = float(call_probabilities(sampler, reveals, length, vocab_size).sum())
            found = metrics.law_metrics(table, q)
            rows.append({"sampler": repr(sampler), "label": label(sampler), "expected_calls": calls,
                         "tokens_per_call": length / calls, "kl_p_q": found["kl_p_q"], "tv": found["tv"],
                         "incoherent_mass": found["incoherent_mass"], "seconds": time.perf_counter() - start})
        cases.append({"data": name, "vocab_size": vocab_size, "length": length,
                      "total_correlation": joint.total_correlation(table), "rows": rows,
                      "frontier": [row["label"] for row in frontier(rows)]})
    return write_result("frontier", {"quick": quick, "cases": cases})


def _shown(value):
    """0 for the rounding residue of an exact law (|value| < 1e-12; the result file keeps the number)."""
    return 0.0 if abs(value) < 1e-12 else value


def table(result):
    parts = []
    for case in result["cases"]:
        on_frontier = set(case["frontier"])
        rows = sorted(case["rows"], key=lambda r: (r["expected_calls"], r["kl_p_q"]))
        parts.append(f"{case['data']}: TC(p) = {case['total_correlation']:.4g} nats (what one step revealing "
                     f"all {case['length']} tokens loses with the oracle)\n" + tabulate(
                         [(r["label"], r["expected_calls"], r["tokens_per_call"], _shown(r["kl_p_q"]), _shown(r["tv"]),
                           r["incoherent_mass"], "*" if r["label"] in on_frontier else "") for r in rows],
                         headers=("sampler (oracle denoiser, T = 1)", "E[NFE]", "tokens/call", "KL(p||q)", "TV",
                                  "incoherent", "frontier"), floatfmt=".4g"))
    return "\n\n".join(parts)


def main(argv=None):
    run_main(run, table, argv)


if __name__ == "__main__":
    main()
