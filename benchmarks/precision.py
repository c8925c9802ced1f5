"""Low-precision draws (issue #22, precision): the cost of one exact draw law per precision and vocabulary
size, and how far each precision's law is from the ideal one, as a function of the temperature and V.

Cost: :func:`refimpl.samplers.kernels.precision.draw_law` for LLaDA's and MDLM's forms, timed side by side with the
float64 (ideal) law after a warm-up — the ratio is information, not a target (the issue names none).  The
uniform's support is 2^24 values in float32, ~12,300 in float16 and ~1,950 in bfloat16, so float32 costs
seconds per draw.  Distance: TV and KL(low || ideal) of one draw on a Zipf law p_v ~ (v + 1)^-1.1 and on a
peaked law (0.9 on one token, the rest Zipf), for T in 0.25 .. 2 and V in 4 .. 64 (float32 up to V = 8); and
of whole sequences, LLaDA(L, T, precision), Ancestral(L, precision), Dream, Fast-dLLM's rules, the EB-Sampler and
LLaDA2 against their float64 laws.
Run: ``python -m benchmarks.precision`` (``--quick``: bfloat16 only, fewer settings).
"""
import numpy as np
import refimpl
from refimpl import samplers as S
from refimpl.laws import datasets
from refimpl.samplers.kernels.precision import draw_law
from refimpl.samplers.steps import temper
from scipy.special import rel_entr
from tabulate import tabulate

from benchmarks.common import run_main, smoke, timed, write_result

FORMS = ("llada", "mdlm")


def zipf(vocab_size):
    weights = (np.arange(vocab_size) + 1.0) ** -1.1
    return weights / weights.sum()


def peaked(vocab_size):
    rest = zipf(vocab_size - 1) * 0.1
    return np.concatenate([[0.9], rest])


def ideal(probs, temperature, form):
    return temper(probs, temperature) if form == "llada" else probs


def run(quick=False):
    precisions = ("bfloat16",) if quick else ("float32", "float16", "bfloat16")
    costs = []
    for precision in precisions:
        for vocab_size in (2, 4, 8) if precision == "float32" else (4,) if smoke() else (4, 16) if quick else (4, 16, 64):
            probs = zipf(vocab_size)
            for form in FORMS:
                low = timed(lambda: draw_law(probs, 1.0, precision, form), repeats=1 if precision == "float32" else 3)
                base = timed(lambda: draw_law(probs, 1.0, "float64", form), repeats=20)
                costs.append({"precision": precision, "form": form, "vocab_size": vocab_size,
                              "seconds": low["median"], "float64_seconds": base["median"],
                              "ratio": low["median"] / base["median"]})
    distances = []
    temperatures = (0.5, 1.0) if quick else (0.25, 0.5, 1.0, 2.0)
    for precision in precisions:
        for vocab_size in ((4, 8) if precision == "float32" else (4, 16) if quick else (4, 16, 64)):
            for law_name, maker in (("zipf", zipf), ("peaked", peaked)):
                probs = maker(vocab_size)
                for form in FORMS:
                    for temperature in (temperatures if form == "llada" else (1.0,)):
                        if precision == "float32" and temperature not in (0.5, 1.0):
                            continue
                        low, exact = draw_law(probs, temperature, precision, form), ideal(probs, temperature, form)
                        distances.append({"precision": precision, "form": form, "law": law_name,
                                          "vocab_size": vocab_size, "temperature": temperature,
                                          "tv": 0.5 * float(np.abs(low - exact).sum()),
                                          "kl_low_ideal": float(rel_entr(low, exact).sum()),
                                          "top_token_lost": float(exact[0] - low[0])})
    sequences = []
    for vocab_size, length in ((3, 4),) if quick else ((3, 4), (4, 4), (8, 3)):
        law = datasets.dirichlet(vocab_size, length, np.random.default_rng(0), 0.5)
        oracle = refimpl.oracle_denoiser(law)
        for name, build in (("LLaDA", lambda t, p: S.LLaDA(length, temperature=t, precision=p)),
                            ("Ancestral", lambda t, p: S.Ancestral(steps=length, precision=p)),
                            ("Dream entropy", lambda t, p: S.Dream(length, "entropy", t, eps=0.3, precision=p)),
                            ("Dream maskgit_plus", lambda t, p: S.Dream(length, "maskgit_plus", t, eps=0.3, precision=p)),
                            ("Threshold 0.9", lambda t, p: S.Threshold(0.9, temperature=t, precision=p)),
                            ("Factor 1", lambda t, p: S.Factor(1.0, temperature=t, precision=p)),
                            ("EntropyBound 0.5", lambda t, p: S.EntropyBound(0.5, temperature=t, precision=p)),
                            ("LLaDA2 0.7", lambda t, p: S.LLaDA2(length, threshold=0.7, temperature=t, precision=p))):
            for temperature in ((0.5, 1.0) if name == "LLaDA" else (1.0,)):
                ideal_law = refimpl.exact_law(oracle, build(temperature, "float64"), length, vocab_size)
                for precision in ("bfloat16",) if quick else ("float16", "bfloat16"):
                    low = refimpl.exact_law(oracle, build(temperature, precision), length, vocab_size)
                    sequences.append({"sampler": name, "precision": precision, "vocab_size": vocab_size,
                                      "length": length, "temperature": temperature, "tv": refimpl.tv(low, ideal_law),
                                      "kl_low_ideal": refimpl.kl(low, ideal_law), "kl_p_low": refimpl.kl(law.table, low),
                                      "kl_p_ideal": refimpl.kl(law.table, ideal_law)})
    return write_result("precision", {"quick": quick, "cases": costs, "distances": distances, "sequences": sequences,
                                      "ties": ties_rows(quick), "saturation": saturation_rows(),
                                      "floor": floor_rows()})


