"""Tie rules (issue #22, ties): every rule of every ranking sampler against following every path of draws
with the ties broken by that rule ("random": averaged over every order of the candidates), on laws whose
positions are exchangeable (so confidences tie); a ranking function against the same enumeration and,
with torch installed, torch.topk's own order against a re-written Dream loop that calls torch.topk."""
import functools
import itertools
import math

import numpy as np
import pytest
import refimpl
from refimpl import samplers as S
from refimpl.core.errors import InvalidParameterError
from refimpl.samplers import steps as St
from refimpl.samplers.steps.multi_block import MultiBlockStep

from tests import originals
from tests.engine.test_bulk import _tempered, _token_probs
from tests.helpers import random_denoiser, random_table

V, L = 3, 4
RULES = ("lowest", "highest", "random")


def exchangeable_table(seed, coarse=8):
    """A law unchanged by permuting positions (every position's marginal and conditionals alike), with
    coarse probabilities so that different tokens' confidences tie as well."""
    table = random_table(np.random.default_rng(seed), V, L, concentration=0.5)
    table = sum(np.transpose(table, order) for order in itertools.permutations(range(L))) / math.factorial(L)
    table = np.round(table * coarse * V ** L) + (table > 0)
    return table / table.sum()


def rankings(tie, conf, candidates, k=None):
    """[(weight, ranked candidate indices)]: the orders the rule gives ``conf`` (one per candidate)."""
    count = len(conf)
    if callable(tie):
        full = np.full(L, -np.inf)
        full[candidates] = conf
        kept = [int(p) for p in np.asarray(tie(full[None], k))[0, :k]]
        return [(1.0, [candidates.index(p) for p in kept])]
    if tie == "random":
        orders = list(itertools.permutations(range(count)))
        return [(1.0 / len(orders), sorted(range(count), key=lambda a, o=o: (-conf[a], o[a]))) for o in orders]
    sign = 1 if tie == "lowest" else -1
    return [(1.0, sorted(range(count), key=lambda a: (-conf[a], sign * a)))]


def entropies(step, mu):
    base = _tempered(mu, step.temperature) if getattr(step, "tempered_entropy", False) else mu
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(base > 0, base * np.log(base), 0.0).sum(axis=-1)


