r"""Near-autoregressive decoding: confidence-based samplers commit next to what is already known.

On Markov-chain data (the homogenisation chain) with a prefix prompt, we compute exactly, from the
engine's reveal statistics, the probability that a committed token sits next to an already-known
token (a neighbour i-1 or i+1 is clean when it is committed), and the probability that it is the
leftmost masked position (strictly left-to-right).  Random order is the baseline.
"""
import numpy as np

from .. import samplers
from ..denoisers import oracle_denoiser
from ..engine import problem, run
from ..laws.metrics import law_metrics
from ..reports.tables import Report, Table
from .homogenisation import law as chain_law


def commit_statistics(denoiser, sampler, length, vocab_size, prompt):
    r"""``(P(adjacent to a known token), P(leftmost masked), law)`` per committed token, exactly.

    Both are expectations over the sampler's run of the fraction of committed tokens with the property.
    """
    result = run(problem(denoiser, sampler, length, vocab_size, prompt), reveals=True)
    law, reveals = result.finished(type(sampler).__name__), result.reveals
    adjacent = leftmost = committed = 0.0
    for step in reveals:
        for (masked, revealed), probability in step.items():
            masked = set(masked)
            for i in revealed:
                committed += probability
                if (i - 1 >= 0 and i - 1 not in masked) or (i + 1 < length and i + 1 not in masked):
                    adjacent += probability
                if i == min(masked):
                    leftmost += probability
    return adjacent / committed, leftmost / committed, law


def samplers_to_compare(masked):
    return [
        ("random order (FirstHitting)", samplers.FirstHitting()),
        ("LLaDA low_confidence, T=0", samplers.LLaDA(masked, temperature=0.0)),
        ("LLaDA low_confidence, T=1", samplers.LLaDA(masked, temperature=1.0)),
        ("Dream entropy, T=1", samplers.Dream(masked, "entropy", temperature=1.0)),
        ("Dream topk_margin, T=1", samplers.Dream(masked, "topk_margin", temperature=1.0)),
        ("left to right", samplers.LeftToRight()),
    ]


def near_ar_experiment(prompt_length=1, first=0):
    table = chain_law()
    vocab_size, length = table.vocab_size, table.length
    prompt = np.full(length, vocab_size)
    prompt[:prompt_length] = first
    masked = length - prompt_length
    oracle = oracle_denoiser(table)
    rows, findings = [], {}
    for name, sampler in samplers_to_compare(masked):
        adjacent, leftmost, law = commit_statistics(oracle, sampler, length, vocab_size, prompt)
        kl = law_metrics(table, law, prompt)["kl_p_q"]
        rows.append((name, adjacent, leftmost, kl))
        findings[f"{name}: P(adjacent)"] = adjacent
    return Report(
        name="near_autoregressive",
        title=f"Near-autoregressive decoding: Markov chain, L = {length}, prompt of {prompt_length} token(s), "
              f"one token per step, oracle denoiser",
        tables=(Table("Per committed token: probability it is next to a known token / the leftmost masked one",
                      ("sampler", "P(adjacent to known)", "P(leftmost masked)", "KL(p || q)"), tuple(rows)),),
        findings=findings,
        notes=("Dream runs its own grid with steps = the masked count: int(n(1 - s/t)) truncates, so here it "
               "commits nothing on its first step and two tokens on its last.",))