def floor_rows():
    """On the floor law (V = L = 3: sequence (0, 1, 2) but for 1e-7 on every other; tests/samplers/
    test_precision_samplers.py), each Gumbel-max sampler's TV to its ideal law in float16 and bfloat16 at T = 1:
    the floor's tokens (drawn when the leading token's uniform is 0) kept or drawn again."""
    table = np.full((3, 3, 3), 1e-7)
    table[0, 1, 2] = 0.0
    table[0, 1, 2] = 1.0 - table.sum()
    oracle = refimpl.oracle_denoiser(table)
    rows = []
    for name, build in (("LLaDA 3 steps", lambda p: S.LLaDA(3, temperature=1.0, precision=p)),
                        ("Threshold 0.9", lambda p: S.Threshold(0.9, temperature=1.0, precision=p)),
                        ("Factor 1", lambda p: S.Factor(1.0, temperature=1.0, precision=p)),
                        ("EntropyBound 0.5", lambda p: S.EntropyBound(0.5, temperature=1.0, precision=p))):
        ideal_law = refimpl.exact_law(oracle, build("float64"), 3, 3)
        rows.append({"sampler": name, **{precision: refimpl.tv(refimpl.exact_law(oracle, build(precision), 3, 3), ideal_law)
                                         for precision in ("float16", "bfloat16")}})
    return rows


def exchangeable_table(seed, vocab_size=3, length=4, coarse=8):
    """A law unchanged by permuting positions, with coarse probabilities (tests/samplers/test_ties.py's)."""
    import itertools
    import math

    from refimpl.testing.strategies import dirichlet_table

    table = dirichlet_table(np.random.default_rng(seed), vocab_size, length, 0.5, 0.0)
    table = sum(np.transpose(table, order) for order in itertools.permutations(range(length))) / math.factorial(length)
    table = np.round(table * coarse * vocab_size ** length) + (table > 0)
    return table / table.sum()


def ties_rows(quick):
    """Dream (4 steps, eps 0.3) on the exchangeable law, seed 5: the laws under other tie rules (and torch.topk's
    order, when torch is installed) against lowest-first, and the probability of a deciding tie."""
    try:
        import torch
    except ImportError:
        torch = None
    table = exchangeable_table(5)
    oracle = refimpl.oracle_denoiser(table)
    rows = []
    for alg in ("entropy", "maskgit_plus", "topk_margin"):
        for temperature in ((1.0,) if quick else (0.5, 1.0)):
            lowest = S.Dream(4, alg, temperature, eps=0.3)
            law = refimpl.exact_law(oracle, lowest, 4, 3)
            row = {"alg": alg, "temperature": temperature, "tie_probability": refimpl.tie_probability(oracle, lowest, 4, 3),
                   "tv_random": refimpl.tv(law, refimpl.exact_law(oracle, S.Dream(4, alg, temperature, eps=0.3,
                                                                                  tie="random"), 4, 3))}
            if torch is not None:
                def topk(confidence, k):
                    return torch.topk(torch.from_numpy(confidence), k).indices.numpy()
                ranked = S.Dream(4, alg, temperature, eps=0.3, tie=topk)
                row["tv_torch_topk"] = refimpl.tv(law, refimpl.exact_law(oracle, ranked, 4, 3))
            rows.append(row)
    return rows


