"""Where the time of a bulk exact law goes: per step kind and stage, in ns per transition entry.

For the LLaDA cases of ``benchmarks.samplers`` (low_confidence, T=1, 4 steps, L=8), the exact law is
timed with timers around the bulk engine's stages (``refimpl.engine.counts`` and ``refimpl.samplers``):
the denoiser's answers (``conditionals``), the rank probabilities B_j (``mass_below``), the rest of the
top-k law (products, minima), and what is left of each chunk — destination indices and the scatter
into the table (``np.add.at``) — next to the time outside the chunks (listing patterns, gathering
their mass, clearing blocks).  The timers add about a microsecond per call; the per-entry figures
are what issue #4's throughput goal is up against: 0.25 of numpy's multiply-add rate, measured in the
same run, allows ``budget ns`` per entry.
Run: ``python -m benchmarks.stages`` (``--quick``: V=3 only).
"""
import collections
import contextlib
import time

import numpy as np
from tabulate import tabulate

from benchmarks.common import multiply_add_throughput, run_main, write_result

GOAL_RATIO = 0.25
CASES = [(3, 8, True), (4, 8, False)]  # (V, L, in quick mode)
REPEATS = 20


@contextlib.contextmanager
def _timers(spent):
    """Wrap the by-counts steps' stages so that each chunk adds its time to ``spent[(e, k)][stage]``: the
    step's transition and the scatter of its moves ("chunks"), the oracle's conditionals, B_j and the
    top-k law."""
    from refimpl.denoisers import conditionals
    from refimpl.engine import moves
    from refimpl.samplers.kernels import subsets
    from refimpl.samplers.steps import choose_k as subset
    from refimpl.samplers.steps import reveal as base

    current = {"key": None}
    originals = [(base.SubsetReveal, "transition"), (moves.ScatterMove, "add_to"),
                 (conditionals.LatticeReader, "gather"), (subsets, "mass_below"), (subset, "top_k_reveals")]
    saved = [getattr(owner, name) for owner, name in originals]

    def timed(fn, stage):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            result = fn(*args, **kwargs)
            spent[current["key"]][stage] += time.perf_counter() - start
            return result
        return wrapper

    def transition(step, states):
        e = states.at.shape[1]
        current["key"] = (e, step.count(e))
        start = time.perf_counter()
        out = saved[0](step, states)
        spent[current["key"]]["chunks"] += time.perf_counter() - start
        spent[current["key"]]["entries"] += sum(move.size for move in out)
        return out

    def add_to(move, table):
        start = time.perf_counter()
        saved[1](move, table)
        spent[current["key"]]["chunks"] += time.perf_counter() - start

    try:
        base.SubsetReveal.transition = transition
        moves.ScatterMove.add_to = add_to
        conditionals.LatticeReader.gather = timed(saved[2], "conditionals")
        subsets.mass_below = timed(saved[3], "B_j")
        subset.top_k_reveals = timed(saved[4], "top-k law")
        yield
    finally:
        for (owner, name), fn in zip(originals, saved):
            setattr(owner, name, fn)


def case(vocab_size, length, fma_rate):
    import refimpl
    from refimpl import samplers as S
    from refimpl.laws import datasets

    oracle = refimpl.oracle_denoiser(datasets.dirichlet(vocab_size, length, np.random.default_rng(0)))
    sampler = S.LLaDA(4, temperature=1.0)
    refimpl.exact_law(oracle, sampler, length, vocab_size)  # warm-up: the engine's kept memory
    spent = collections.defaultdict(lambda: collections.defaultdict(float))
    with _timers(spent):
        refimpl.exact_law(oracle, sampler, length, vocab_size)
        spent.clear()
        start = time.perf_counter()
        for _ in range(REPEATS):
            refimpl.exact_law(oracle, sampler, length, vocab_size)
        total = (time.perf_counter() - start) / REPEATS
    rows = []
    for (e, k), stage in sorted(spent.items(), reverse=True):
        entries = stage["entries"] / REPEATS
        per = {name: stage[name] / REPEATS / entries * 1e9 for name in ("chunks", "conditionals", "B_j", "top-k law")}
        rows.append({"candidates": e, "revealed": k, "entries": entries, "ms": stage["chunks"] / REPEATS * 1e3,
                     "ns_per_entry": per["chunks"], "conditionals": per["conditionals"], "B_j": per["B_j"],
                     "top_k_rest": per["top-k law"] - per["B_j"],
                     "indices_and_scatter": per["chunks"] - per["conditionals"] - per["top-k law"]})
    entries = sum(row["entries"] for row in rows)
    outside = total - sum(row["ms"] for row in rows) / 1e3
    return {"vocab_size": vocab_size, "length": length, "sampler": repr(sampler), "seconds": total,
            "entries": entries, "ns_per_entry": total / entries * 1e9,
            "outside_chunks_ns_per_entry": outside / entries * 1e9,
            "budget_ns_per_entry": 1e9 / (GOAL_RATIO * fma_rate), "steps": rows}


def run(quick=False):
    fma_rate = multiply_add_throughput()
    cases = [case(v, n, fma_rate) for v, n, in_quick in CASES if in_quick or not quick]
    return write_result("stages", {"quick": quick, "multiply_add_per_second": fma_rate, "repeats": REPEATS,
                                   "cases": cases})


def table(result):
    rows = []
    for c in result["cases"]:
        for s in c["steps"]:
            rows.append((f"V={c['vocab_size']} L={c['length']}", f"top-{s['revealed']} of {s['candidates']}",
                         f"{s['entries']:.3g}", s["ms"], s["ns_per_entry"], s["conditionals"], s["B_j"],
                         s["top_k_rest"], s["indices_and_scatter"]))
        outside = c["outside_chunks_ns_per_entry"]
        rows.append(("", "outside the chunks", "", outside * c["entries"] * 1e-6, outside, None, None, None, None))
        rows.append(("", "whole law", f"{c['entries']:.3g}", c["seconds"] * 1e3, c["ns_per_entry"], None, None, None, None))
        rows.append(("", "0.25 x multiply-add (info)", "", None, c["budget_ns_per_entry"], None, None, None, None))
    return tabulate(rows, headers=("LLaDA(4 steps, T=1)", "step", "entries", "ms", "ns/entry", "conditionals", "B_j",
                                   "top-k rest", "indices + scatter"), floatfmt=".3g")


def main(argv=None):
    run_main(run, table, argv, header=lambda r: (
        f"numpy multiply-add throughput: {r['multiply_add_per_second']:.3g} elements/s"))


if __name__ == "__main__":
    main()
