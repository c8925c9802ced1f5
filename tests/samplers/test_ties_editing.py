"""Tie rules of LLaDA2 with editing on (issue #22, ties): the exact law under each rule against following every
path of the pipeline's own loop — every draw at every block position, the stops as ``LLaDA2Pipeline`` decides
them on the path (no masks and no edit, the last scheduled step, ``max_post_steps``), the top-n commit's ties
broken by the rule ("random": averaged over every order of the candidates).  Written from the pipeline's loop
(tests/originals.py's ``llada2``), not from refimpl's plan: no parking, no steps."""
import itertools

import numpy as np
import pytest
import refimpl
from refimpl import samplers as S

from tests import originals
from tests.helpers import chi_square_pvalue, random_denoiser
from tests.samplers.test_ties import RULES, L, V, ended, exchangeable_table, rankings


def drawn(mu, temperature):
    """Per position [(token, probability of the draw, confidence)]: the argmax with the model's probability at
    T = 0 (lowest token on equal logits, as torch.argmax), else every token of softmax(log mu / T) with its
    probability under that law (``_sample_from_logits``)."""
    if temperature == 0:
        return [[(int(np.argmax(row)), 1.0, float(row.max()))] for row in mu]
    with np.errstate(divide="ignore"):
        q = originals._softmax(np.log(mu) / temperature)
    return [[(v, float(row[v]), float(row[v])) for v in range(len(row)) if row[v] > 0] for row in q]


def iteration(sampler, x, given, block, step_idx, schedule, mu, tie):
    """[(probability, new x, masks remaining, edited, draw)] of one pipeline iteration from x in ``block``."""
    editing = sampler.editing
    masked = [i for i in block if x[i] == V]
    clean = [i for i in block if x[i] != V and not given[i]]
    remaining = bool(masked)
    drawing = masked + (clean if editing is not None else [])
    out = []
    for draw in itertools.product(*(drawn(mu[i:i + 1], sampler.temperature)[0] for i in drawing)):
        token = {i: v for i, (v, _, _) in zip(drawing, draw)}
        confidence = {i: c for i, (_, _, c) in zip(drawing, draw)}
        p = float(np.prod([w for _, w, _ in draw]))
        edits = [j for j in clean if editing is not None and confidence[j] > editing and token[j] != x[j]]
        if sampler.edit_rule == "intent" and remaining:
            edits = []
        commits = [(1.0, [])]
        if remaining:
            n = schedule[min(step_idx, len(schedule) - 1)]
            conf = [confidence[i] for i in masked]
            high = [a for a in range(len(masked)) if conf[a] > sampler.threshold]
            commits = [(1.0, high)] if len(high) >= n else [
                (w, ranked[:min(n, len(masked))]) for w, ranked in rankings(tie, conf, masked)]
        for w, chosen in commits:
            new = list(x)
            for i in [masked[a] for a in chosen] + edits:
                new[i] = token[i]
            out.append((p * w, tuple(new), remaining, bool(edits), tuple(sorted(token.items()))))
    return out


def pipeline_law(denoiser, sampler, tie, prompt=None, ties=False):
    """The exact law of ``LLaDA2Pipeline``'s loop by following every path (:func:`iteration`); with ``ties``,
    the probability that a path meets an iteration whose commit some order of its tied candidates changes."""
    start = tuple(np.full(L, V) if prompt is None else np.asarray(prompt))
    given = [t != V for t in start]
    size = L if sampler.block_length is None else sampler.block_length
    schedule = sampler.schedule(L - sum(given), size)  # get_num_transfer_tokens, checked in test_llada2.py
    states = {(start, False): 1.0}
    for first in range(0, L, size):
        block = range(first, first + size)
        running = {(x, tied, 0, 0): mass for (x, tied), mass in states.items() if V in x[first:first + size]}
        states = {key: mass for key, mass in states.items() if V not in key[0][first:first + size]}
        while running:
            after = {}
            for (x, tied, step_idx, post), mass in running.items():
                remaining = V in x[first:first + size]
                post += not remaining
                mu = originals._every_position(denoiser, np.array([x]), V)[0]
                decided = set()
                if ties:
                    kept = {}
                    for _, new, _, _, draw in iteration(sampler, x, given, block, step_idx, schedule, mu, "random"):
                        kept.setdefault(draw, set()).add(new)
                    decided = {draw for draw, news in kept.items() if len(news) > 1}
                for p, new, _, edited, draw in iteration(sampler, x, given, block, step_idx, schedule, mu, tie):
                    count = step_idx + remaining
                    stop = (not remaining and (sampler.editing is None or not edited)
                            or remaining and count >= len(schedule) or not remaining and post > sampler.max_post_steps)
                    target, key = (states, (new, tied or draw in decided)) if stop else (
                        after, (new, tied or draw in decided, count, post))
                    target[key] = target.get(key, 0.0) + mass * p
            running = after
    return ended(states, ties)