def saturation_rows():
    """LLaDA (5 steps, T = 1) on a sharp Markov chain started uniform (V = 3, L = 5) with its confidences in
    float64, float32, bfloat16: the probability of a deciding tie, of revealing position 1 first, and KL."""
    transition = np.full((3, 3), 0.0005) + np.eye(3)[[1, 2, 0]] * 0.999
    law = datasets.markov_chain(np.full(3, 1 / 3), transition / transition.sum(axis=1, keepdims=True), 5)
    oracle = refimpl.oracle_denoiser(law)
    rows = []
    for precision in ("float64", "float32", "bfloat16"):
        sampler = S.LLaDA(5, temperature=1.0, confidence_precision=precision)
        result = refimpl.engine.run(refimpl.engine.problem(oracle, sampler, 5, 3), reveals=True, ties=True)
        q, reveals = result.finished(), result.reveals
        rows.append({"confidence_precision": precision, "tie_probability": result.tie_probability,
                     "first_reveal_is_position_1": reveals[0].get((tuple(range(5)), (0,)), 0.0),
                     "kl_p_q": refimpl.kl(law.table, q)})
    return rows


def table(result):
    cost = tabulate([(c["precision"], c["form"], c["vocab_size"], c["seconds"], c["float64_seconds"], c["ratio"])
                     for c in result["cases"]],
                    headers=("precision", "form", "V", "exact law s", "float64 (ideal) s", "ratio"), floatfmt=".3g")
    far = tabulate([(d["precision"], d["form"], d["law"], d["vocab_size"], d["temperature"], d["tv"], d["kl_low_ideal"],
                     d["top_token_lost"]) for d in result["distances"]],
                   headers=("precision", "form", "law", "V", "T", "TV to ideal", "KL(low||ideal)", "p(top) lost"),
                   floatfmt=".3g")
    whole = tabulate([(q["sampler"], q["precision"], q["vocab_size"], q["length"], q["temperature"], q["tv"],
                       q["kl_low_ideal"], q["kl_p_low"], q["kl_p_ideal"]) for q in result["sequences"]],
                     headers=("sampler", "precision", "V", "L", "T", "TV to ideal", "KL(low||ideal)", "KL(p||low)",
                              "KL(p||ideal)"), floatfmt=".3g")
    ties = tabulate([(r["alg"], r["temperature"], r["tie_probability"], r["tv_random"], r.get("tv_torch_topk", "-"))
                     for r in result["ties"]],
                    headers=("Dream alg", "T", "P(tie)", "TV lowest/random", "TV lowest/torch.topk"), floatfmt=".3g")
    saturation = tabulate([(r["confidence_precision"], r["tie_probability"], r["first_reveal_is_position_1"], r["kl_p_q"])
                           for r in result["saturation"]],
                          headers=("confidences", "P(tie)", "P(position 1 first)", "KL(p||q)"), floatfmt=".3g")
    floor = tabulate([(r["sampler"], r["float16"], r["bfloat16"]) for r in result["floor"]],
                     headers=("sampler", "TV float16", "TV bfloat16"), floatfmt=".3g")
    return (f"{cost}\n\nOne draw, exact, against the ideal law:\n{far}\n\n"
            f"Whole sequences (Dirichlet(0.5) law, seed 0, oracle, L steps; Dream eps 0.3), exact:\n{whole}\n\n"
            f"Ties: Dream, 4 steps, eps 0.3, the exchangeable law (seed 5), oracle:\n{ties}\n\n"
            f"Saturated confidences: LLaDA, 5 steps, T = 1, sharp Markov chain (V = 3, L = 5):\n{saturation}\n\n"
            f"The floor law (V = L = 3, T = 1), each sampler's TV to its ideal law:\n{floor}")


def main(argv=None):
    run_main(run, table, argv)


if __name__ == "__main__":
    main()
