"""The bulk exact-law path (refimpl/layout.py, samplers/subsets.py) against brute-force enumeration.

Every reference here is a second algorithm written for the test: the top-k law by enumerating every
draw of every candidate and ranking it, the live patterns, source indices and denoiser answers by
decoding each partial sequence, and whole sampler laws by following every path of draws.
"""
import itertools

import numpy as np
import pytest
import refimpl
from hypothesis import given, settings
from hypothesis import strategies as st
from refimpl import samplers as S
from refimpl.core.numerics import value_grid
from refimpl.denoisers import reader
from refimpl.engine import layout
from refimpl.laws import space
from refimpl.samplers import steps as St
from refimpl.samplers.kernels.subsets import subset_grid, top_k_reveals

from tests import originals
from tests.helpers import engine_run, random_denoiser, random_table


def brute_top_k(q, conf, k):
    """{(kept positions, their tokens): probability} for one source: every draw, ranked by
    (confidence desc, position asc)."""
    count, vocab_size = q.shape
    out = {}
    for x in itertools.product(range(vocab_size), repeat=count):
        p = np.prod([q[i, x[i]] for i in range(count)])
        ranked = sorted(range(count), key=lambda i: (-conf[i, x[i]], i))
        kept = tuple(sorted(ranked[:k]))
        key = (kept, tuple(x[i] for i in kept))
        out[key] = out.get(key, 0.0) + p
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(2, 3), st.integers(0, 4), st.integers(1, 5), st.integers(0, 2**32 - 1),
       st.sampled_from(["ties", "equal", "continuous", "drawn"]))
def test_top_k_law_is_the_law_of_ranked_draws(count, vocab_size, k, sources, seed, kind):
    """top_k_reveals against ranking every joint draw (proofs/confidence_rules.md, part 1), ties included."""
    k = min(k, count)
    rng = np.random.default_rng(seed)
    q = rng.dirichlet(np.ones(vocab_size), size=(count, sources)).transpose(0, 2, 1)  # (e, V, S)
    if kind == "ties":  # few distinct values: ties within and across candidates
        conf = rng.integers(0, 3, size=q.shape) / 4.0
    elif kind == "equal":  # one value: the ranking is by position alone
        conf = np.full(q.shape, 0.5)
    elif kind == "continuous":
        conf = rng.random(q.shape)
    else:  # LLaDA at T = 1: the confidence is the drawing probability
        conf = q.copy()
    weight = rng.random(sources)
    slots, grid = subset_grid(count, k, vocab_size)
    law = top_k_reveals(q, conf, slots, weight)  # (n_sub, G, S)
    for s in range(sources):
        expected = brute_top_k(q[:, :, s], conf[:, :, s], k)
        got = {(tuple(int(i) for i in slots[a]), tuple(int(v) for v in grid[g])): law[a, g, s]
               for a in range(len(slots)) for g in range(len(grid))}
        for key, value in got.items():
            assert value == pytest.approx(weight[s] * expected.get(key, 0.0), abs=1e-15, rel=1e-12)
        assert set(expected) <= set(got)


def brute_live(mass, vocab_size):
    partial = space.decode(np.flatnonzero(mass.reshape(-1)), vocab_size, mass.ndim, partial=True)
    return {tuple(row == vocab_size) for row in partial}


@pytest.mark.parametrize("vocab_size, length", [(2, 3), (3, 4), (4, 2)])
def test_live_patterns_source_indices_and_offsets_by_decoding(vocab_size, length):
    rng = np.random.default_rng(vocab_size * 7 + length)
    mass = np.where(rng.random((vocab_size + 1,) * length) < 0.3, rng.random((vocab_size + 1,) * length), 0.0)
    live = layout.live_patterns(mass, vocab_size)
    assert {tuple(p) for p in live} == brute_live(mass, vocab_size)
    for masked_count in range(length + 1):
        patterns = np.array([[i in c for i in range(length)] for c in itertools.combinations(range(length), masked_count)])
        index = layout.source_index(patterns, vocab_size)  # (P, N)
        for p, pattern in enumerate(patterns):
            z = np.full((vocab_size ** (length - masked_count), length), vocab_size)
            z[:, ~pattern] = value_grid(vocab_size, length - masked_count)
            np.testing.assert_array_equal(index[p], space.encode(z, vocab_size, partial=True))
        if masked_count:
            at = layout.positions(patterns)
            slots, grid = subset_grid(masked_count, 1, vocab_size)
            offsets = layout.reveal_offsets(at, slots, vocab_size, length)  # (P, n_sub, G)
            for p in range(len(patterns)):
                for s, (slot,) in enumerate(slots):
                    for g, (token,) in enumerate(grid):
                        z = np.where(patterns[p], vocab_size, 0)
                        moved = z.copy()
                        moved[at[p, slot]] = token
                        assert offsets[p, s, g] == (space.encode(moved[None], vocab_size, partial=True)
                                                    - space.encode(z[None], vocab_size, partial=True))[0]