def options(step, z, mu, tie):
    """[(probability, kept positions, {position: token}, draw)] of one step from the partial sequence z (draw:
    the tokens drawn at every candidate, None where the kept set is fixed before the draw),
    ties broken by ``tie`` (top-k, threshold, factor and entropy-bound steps; the rules written from the
    samplers' docstrings, independently of refimpl's), every draw of the candidates' tokens enumerated."""
    out = []
    if isinstance(step, St.RefineStep):  # LLaDA2 with editing off: commit those above the threshold, else the top n
        assert step.editing is None
        candidates = [i for i in range(L) if z[i] == V and step.block[i]] if step.phase == "mask" else []
        if not candidates:
            return [(1.0, [], {}, None)]
        q = _tempered(mu, step.temperature)
        conf = mu if step.temperature == 0 else q  # the drawn token's probability under the drawing law
        for x in itertools.product(range(V), repeat=len(candidates)):
            p = np.prod([q[i, v] for i, v in zip(candidates, x)])
            confidence = [conf[i, v] for i, v in zip(candidates, x)]
            high = [a for a in range(len(candidates)) if confidence[a] > step.threshold]
            for weight, ranked in rankings(tie, confidence, candidates):
                chosen = high if len(high) >= step.count else ranked[:min(step.count, len(candidates))]
                out.append((p * weight, [candidates[a] for a in chosen], {candidates[a]: x[a] for a in chosen}, x))
        return out
    if isinstance(step, MultiBlockStep):
        return multi_block_options(step, z, mu, tie)
    candidates = [i for i in range(L) if z[i] == V and step.eligible[i]]
    if isinstance(step, St.EntropyBoundStep):  # the entropies fix the set; draws fill it
        h = entropies(step, mu)
        q = _tempered(mu, step.temperature)
        for weight, ranked in rankings(tie, [-h[i] for i in candidates], candidates):
            if step.acceptance == "bound":  # the prefix whose entropies before each member sum to at most gamma
                kept = [candidates[a] for r, a in enumerate(ranked)
                        if sum(h[candidates[b]] for b in ranked[:r]) <= step.gamma]
            else:  # the least, and every other below (or at most) the threshold
                below = [candidates[a] for a in ranked[1:] if (h[candidates[a]] < step.gamma
                                                               if step.acceptance == "below"
                                                               else h[candidates[a]] <= step.gamma)]
                kept = sorted([candidates[ranked[0]]] + below)
            for drawn in itertools.product(range(V), repeat=len(kept)):
                out.append((weight * np.prod([q[i, v] for i, v in zip(kept, drawn)]), kept, dict(zip(kept, drawn)), None))
        return out
    if isinstance(step, St.IndependentStep):  # a fixed reveal set (an anchor) or nothing
        assert set(step.reveal) <= {0.0, 1.0}
        kept = [i for i in candidates if step.reveal[i] == 1.0]
        q = _tempered(mu, step.temperature)
        return [(float(np.prod([q[i, v] for i, v in zip(kept, drawn)])), kept, dict(zip(kept, drawn)), None)
                for drawn in itertools.product(range(V), repeat=len(kept))]
    if isinstance(step, St.TopKStep):
        q, conf = _token_probs(step, mu)
    else:
        q, conf = _tempered(mu, step.temperature), mu
        if isinstance(step, St.ThresholdStep) and step.temperature > 0:  # Fast-dLLM v2's top-p and drawn confidence
            q = q if step.top_p is None else originals._top_p(q, step.top_p)
            conf = q if step.drawn_confidence else conf
            if step.relative_confidence:  # sglang's sampled confidence: min(max mu, (mu / max mu)^(1/T))
                top = mu.max(axis=-1, keepdims=True)
                conf = np.minimum(top, (mu / top) ** (1.0 / step.temperature))
    for x in itertools.product(range(V), repeat=len(candidates)):
        p = np.prod([q[i, v] for i, v in zip(candidates, x)])
        confidence = [conf[i, v] for i, v in zip(candidates, x)]
        k = step.count(len(candidates)) if isinstance(step, St.TopKStep) else None
        for weight, ranked in rankings(tie, confidence, candidates, k):
            if isinstance(step, St.TopKStep):
                chosen = ranked[:k]
            elif isinstance(step, St.ThresholdStep):  # all at or above (strict: above) tau, else the most confident
                chosen = [a for a in range(len(candidates))
                          if (confidence[a] > step.threshold if step.strict else confidence[a] >= step.threshold)]
                chosen = chosen or ranked[:1]
            else:  # FactorStep: the top r for the first failing rank r >= 1, all if none or the last fails
                top = len(candidates)
                for r in range(1, len(candidates)):
                    if confidence[ranked[r]] < 1 - step.factor / (r + 2):
                        top = r
                        break
                chosen = ranked[:len(candidates) if top == len(candidates) - 1 else top]
            kept = [candidates[a] for a in chosen]
            out.append((p * weight, kept, {candidates[a]: x[a] for a in chosen}, x))
    return out


def multi_block_options(step, z, mu, tie):
    """The options of a multi-block step: the decodable positions (the step's layout) below the threshold, with
    d3LLM-LLaDA's least-entropy one; then, if none is in the forced block, the block's least; orders by ``tie``."""
    decodable, block = (a[0] for a in step.layout((z == V)[None]))
    candidates = [int(i) for i in np.flatnonzero(decodable)]
    if not candidates:
        return [(1.0, [], {}, None)]
    h = entropies(step, mu)
    q = _tempered(mu, step.temperature)
    top = _tempered(mu, 0.0) if step.forced_argmax else q
    below = {i for i in candidates if (h[i] < step.threshold if step.comparison == "<" else h[i] <= step.threshold)}
    out = []
    for weight, ranked in (rankings(tie, [-h[i] for i in candidates], candidates) if step.lowest_always
                           else [(1.0, None)]):
        kept = below | ({candidates[ranked[0]]} if ranked is not None else set())
        inside = [i for i in candidates if block[i]]
        orders = [(1.0, None)] if kept & set(inside) else rankings(tie, [-h[i] for i in inside], inside)
        for weight2, order in orders:
            forced = None if order is None else inside[order[0]]
            chosen = sorted(kept | ({forced} if forced is not None else set()))
            laws = [top[i] if i == forced else q[i] for i in chosen]
            for drawn in itertools.product(range(V), repeat=len(chosen)):
                p = weight * weight2 * np.prod([law[v] for law, v in zip(laws, drawn)])
                out.append((p, chosen, dict(zip(chosen, drawn)), None))
    return out


