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

The rows come from :mod:`refimpl.experiments.frontier` (``refimpl frontier`` runs it on any law and
denoiser).  Run: ``python -m benchmarks.frontier`` (``--quick``: the paper's toy set only, fewer settings).
"""
import time

import numpy as np
import refimpl
from refimpl.diffusion import schedules
from refimpl.experiments import toy
from refimpl.experiments.frontier import default_samplers, frontier_rows, shown, undominated
from refimpl.laws import datasets, quantities
from refimpl.models import mlp
from refimpl.models.train import TrainConfig, train
from tabulate import tabulate

from benchmarks.common import run_main, smoke, write_result


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


def trained_mlp(table, seed=0):
    """An MLP trained on the law's NELBO (2000 steps, 100 in a smoke run; the paper's toy model's settings),
    tabulated: what a user's imperfect denoiser looks like next to the oracle."""
    vocab_size, length = table.shape[0], table.ndim
    model, _ = train(table, mlp.MLPConfig(vocab_size, length, (128, 128), "gelu"),
                     TrainConfig(steps=100 if smoke() else 2000, batch_size=256, lr=3e-3, seed=seed),
                     schedule=schedules.Polynomial(2.0), progress=False)
    return refimpl.denoisers.tabulate(model, vocab_size, length)


def run(quick=False):
    cases = []
    laws = data_laws(quick)
    denoisers = [(name, table, "oracle", refimpl.oracle_denoiser(table)) for name, table in laws]
    denoisers += [(name, table, "trained MLP", trained_mlp(table)) for name, table in (laws[:1] if quick else laws[::2])]
    for name, table, which, denoiser in denoisers:
        vocab_size, length = table.shape[0], table.ndim
        start = time.perf_counter()
        rows = frontier_rows(table, denoiser, default_samplers(length, quick=quick), ties=False)  # (not shown here)
        cases.append({"data": name, "denoiser": which, "vocab_size": vocab_size, "length": length,
                      "seconds": time.perf_counter() - start, "total_correlation": quantities.total_correlation(table),
                      "rows": rows, "frontier": [row["label"] for row in undominated(rows)]})
    return write_result("frontier", {"quick": quick, "cases": cases})


def table(result):
    parts = []
    for case in result["cases"]:
        on_frontier = set(case["frontier"])
        rows = sorted(case["rows"], key=lambda r: (r["expected_calls"], r["kl_p_q"]))
        parts.append(f"{case['data']}, {case['denoiser']}: TC(p) = {case['total_correlation']:.4g} nats (what one "
                     f"step revealing all {case['length']} tokens loses with the oracle)\n" + tabulate(
                         [(r["label"], r["expected_calls"], r["tokens_per_call"], shown(r["kl_p_q"]), shown(r["tv"]),
                           r["incoherent_mass"], "*" if r["label"] in on_frontier else "") for r in rows],
                         headers=(f"sampler ({case['denoiser']}, T = 1)", "E[NFE]", "tokens/call", "KL(p||q)", "TV",
                                  "incoherent", "frontier"), floatfmt=".4g"))
    return "\n\n".join(parts)


def main(argv=None):
    run_main(run, table, argv)


if __name__ == "__main__":
    main()