EDITING = [
    lambda tie: S.LLaDA2(2, threshold=0.4, editing_threshold=0.3, temperature=1.0, max_post_steps=3, tie=tie),
    lambda tie: S.LLaDA2(4, threshold=0.9, editing_threshold=0.2, temperature=0.0, tie=tie),
    lambda tie: S.LLaDA2(2, block_length=2, threshold=0.5, editing_threshold=0.4, temperature=0.7, max_post_steps=2,
                         tie=tie),
    lambda tie: S.LLaDA2(2, threshold=0.3, editing_threshold=0.25, temperature=1.0, max_post_steps=2,
                         edit_rule="intent", tie=tie),
]


def test_the_pipeline_paths_are_the_pipeline_loop():
    """The enumeration is the loop it was written from: tests/originals.py's ``llada2`` on the same settings
    against it, chi-square at false-alarm rate 1e-3 (seeded), for each edit rule."""
    table = exchangeable_table(1)
    oracle = refimpl.oracle_denoiser(table)
    for seed, build in ((23, EDITING[0]), (24, EDITING[3])):
        sampler = build("lowest")
        fields = {f: getattr(sampler, f) for f in ("steps", "block_length", "threshold", "editing_threshold",
                                                    "max_post_steps", "temperature", "edit_rule")}
        x = originals.llada2(oracle, 20000, np.random.default_rng(seed), L, V, None, **fields)
        counts = np.bincount(np.ravel_multi_index(x.T, (V,) * L), minlength=V ** L)
        assert chi_square_pvalue(counts, pipeline_law(oracle, sampler, "lowest").ravel()) > 1e-3


@pytest.mark.parametrize("tie", RULES)
@pytest.mark.parametrize("build", EDITING, ids=lambda b: repr(b("lowest")))
def test_each_tie_rule_follows_every_path_of_the_editing_loop(build, tie):
    sampler = build(tie)
    table = exchangeable_table(1)
    for denoiser in (refimpl.oracle_denoiser(table), random_denoiser(np.random.default_rng(4), V, L)):
        np.testing.assert_allclose(refimpl.exact_law(denoiser, sampler, L, V), pipeline_law(denoiser, sampler, tie),
                                   atol=1e-13)
    prompt = np.array([V, 1, V, V])
    oracle = refimpl.oracle_denoiser(table)
    np.testing.assert_allclose(refimpl.exact_law(oracle, sampler, L, V, prompt=prompt),
                               pipeline_law(oracle, sampler, tie, prompt), atol=1e-13)


@pytest.mark.parametrize("build", EDITING, ids=lambda b: repr(b("lowest")))
def test_the_probability_of_a_deciding_tie_with_editing_is_the_paths(build):
    table = exchangeable_table(1)
    for denoiser in (refimpl.oracle_denoiser(table), random_denoiser(np.random.default_rng(4), V, L)):
        chance = refimpl.tie_probability(denoiser, build("lowest"), L, V)
        assert chance == pytest.approx(pipeline_law(denoiser, build("lowest"), "lowest", ties=True), abs=1e-13)
        laws = [refimpl.exact_law(denoiser, build(tie), L, V) for tie in RULES]
        for a, b in itertools.combinations(laws, 2):
            assert refimpl.tv(a, b) <= chance + 1e-13