@pytest.mark.parametrize("which", ["table", "lattice", "tabulated", "callable"])
def test_conditionals_in_bulk_are_the_denoisers_answers(which):
    vocab_size, length = 3, 4
    rng = np.random.default_rng(11)
    table = random_table(rng, vocab_size, length, concentration=0.5, zero_fraction=0.3)
    denoiser = {"table": refimpl.oracle_denoiser(table, precompute=True),
                "lattice": refimpl.oracle_denoiser(table, precompute=False),
                "tabulated": refimpl.denoisers.tabulate(random_denoiser(rng, vocab_size, length), vocab_size, length),
                "callable": random_denoiser(rng, vocab_size, length)}[which]
    patterns = np.array([[i in c for i in range(length)] for c in itertools.combinations(range(length), 2)])
    index = layout.source_index(patterns, vocab_size)
    at = layout.positions(patterns)
    mu = reader(denoiser, vocab_size, length).gather(index, at)  # (e, V, P, N)
    for p in range(len(patterns)):
        z = space.decode(index[p], vocab_size, length, partial=True)
        expected = refimpl.denoisers.evaluate(denoiser, z, vocab_size)  # (N, L, V)
        for t, j in enumerate(at[p]):
            np.testing.assert_allclose(mu[t, :, p, :], expected[:, j, :].T, rtol=1e-14, atol=0)


def _tempered(mu, temperature):
    """softmax(log mu / T) per row, the argmax (lowest token on ties) at T = 0 — written here, not refimpl's."""
    if temperature == 0:
        return np.eye(mu.shape[-1])[np.argmax(mu, axis=-1)]
    with np.errstate(divide="ignore"):
        return originals._softmax(np.log(mu) / temperature)