def path_law(denoiser, sampler, tie, prompt=None, ties=False):
    """The exact law by following every path of draws (:func:`options`), ties broken by ``tie``; with
    ``ties``, instead the probability that a path meets a step whose kept set some order of its tied
    candidates would change (the kept sets under every order of the candidates compared)."""
    start = np.full(L, V) if prompt is None else np.asarray(prompt)
    states = {(tuple(start), False): 1.0}
    for step in sampler.plan(start == V, np.ones(L, dtype=bool)):
        after = {}
        for (z, tied), mass in states.items():
            z = np.array(z)
            mu = refimpl.denoisers.evaluate(denoiser, z[None], V)[0]  # (L, V)
            decided = set()
            if ties:  # the draws whose kept set some order of the candidates changes
                sets = {}
                for _, kept, _, draw in options(step, z, mu, "random"):
                    sets.setdefault(draw, set()).add(tuple(sorted(kept)))
                decided = {draw for draw, kept in sets.items() if len(kept) > 1}
            for p, kept, x, draw in options(step, z, mu, tie):
                new = z.copy()
                for i, v in x.items():
                    new[i] = v
                key = (tuple(new), tied or draw in decided)
                after[key] = after.get(key, 0.0) + mass * p
        states = after
    return ended(states, ties)


def ended(states, ties):
    """From the ended paths ``{(sequence, met a deciding tie): mass}``: the law of the sequences, or with ``ties``
    the mass of the paths that met a deciding tie."""
    if ties:
        return sum(mass for (_, tied), mass in states.items() if tied)
    out = np.zeros((V,) * L)
    for (z, _), mass in states.items():
        out[z] += mass
    return out


SAMPLERS = [
    lambda tie: S.LLaDA(4, temperature=1.0, tie=tie), lambda tie: S.LLaDA(2, temperature=0.0, tie=tie),
    lambda tie: S.LLaDA(4, block_length=2, temperature=0.6, tie=tie),
    lambda tie: S.Dream(3, "maskgit_plus", temperature=0.8, eps=0.3, tie=tie),
    lambda tie: S.Dream(2, "topk_margin", temperature=1.0, eps=0.3, tie=tie),
    lambda tie: S.Dream(3, "entropy", temperature=0.5, eps=0.3, tie=tie),
    lambda tie: S.Threshold(0.4, temperature=1.0, tie=tie), lambda tie: S.Threshold(0.9, block_length=2, tie=tie),
    lambda tie: S.Factor(1.0, temperature=1.0, tie=tie), lambda tie: S.Factor(0.5, temperature=0.0, tie=tie),
    lambda tie: S.EntropyBound(0.5, tie=tie), lambda tie: S.EntropyBound(1.5, temperature=1.0, tie=tie),
    lambda tie: S.LLaDA2(2, threshold=0.4, editing_threshold=0.0, temperature=1.0, tie=tie),
    lambda tie: S.LLaDA2(2, block_length=2, threshold=0.9, editing_threshold=0.0, temperature=0.0, tie=tie),
    lambda tie: S.EntropyThreshold(0.5, temperature=1.0, tie=tie),
    lambda tie: S.EntropyThreshold(0.7, block_length=2, comparison="<=", tie=tie),
    lambda tie: S.MultiBlock(0.5, block_length=2, block_add_threshold=0.5, decoded_token_threshold=0.5, tie=tie),
    lambda tie: S.MultiBlock(0.3, block_length=1, block_add_threshold=0.0, decoded_token_threshold=1.0,
                             temperature=1.0, original="d3llm-dream", tie=tie),
    lambda tie: S.MultiBlock(0.6, block_length=2, block_add_threshold=0.5, decoded_token_threshold=0.5,
                             temperature=0.8, original="d3llm-llada", tie=tie),
    lambda tie: S.HierarchyBlock(0.5, sub_block_length=2, temperature=1.0, top_p=0.9, tie=tie),
    lambda tie: S.HierarchyBlock(0.8, block_length=2, tie=tie),
    lambda tie: S.ShiftConfidence(0.6, num_small_blocks=1, tie=tie),
    lambda tie: S.ShiftConfidence(block_length=2, num_small_blocks=1, alg="entropy", tie=tie),
    lambda tie: S.LowConfidence(0.5, temperature=1.5, tie=tie), lambda tie: S.LowConfidence(0.9, 2, tie=tie),
]


