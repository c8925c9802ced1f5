"""Issue #38's samplers without a mask: the exact law and expected calls of DiffusionGemma's renoising sampler at V=3,
L=5 with 8 steps, and of Duo's ancestral steps and diffusers' DiscreteDDIM at V=4, L=6 with 8 steps — the target is
10 s each on 2 cores — with the model built apart (its time is shown, not counted); in a full run also the largest L
each computes within 5 minutes and 16 GiB (a probe per process, as benchmarks.largest; V=3, L from 5 up).  The
oracles of a Dirichlet law (seed 0) stand in for the models: the leave-one-out posterior at each call's alpha for
Duo's steps, the time-agnostic model for the others.

Run: ``python -m benchmarks.uniform`` (``--quick``: the targets only, one repeat; ``--probe NAME V L``: one probe).
"""
import json
import resource
import sys
import time

import numpy as np
from tabulate import tabulate

from benchmarks import largest
from benchmarks.common import run_main, smoke, timed, verdict, write_result

GOAL_SECONDS = 10.0
TIME_LIMIT = 300.0
MEMORY_LIMIT = 16 * 2**30
FAMILIES = ("Renoise(8)", "UniformAncestral(8)", "DiscreteDDIM(8, T=1)")
TARGET_SIZES = {"Renoise(8)": (3, 5), "UniformAncestral(8)": (4, 6), "DiscreteDDIM(8, T=1)": (4, 6)}


def build(name, vocab_size, length):
    """(sampler, model, seconds to build the model) at a Dirichlet law of seed 0."""
    from refimpl.diffusion.uniform_elbo import loo_oracle
    from refimpl.diffusion.uniform_oracles import time_agnostic_oracle
    from refimpl.laws import datasets
    from refimpl.samplers.discrete_ddim import DiscreteDDIM
    from refimpl.samplers.renoise import Renoise
    from refimpl.samplers.uniform_ancestral import UniformAncestral

    table = datasets.dirichlet(vocab_size, length, np.random.default_rng(0)).table
    start = time.perf_counter()
    if name == "UniformAncestral(8)":
        sampler = UniformAncestral(8, noise_eps=0.0)
        model = [loo_oracle(table, a) for a in sampler.alphas()]
    else:
        sampler = Renoise(8) if name == "Renoise(8)" else DiscreteDDIM(8, temperature=1.0)
        model = time_agnostic_oracle(table)
    return sampler, model, time.perf_counter() - start


def law_and_calls(sampler, model, vocab_size, length):
    if hasattr(sampler, "exact_law_and_calls"):
        return sampler.exact_law_and_calls(model, vocab_size, length)
    return sampler.exact_law(model, vocab_size, length), sampler.expected_calls()


def probe(name, vocab_size, length):
    """Child process: build the model, time the exact law, report the peak resident memory."""
    import refimpl

    with refimpl.memory_limit(MEMORY_LIMIT):
        sampler, model, _ = build(name, vocab_size, length)
        start = time.perf_counter()
        law, calls = law_and_calls(sampler, model, vocab_size, length)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak_bytes": peak, "total": float(law.sum()), "calls": float(calls)}))


def search(name, vocab_size=3, start=5, stop=12):
    tried = []
    for length in range(start, stop + 1):
        print(f"  probing {name} at V={vocab_size}, L={length}", file=sys.stderr, flush=True)
        tried.append(largest.attempt(name, vocab_size, length, "benchmarks.uniform"))
        if tried[-1]["status"] != "ok":
            break
    best = [t for t in tried if t["status"] == "ok"]
    return {"family": name, "vocab_size": vocab_size, "tried": tried,
            "largest_length": best[-1]["length"] if best else None, "seconds": best[-1]["seconds"] if best else None,
            "peak_bytes": best[-1]["peak_bytes"] if best else None, "stopped_by": tried[-1]["status"]}


def run(quick=False):
    cases = []
    for name in FAMILIES:
        vocab_size, length = (2, 3) if smoke() else TARGET_SIZES[name]
        sampler, model, build_seconds = build(name, vocab_size, length)
        out = {}
        seconds = timed(lambda: out.update(found=law_and_calls(sampler, model, vocab_size, length)),
                        repeats=1 if quick else 3)
        law, calls = out["found"]
        cases.append({"name": name, "sampler": repr(sampler), "vocab_size": vocab_size, "length": length,
                      "seconds": seconds, "model_seconds": build_seconds, "goal_seconds": GOAL_SECONDS,
                      "time_verdict": verdict(seconds["median"], GOAL_SECONDS), "expected_calls": float(calls),
                      "total": float(law.sum())})
    largest = [] if quick else [search(name) for name in FAMILIES]
    return write_result("uniform", {"quick": quick, "cases": cases, "largest": largest,
                                    "time_limit_seconds": TIME_LIMIT, "memory_limit_bytes": MEMORY_LIMIT})


def targets(result):
    out = [(f"#38 {c['name']} V={c['vocab_size']} L={c['length']}: exact law time", f"{c['seconds']['median']:.3g} s",
            f"<= {c['goal_seconds']} s", c["time_verdict"]) for c in result["cases"]]
    out += [(f"#38 largest exact {r['family']} (V={r['vocab_size']}, 5 min, 16 GiB)", f"L = {r['largest_length']}",
             "reported", "") for r in result["largest"]]
    return out


def table(result):
    first = tabulate([(c["name"], c["vocab_size"], c["length"], c["seconds"]["median"], c["time_verdict"],
                       c["model_seconds"], c["expected_calls"]) for c in result["cases"]],
                     headers=("sampler", "V", "L", "exact s", "<= 10 s", "model s", "E[calls]"), floatfmt=".3g")
    if not result["largest"]:
        return first
    second = tabulate([(r["family"], r["vocab_size"], r["largest_length"], r["seconds"], (r["peak_bytes"] or 0) / 2**30,
                        r["stopped_by"]) for r in result["largest"]],
                      headers=("sampler", "V", "largest L", "seconds", "peak GiB", "next L stopped by"), floatfmt=".3g")
    return first + "\n\n" + second


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--probe"]:
        probe(argv[1], int(argv[2]), int(argv[3]))
        return
    run_main(run, table, argv)


if __name__ == "__main__":
    main()