def _token_probs(step, mu):
    """(q, confidence) (L, V) of a top-k step from its fields, as LLaDA and Dream's ``sample_tokens`` define
    them (tests/originals.py's truncation), independently of refimpl's own."""
    with np.errstate(divide="ignore"):
        logits = np.log(mu)
    if step.temperature > 0:
        logits = logits / step.temperature
    if step.top_p is not None and step.top_p < 1:
        logits = originals._top_p_logits(logits, step.top_p)
    if step.top_k is not None:
        logits = originals._top_k_logits(logits, step.top_k)
    shaped = originals._softmax(logits)
    q = shaped if step.temperature > 0 else np.eye(mu.shape[-1])[np.argmax(shaped, axis=-1)]
    base = shaped if step.tempered_confidence else mu
    if step.confidence == "drawn":
        return q, base
    if step.confidence == "margin":
        ordered = -np.sort(-base, axis=-1)
        return q, np.repeat(ordered[:, :1] - ordered[:, 1:2], mu.shape[-1], axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = np.where(base > 0, base * np.log(base), 0.0).sum(axis=-1, keepdims=True)
    return q, np.repeat(entropy, mu.shape[-1], axis=-1)


def path_law(denoiser, sampler, length, vocab_size, prompt=None):
    """The exact law by following every path of draws (top-k, uniform-k, threshold and factor steps only)."""
    start = np.full(length, vocab_size) if prompt is None else np.asarray(prompt)
    states = {tuple(start): 1.0}
    for step in sampler.plan(start == vocab_size, np.ones(length, dtype=bool)):
        after = {}
        for z, mass in states.items():
            z = np.array(z)
            candidates = [i for i in range(length) if z[i] == vocab_size and step.eligible[i]]
            mu = refimpl.denoisers.evaluate(denoiser, z[None], vocab_size)[0]  # (L, V)
            k = step.count(len(candidates)) if candidates and hasattr(step, "count") else 0
            if isinstance(step, St.ThresholdStep):  # Fast-dLLM: all that reach tau, else the most confident
                q = _tempered(mu, step.temperature)
                for x in itertools.product(range(vocab_size), repeat=len(candidates)):
                    p = mass * np.prod([q[i, v] for i, v in zip(candidates, x)])
                    confidence = [mu[i, v] for i, v in zip(candidates, x)]
                    kept = [a for a in range(len(candidates)) if confidence[a] >= step.threshold]
                    if candidates and not kept:
                        kept = [min(range(len(candidates)), key=lambda a: (-confidence[a], a))]
                    new = z.copy()
                    for a in kept:
                        new[candidates[a]] = x[a]
                    after[tuple(new)] = after.get(tuple(new), 0.0) + p
            elif isinstance(step, St.FactorStep):  # Fast-dLLM's get_transfer_index_dynamic
                q = _tempered(mu, step.temperature)
                for x in itertools.product(range(vocab_size), repeat=len(candidates)):
                    p = mass * np.prod([q[i, v] for i, v in zip(candidates, x)])
                    confidence = [mu[i, v] for i, v in zip(candidates, x)]
                    ranked = sorted(range(len(candidates)), key=lambda a: (-confidence[a], a))
                    top = len(candidates)  # no rank fails: all
                    for r in range(1, len(candidates)):
                        if confidence[ranked[r]] < 1 - step.factor / (r + 2):
                            top = r
                            break
                    if top == len(candidates) - 1:  # the first to fail is the last rank: all the same
                        top = len(candidates)
                    new = z.copy()
                    for a in ranked[:top]:
                        new[candidates[a]] = x[a]
                    after[tuple(new)] = after.get(tuple(new), 0.0) + p
            elif isinstance(step, St.TopKStep) and step.position_temperature > 0:  # Dream's alg_temp
                q, conf = _token_probs(step, mu)
                for x in itertools.product(range(vocab_size), repeat=len(candidates)):
                    p = mass * np.prod([q[i, v] for i, v in zip(candidates, x)])
                    w = [np.exp(conf[i, v] / step.position_temperature) for i, v in zip(candidates, x)]
                    for order in itertools.permutations(range(len(candidates)), k):  # draws without replacement
                        p_order, left = p, sum(w)
                        for a in order:
                            p_order *= w[a] / left
                            left -= w[a]
                        new = z.copy()
                        for a in order:
                            new[candidates[a]] = x[a]
                        after[tuple(new)] = after.get(tuple(new), 0.0) + p_order
            elif isinstance(step, St.TopKStep):
                q, conf = _token_probs(step, mu)
                for x in itertools.product(range(vocab_size), repeat=len(candidates)):
                    p = mass * np.prod([q[i, v] for i, v in zip(candidates, x)])
                    ranked = sorted(range(len(candidates)), key=lambda a: (-conf[candidates[a], x[a]], a))
                    new = z.copy()
                    for a in ranked[:k]:
                        new[candidates[a]] = x[a]
                    after[tuple(new)] = after.get(tuple(new), 0.0) + p
            else:
                q = _tempered(mu, step.temperature)
                chosen_sets = list(itertools.combinations(candidates, k))
                for chosen in chosen_sets:
                    for x in itertools.product(range(vocab_size), repeat=k):
                        new = z.copy()
                        new[list(chosen)] = x
                        p = mass * np.prod([q[i, v] for i, v in zip(chosen, x)]) / len(chosen_sets)
                        after[tuple(new)] = after.get(tuple(new), 0.0) + p
        states = after
    out = np.zeros((vocab_size,) * length)
    for z, mass in states.items():
        out[z] += mass
    return out


@pytest.mark.parametrize("sampler", [
    S.LLaDA(3, temperature=1.0), S.LLaDA(2, temperature=0.0), S.LLaDA(4, block_length=2, temperature=0.6),
    S.LLaDA(2, temperature=1.0, remasking="random"), S.Dream(3, "maskgit_plus", temperature=0.8),
    S.Dream(2, "topk_margin", temperature=1.0), S.Dream(3, "entropy", temperature=0.5), S.RandomK(2),
    S.Threshold(0.4, temperature=1.0), S.Threshold(0.5, block_length=2, temperature=0.7),
    S.Threshold(0.125, temperature=1.0), S.Factor(1.0, temperature=1.0), S.Factor(0.5, temperature=0.7),
    S.Factor(2.0, block_length=2, temperature=1.0), S.Factor(1.0, temperature=0.0),
    S.Dream(3, "maskgit_plus", temperature=0.8, top_p=0.75), S.Dream(2, "entropy", temperature=0.0, top_k=2),
    S.Dream(3, "maskgit_plus", temperature=0.8, alg_temp=0.5), S.Dream(2, "topk_margin", temperature=0.0, alg_temp=3.0),
], ids=repr)
@pytest.mark.parametrize("which", ["oracle", "random"])
def test_exact_law_follows_every_path_of_draws(sampler, which):
    """Top-k, factor-rule and alg_temp steps (proofs/confidence_rules.md) against following every path of
    draws, on coarse probabilities where confidences tie."""
    vocab_size, length = 3, 4
    rng = np.random.default_rng(5)
    table = random_table(rng, vocab_size, length, concentration=0.4)
    table = np.round(table * 8) / 8  # coarse probabilities: ties in confidence happen
    table = table / table.sum()
    denoiser = refimpl.oracle_denoiser(table) if which == "oracle" else random_denoiser(rng, vocab_size, length)
    expected = path_law(denoiser, sampler, length, vocab_size)
    np.testing.assert_allclose(refimpl.exact_law(denoiser, sampler, length, vocab_size), expected, atol=1e-14)
    prompt = np.array([vocab_size, 1, vocab_size, vocab_size])
    np.testing.assert_allclose(refimpl.exact_law(denoiser, sampler, length, vocab_size, prompt=prompt),
                               path_law(denoiser, sampler, length, vocab_size, prompt), atol=1e-14)


def test_kept_memory_does_not_leak_between_calls():
    """The engine keeps its tables and batch arrays between calls (refimpl/engine/runner.py _kept_workspace): calls
    of other shapes in between, a denoiser that itself computes an exact law, and calls from other
    threads must all see the same numbers as following every path of draws."""
    import threading

    rng = np.random.default_rng(8)
    table = random_table(rng, 3, 4, concentration=0.5)
    oracle = refimpl.oracle_denoiser(table)
    sampler = S.LLaDA(2, temperature=1.0)
    expected = path_law(oracle, sampler, 4, 3)
    first = refimpl.exact_law(oracle, sampler, 4, 3)
    np.testing.assert_allclose(first, expected, atol=1e-14)
    other = random_table(rng, 2, 6, concentration=0.5)  # a larger table for the same kept arrays
    np.testing.assert_allclose(refimpl.exact_law(refimpl.oracle_denoiser(other), S.Ancestral(steps=3), 6, 2).sum(), 1.0)
    np.testing.assert_array_equal(refimpl.exact_law(oracle, sampler, 4, 3), first)

    class Nested:  # answers like the oracle, after computing an exact law of its own
        def __call__(self, z):
            refimpl.exact_law(refimpl.oracle_denoiser(other), S.LLaDA(3), 6, 2)
            return oracle(z)

    np.testing.assert_allclose(refimpl.exact_law(Nested(), sampler, 4, 3), expected, atol=1e-14)
    results = [None] * 4

    def run(i):
        results[i] = refimpl.exact_law(oracle, sampler, 4, 3) if i % 2 else refimpl.exact_law(
            refimpl.oracle_denoiser(other), S.LLaDA(3), 6, 2)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    alone = refimpl.exact_law(refimpl.oracle_denoiser(other), S.LLaDA(3), 6, 2)
    for i, result in enumerate(results):
        np.testing.assert_array_equal(result, first if i % 2 else alone)
    from refimpl.engine import runner as engine

    assert 0 < engine._kept.work.nbytes() <= engine.KEEP_BYTES
    with refimpl.memory_limit(2**16):  # what a call keeps stays under an eighth of the limit in force
        np.testing.assert_array_equal(refimpl.exact_law(oracle, sampler, 4, 3), first)
        assert engine._kept.work is None


def test_threshold_counts_a_confidence_equal_to_tau_as_reaching_it():
    """Fast-dLLM commits every token whose confidence is >= tau: with two perfectly coupled positions
    each confidence is exactly 1/2, so Threshold(0.5) reveals both at once (the product of marginals:
    half the mass on incoherent pairs); a strict > would reveal one, then the other given it."""
    table = np.array([[0.5, 0.0], [0.0, 0.5]])
    oracle = refimpl.oracle_denoiser(table)
    law = refimpl.exact_law(oracle, S.Threshold(0.5, temperature=1.0), 2, 2)
    np.testing.assert_allclose(law, path_law(oracle, S.Threshold(0.5, temperature=1.0), 2, 2), atol=1e-15)
    np.testing.assert_allclose(law, np.full((2, 2), 0.25), atol=1e-15)
    np.testing.assert_allclose(refimpl.exact_law(oracle, S.Threshold(0.75, temperature=1.0), 2, 2), table, atol=1e-15)


def _poison(work):
    """Fill every float array a Workspace keeps (its children's too) with NaN."""
    from refimpl.core.numerics import Workspace

    for held in work._arrays.values():
        if isinstance(held, Workspace):
            _poison(held)
        elif held.dtype.kind == "f":
            held.fill(np.nan)


class _OneToken:
    """A sampler whose plan reveals one token and stops (the public samplers refuse to leave masks)."""

    def plan(self, masked, region):
        return [St.UniformKStep(tuple(bool(r) for r in region), St.FixedCount(1))]


@pytest.mark.parametrize("sampler", [
    S.LLaDA(4, temperature=1.0), S.FirstHitting(), S.RandomK(2), S.Dream(3, "maskgit_plus", temperature=1.0),
    S.SemiAR(2, S.Ancestral(steps=2)), S.SemiAR(2, S.RandomK(1)), S.Threshold(0.5), S.LeftToRight(),
    S.Ancestral(steps=3), S.Dream(3, "origin", temperature=0.8), S.Factor(1.0, temperature=1.0),
], ids=repr)
@pytest.mark.parametrize("block_cost", [0, layout.BLOCK_COST])  # clear and sum by blocks wherever possible, or as usual
def test_blocks_that_hold_no_mass_are_never_read(sampler, block_cost, monkeypatch):
    """The engine reads only the blocks of the mask patterns that may hold mass (refimpl/engine/per_pattern.py, and the
    ``live`` patterns of refimpl/engine/counts.py); every other block of the tables it keeps between
    calls may hold anything.  Fill every kept array with NaN before each call: the laws must not move,
    and a plan that stops with masks left must still be refused."""
    from refimpl.engine import runner as engine

    monkeypatch.setattr(layout, "BLOCK_COST", block_cost)

    vocab_size, length = 3, 4
    oracle = refimpl.oracle_denoiser(random_table(np.random.default_rng(11), vocab_size, length, concentration=0.5))
    prompts = (None, np.array([vocab_size, 2, vocab_size, vocab_size]))
    engine._kept.work = None
    try:
        expected = [refimpl.exact_law(oracle, sampler, length, vocab_size, prompt=p) for p in prompts]
        for prompt, want in zip(prompts, expected):
            _poison(engine._kept.work)
            np.testing.assert_array_equal(refimpl.exact_law(oracle, sampler, length, vocab_size, prompt=prompt), want)
            assert want.sum() == pytest.approx(1.0, abs=1e-12)
        _poison(engine._kept.work)
        with pytest.raises(refimpl.InvalidParameterError, match="leaves probability 1 on sequences that still hold masks"):
            refimpl.exact_law(oracle, _OneToken(), length, vocab_size)
    finally:
        engine._kept.work = None  # later tests start from fresh memory


def test_reachable_patterns_without_mass_are_not_visited():
    """A step lists every pattern it can reach as live for the next, some of which may get no mass
    (here: a point-mass law, so each LLaDA step commits one known position, the lowest of the tied
    confidences); those are skipped, not visited: one pattern per step, each step's reveals name only
    that pattern, and the one (masked, revealed) pair that happens has all the probability (the other
    subsets of the pattern are listed with probability 0)."""
    vocab_size, length = 3, 4
    table = np.zeros((vocab_size,) * length)
    table[2, 0, 1, 2] = 1.0
    result = engine_run(refimpl.oracle_denoiser(table), S.LLaDA(4, temperature=1.0), length, vocab_size,
                                reveals=True)
    law, stats, reveals = result.law, result.stats, result.reveals
    np.testing.assert_array_equal(law, table)
    assert (stats.steps, stats.patterns) == (4, 4)
    assert [{masked for masked, _ in step} for step in reveals] == [{tuple(range(t, length))} for t in range(length)]
    assert [{key: p for key, p in step.items() if p} for step in reveals] == [
        {(tuple(range(t, length)), (t,)): 1.0} for t in range(length)]