@pytest.mark.parametrize("tie", RULES)
@pytest.mark.parametrize("build", SAMPLERS, ids=lambda b: repr(b("lowest")))
def test_each_tie_rule_follows_every_path_of_draws(build, tie):
    """The closed forms of proofs/confidence_rules.md (tie rules) against the paths, with an oracle and a
    random denoiser, with and without a prompt."""
    sampler = build(tie)
    table = exchangeable_table(1)
    for denoiser in (refimpl.oracle_denoiser(table), random_denoiser(np.random.default_rng(4), V, L)):
        np.testing.assert_allclose(refimpl.exact_law(denoiser, sampler, L, V), path_law(denoiser, sampler, tie),
                                   atol=1e-14)
    prompt = np.array([V, 1, V, V])
    if isinstance(sampler, (S.HierarchyBlock, S.ShiftConfidence, S.LowConfidence)):  # prefix prompts (block ends)
        prompt = np.array([1, V, V, V]) if not isinstance(sampler, S.ShiftConfidence) else np.array([1, 2, V, V])
        if isinstance(sampler, S.ShiftConfidence) and sampler.block_length != 2:
            return
    oracle = refimpl.oracle_denoiser(table)
    np.testing.assert_allclose(refimpl.exact_law(oracle, sampler, L, V, prompt=prompt),
                               path_law(oracle, sampler, tie, prompt), atol=1e-14)


def test_the_rules_differ_where_ties_decide():
    """On the exchangeable law, highest-first is lowest-first mirrored (positions reversed), and the laws
    differ."""
    oracle = refimpl.oracle_denoiser(exchangeable_table(2))
    laws = {tie: refimpl.exact_law(oracle, S.LLaDA(4, temperature=1.0, tie=tie), L, V) for tie in RULES}
    assert refimpl.tv(laws["lowest"], laws["highest"]) > 1e-3
    mirrored = np.transpose(laws["highest"], tuple(range(L))[::-1])  # highest-first is lowest-first mirrored
    np.testing.assert_allclose(mirrored, laws["lowest"], atol=1e-14)


@pytest.mark.parametrize("build", SAMPLERS, ids=lambda b: repr(b("lowest")))
def test_the_probability_of_a_deciding_tie_is_the_paths(build):
    """refimpl.tie_probability against the paths that meet a draw whose kept set depends on the order of its
    tied candidates; and the laws under any two rules differ by a TV of at most that probability
    (proofs/confidence_rules.md, a tie that decides)."""
    table = exchangeable_table(1)
    for denoiser in (refimpl.oracle_denoiser(table), random_denoiser(np.random.default_rng(4), V, L)):
        sampler = build("lowest")
        chance = refimpl.tie_probability(denoiser, sampler, L, V)
        assert chance == pytest.approx(path_law(denoiser, sampler, "lowest", ties=True), abs=1e-13)
        laws = [refimpl.exact_law(denoiser, build(tie), L, V) for tie in RULES]
        for a, b in itertools.combinations(laws, 2):
            assert refimpl.tv(a, b) <= chance + 1e-13
    assert refimpl.tie_probability(refimpl.oracle_denoiser(table), S.Ancestral(steps=4), L, V) == 0.0


def first_position_first(confidence, k):
    """A ranking function: the k candidates of highest confidence, ties broken towards position 1 then 3,
    0, 2 (a fixed priority no built-in rule has)."""
    priority = np.array([2, 0, 3, 1])
    order = np.lexsort((np.broadcast_to(priority, confidence.shape), -confidence), axis=1)
    return order[:, :k]


@pytest.mark.parametrize("build", SAMPLERS[:6], ids=lambda b: repr(b("lowest")))
def test_a_ranking_function_follows_every_path_of_draws(build):
    sampler = build(first_position_first)
    oracle = refimpl.oracle_denoiser(exchangeable_table(3))
    np.testing.assert_allclose(refimpl.exact_law(oracle, sampler, L, V), path_law(oracle, sampler, first_position_first),
                               atol=1e-14)


def test_torch_topk_order_reproduces_a_dream_loop_that_calls_torch():
    """A ranking function equal to torch.topk's order against tests/originals.py's Dream loop ranking with
    torch.topk itself (float64 confidences, as the loop's), chi-square at false-alarm rate 1e-3."""
    torch = pytest.importorskip("torch")
    from tests.helpers import assert_loop_agrees

    def torch_topk(confidence, k):
        return torch.topk(torch.from_numpy(confidence), k).indices.numpy()

    table = exchangeable_table(5)
    oracle = refimpl.oracle_denoiser(table)
    for alg, temperature in (("entropy", 1.0), ("maskgit_plus", 0.5), ("topk_margin", 1.0)):
        sampler = S.Dream(3, alg, temperature, eps=0.3, tie=torch_topk)
        loop = functools.partial(originals.dream, steps=3, alg=alg, temperature=temperature, eps=0.3, topk=torch_topk)
        assert_loop_agrees(loop, sampler, oracle, table, 13)
        lowest = refimpl.exact_law(oracle, S.Dream(3, alg, temperature, eps=0.3), L, V)
        assert refimpl.tv(refimpl.exact_law(oracle, sampler, L, V), lowest) > 0.01  # torch's order is not lowest-first


@pytest.mark.parametrize("ranking, needle", [
    (lambda c, k: np.zeros((len(c), k), dtype=np.int64), "did not return a permutation"),
    (lambda c, k: np.argsort(-c, axis=1)[:, :k].astype(float), "integer array of positions"),
    (lambda c, k: np.argsort(c, axis=1)[:, :k], "did not return a permutation"),  # non-candidates (-inf) first
    (lambda c, k: np.argsort(-c, axis=1)[:, :k - 1], "integer array of positions"),
    (lambda c, k: 1 / 0, "the ranking function failed"),
])
def test_a_bad_ranking_function_is_refused(ranking, needle):
    oracle = refimpl.oracle_denoiser(exchangeable_table(3))
    with pytest.raises(InvalidParameterError, match=needle):
        refimpl.exact_law(oracle, S.LLaDA(2, temperature=1.0, tie=ranking), L, V, prompt=np.array([0, V, V, V]))
    with pytest.raises(InvalidParameterError, match=needle):
        refimpl.sample(oracle, S.LLaDA(2, temperature=1.0, tie=ranking), 5, np.random.default_rng(0), L, V,
                       prompt=np.array([0, V, V, V]))


@pytest.mark.parametrize("build", [lambda t: S.LLaDA(2, tie=t), lambda t: S.Dream(2, "entropy", tie=t),
                                   lambda t: S.Threshold(tie=t), lambda t: S.Factor(tie=t),
                                   lambda t: S.EntropyBound(tie=t), lambda t: S.LLaDA2(4, tie=t)])
def test_an_unknown_tie_rule_is_refused(build):
    with pytest.raises(InvalidParameterError, match="tie must be one of"):
        build("first")
    if not isinstance(build("lowest"), (S.LLaDA, S.Dream)):
        with pytest.raises(InvalidParameterError, match="tie must be one of"):
            build(first_position_first)  # ranking functions: the top-k samplers only


DRAWN = SAMPLERS + [lambda tie: S.LLaDA2(4, temperature=1.0, tie=tie)]


@pytest.mark.parametrize("build, tie", [(b, t) for b in DRAWN for t in ("highest", "random")]
                         + [(b, first_position_first) for b in SAMPLERS[:6]],
                         ids=lambda v: getattr(v, "__name__", v) if not callable(v) or hasattr(v, "__name__")
                         and v.__name__ != "<lambda>" else type(v("lowest")).__name__)
def test_draws_follow_the_exact_law_under_each_rule(build, tie):
    """refimpl.sample's draws (their own ranking code) against the exact law, chi-square at 1e-3."""
    from tests.helpers import assert_loop_agrees

    sampler = build(tie)
    table = exchangeable_table(1)

    def draws(denoiser, n, rng, length, vocab_size, prompt):
        return refimpl.sample(denoiser, sampler, n, rng, length, vocab_size, prompt)

    assert_loop_agrees(draws, sampler, refimpl.oracle_denoiser(table), table, 17)


def test_verify_says_when_the_verdict_depends_on_the_tie_rule():
    """Samples of the highest-first rule checked against the lowest-first sampler: verify fails them, reports
    the tie probability, and says that the highest-first rule passes them (random and lowest do not)."""
    from refimpl.interop.verify import verify_sampler

    table = exchangeable_table(2)
    oracle = refimpl.oracle_denoiser(table)
    highest = S.LLaDA(4, temperature=1.0, tie="highest")

    def draws(denoiser, n, rng, length, vocab_size, prompt):
        return refimpl.sample(denoiser, highest, n, rng, length, vocab_size, prompt)

    result = verify_sampler(draws, S.LLaDA(4, temperature=1.0), oracle, table)
    assert not result["passed"] and result["verdict_depends_on_tie_rule"]
    assert result["tie_rules_passing"] == ["highest"]
    assert result["tie_probability"] == pytest.approx(refimpl.tie_probability(oracle, highest, L, V), abs=1e-15)
    untied = verify_sampler(draws, S.Ancestral(steps=4), oracle, table)
    assert untied["tie_probability"] == 0.0 and "verdict_depends_on_tie_rule" not in untied
