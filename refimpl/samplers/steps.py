r"""One reverse step of a sampler, twice: its exact transition and a Monte Carlo draw.

Every sampler in refimpl is a plan — a list of steps — built from the step kinds here.  A step
looks at the masked positions it may fill (``eligible`` and masked), draws tokens from the
denoiser's (tempered) probabilities, and reveals a subset of them:

- :class:`IndependentStep`: each eligible masked position is revealed independently with its own
  probability (MDLM's ancestral step, Dream's ``origin``, a fixed reveal set when it is 0/1);
- :class:`LeftmostStep`: the leftmost eligible masked position;
- :class:`UniformKStep`: k positions uniformly at random (random-k, LLaDA ``random`` remasking);
- :class:`TopKStep`: the k most confident (LLaDA ``low_confidence``, Dream's confidence algorithms);
- :class:`ThresholdStep`: all with confidence >= tau, at least the most confident (Fast-dLLM).

``transition(ctx)`` returns the mass-weighted law of the destinations of all sources of one mask
pattern (see :class:`refimpl.law.PatternContext`); ``draw(z, mu, rng)`` advances a batch.  The two
are written independently, so agreement between samples and exact laws is a real check.
Ties in confidence are broken by the lowest position first; ties in an argmax by the lowest token.
"""
import dataclasses
import itertools

import numpy as np
from scipy.special import logsumexp, xlogy

from ..numerics import sample_categorical, value_grid

NEG_INF = -np.inf


# ---------------------------------------------------------------------------------------------
# distributions and confidences, shared by the exact and the Monte Carlo paths


def temper(probs, temperature, axis=-1):
    r"""Drawing law :math:`q \propto \mu^{1/T}` (softmax of logits / T); T = 0 is the argmax, lowest token on ties."""
    if temperature == 0:
        top = np.argmax(probs, axis=axis)
        return (np.arange(probs.shape[axis]).reshape([-1 if a == axis % probs.ndim else 1
                                                      for a in range(probs.ndim)])
                == np.expand_dims(top, axis)).astype(np.float64)
    if temperature == 1:
        return probs
    with np.errstate(divide="ignore"):
        logits = np.log(probs) / temperature
    return np.exp(logits - logsumexp(logits, axis=axis, keepdims=True))


def confidence_probs(probs, temperature, tempered):
    """The probabilities confidence is computed from: untempered (LLaDA, Fast-dLLM) or Dream's tempered ones.

    Dream divides the logits by T only when T > 0, so at T = 0 both are the untempered probabilities.
    """
    return temper(probs, temperature) if tempered and temperature > 0 else probs


def confidences(probs, kind):
    r"""Confidence of each candidate token, shape of ``probs`` (..., V).

    ``drawn``: the probability of the token itself; ``margin``: top-1 minus top-2 probability (the same
    for every token); ``neg_entropy``: :math:`\sum_v p_v \log p_v` (the same for every token; Dream adds
    1e-10 inside the log, refimpl uses the exact entropy).
    """
    if kind == "drawn":
        return probs
    if kind == "margin":
        top2 = np.sort(probs, axis=-1)[..., -2:]
        return np.broadcast_to((top2[..., 1] - top2[..., 0])[..., None], probs.shape)
    if kind == "neg_entropy":
        return np.broadcast_to(xlogy(probs, probs).sum(axis=-1, keepdims=True), probs.shape)
    raise AssertionError(f"unknown confidence kind {kind!r}")


# ---------------------------------------------------------------------------------------------
# how many tokens a step reveals


@dataclasses.dataclass(frozen=True)
class FixedCount:
    """Reveal ``k`` tokens (at most the number available)."""

    k: int

    def __call__(self, available):
        return min(self.k, available)


@dataclasses.dataclass(frozen=True)
class FractionCount:
    """Dream's count: ``int(available * fraction)``, or everything on the last step."""

    fraction: float
    last: bool

    def __call__(self, available):
        return available if self.last else int(available * self.fraction)


def _eligible_masked(z, eligible, vocab_size):
    return (z == vocab_size) & np.asarray(eligible)[None, :]  # (B, L)


def _rank_order(conf, candidates):
    """Per row, positions sorted by confidence descending, lowest position first on ties."""
    keyed = np.where(candidates, conf, NEG_INF)
    positions = np.broadcast_to(np.arange(conf.shape[1]), conf.shape)
    return np.lexsort((positions, -keyed), axis=1)  # (B, L)


# ---------------------------------------------------------------------------------------------
# step kinds


@dataclasses.dataclass(frozen=True)
class IndependentStep:
    r"""Reveal each eligible masked position i independently with probability ``reveal[i]``; value ~ q_i."""

    eligible: tuple
    reveal: tuple
    temperature: float = 1.0

    def reveal_probs(self, masked):
        return np.where(np.asarray(self.eligible) & masked, self.reveal, 0.0)

    def transition(self, ctx):
        """Mass-weighted product over masked positions; axis j of the result has size V+1 (token or
        mask), V when position j is revealed for sure, 1 when it cannot be revealed."""
        probs = self.reveal_probs(ctx.pattern)
        vocab_size = ctx.vocab_size
        out = ctx.mass
        for n, j in enumerate(ctx.masked):
            if probs[j] == 0.0:
                continue  # stays masked: axis j keeps size 1
            q = temper(ctx.mu(j), self.temperature, axis=j)  # token on axis j
            if probs[j] == 1.0:
                factor = q
            else:
                shape = list(q.shape)
                shape[j] = vocab_size + 1
                factor = np.empty(shape)  # token drawn with probability probs[j] * q, else stays masked
                head = (slice(None),) * j
                np.multiply(q, probs[j], out=factor[head + (slice(0, vocab_size),)])
                factor[head + (vocab_size,)] = 1.0 - probs[j]
            out = np.multiply(out, factor, out=ctx.buffer(n % 2, np.broadcast_shapes(out.shape, factor.shape)))
        return out

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        masked = z == vocab_size
        probs = np.stack([self.reveal_probs(row) for row in masked]) if masked.any() else np.zeros(z.shape)
        reveal = rng.random(z.shape) < probs
        values = sample_categorical(temper(mu, self.temperature), rng)
        return np.where(reveal & masked, values, z)


@dataclasses.dataclass(frozen=True)
class LeftmostStep(IndependentStep):
    """Reveal the leftmost eligible masked position (left-to-right decoding)."""

    reveal: tuple = ()

    def reveal_probs(self, masked):
        candidates = np.flatnonzero(np.asarray(self.eligible) & masked)
        probs = np.zeros(len(self.eligible))
        if candidates.size:
            probs[candidates[0]] = 1.0
        return probs


@dataclasses.dataclass(frozen=True)
class SparseOutcome:
    """Probabilities ``values`` (N, C) of the outcomes ``columns`` (C,) (flat, base V+1 over the masked
    positions), not yet weighted by the sources' mass; every other outcome has probability zero."""

    columns: np.ndarray
    values: np.ndarray


def _subsets(ctx, candidates, k):
    """All k-subsets of the candidates with every token assignment: the revealed sets and their outcomes.

    Returns ``slots`` (n_sub, k) candidate indices, ``grid`` (G, k) tokens, and the flat outcome index
    (base V+1 over the masked positions) of each (subset, tokens) pair, shape (n_sub, G).
    """
    slots, grid = _subset_grid(len(candidates), k, ctx.vocab_size)
    return slots, grid, _outcome_index(ctx, candidates, slots, grid)


def _subset_grid(count, k, vocab_size):
    """``slots`` (n_sub, k): the k-subsets of ``range(count)``; ``grid`` (G, k): every token assignment."""
    combos = list(itertools.combinations(range(count), k))
    return np.array(combos, dtype=np.int64).reshape(len(combos), k), value_grid(vocab_size, k)


def _outcome_index(ctx, candidates, slots, grid):
    """(n_sub, G): the flat outcome index (base V+1 over the masked positions) of each (subset, tokens)."""
    vocab_size, masked = ctx.vocab_size, ctx.masked
    weights = (vocab_size + 1) ** np.arange(len(masked) - 1, -1, -1)
    where = np.array([masked.index(j) for j in candidates], dtype=np.int64)  # candidate -> masked slot
    index = np.full((len(slots), len(grid)), vocab_size * weights.sum())
    for slot in range(slots.shape[1]):
        column = weights[where[slots[:, slot]]]  # (n_sub,)
        index = index + column[:, None] * (grid[None, :, slot] - vocab_size)
    return index


def _chosen(rows, slots, grid, t):
    """``rows`` (P, e, N, V) -> (P, n_sub, N, G): each subset's t-th chosen candidate's row at its token."""
    return rows[:, slots[:, t]][..., grid[:, t]]


def _chosen_product(rows, slots, grid):
    """(P, n_sub, N, G): the product over each subset's chosen candidates of their row at their token."""
    prob = np.ones((rows.shape[0], len(slots), rows.shape[2], len(grid)))
    for t in range(slots.shape[1]):
        prob *= _chosen(rows, slots, grid, t)
    return prob


@dataclasses.dataclass(frozen=True)
class UniformKStep:
    """Reveal ``count(available)`` of the eligible masked positions, uniformly at random; values ~ q."""

    eligible: tuple
    count: object
    temperature: float = 1.0

    def transition(self, ctx):
        candidates = [j for j in ctx.masked if self.eligible[j]]
        k = self.count(len(candidates))
        q = np.stack([ctx.flat(temper(ctx.mu(j), self.temperature, axis=j), j) for j in candidates])  # (e, N, V)
        slots, grid, index = _subsets(ctx, candidates, k)
        prob = _chosen_product(q[None], slots, grid)[0] / len(slots)  # (n_sub, N, G)
        return SparseOutcome(index.ravel(), prob.transpose(1, 0, 2).reshape(ctx.sources, -1))

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        candidates = _eligible_masked(z, self.eligible, vocab_size)
        order = _rank_order(rng.random(z.shape), candidates)  # uniform scores: a uniform random subset
        k = np.array([self.count(int(c)) for c in candidates.sum(axis=1)])
        ranks = np.argsort(order, axis=1)
        values = sample_categorical(temper(mu, self.temperature), rng)
        return np.where((ranks < k[:, None]) & candidates, values, z)


def _top_k_outcomes(ctx, candidates, q, conf, k):
    """:func:`_top_k_laws` for one mask pattern: the flat outcome indices (n_sub * G,) and their
    probabilities (N, n_sub * G)."""
    slots, grid, index = _subsets(ctx, candidates, k)
    return index.ravel(), _top_k_laws(q[None], conf[None], slots, grid)[0]


def _top_k_laws(q, conf, slots, grid):
    r"""Exact law of (S, x_S) when the k candidates with the highest key (confidence, -position) are
    kept, for P mask patterns with the same numbers of sources and candidates at once.

    .. math::  P(S, x_S) = \prod_{i \in S} q_i(x_i) \prod_{j \notin S} B_j(w, x_w),
               \quad B_j(i, v) = P(\mathrm{key}_j < \mathrm{key}_i(v)) = \sum_u q_j(u) [\mathrm{key}_j(u) < \mathrm{key}_i(v)],

    w the weakest chosen candidate (lowest confidence; on ties the largest position).  The products
    :math:`\prod_{j \notin S} B_j(w, v)` depend on (S, w, v) only, so they are formed once per subset,
    weakest slot and token, and each outcome then takes one of them.  ``q`` and ``conf`` are
    (P, e, N, V) for the e candidates (increasing positions); ``slots`` and ``grid`` from
    :func:`_subset_grid`.  Returns the probabilities (P, N, n_sub * G), subset-major.
    """
    patterns, count, sources, vocab_size = q.shape
    k = slots.shape[1]
    prob = _chosen_product(q, slots, grid)  # (P, n_sub, N, G)
    if 0 < k < count:
        weakest_conf = np.full(prob.shape, np.inf)
        weakest = np.zeros(prob.shape, dtype=np.int64)  # slot of the weakest; slots go by position
        for t in range(k):
            chosen = _chosen(conf, slots, grid, t)
            at_or_below = chosen <= weakest_conf  # ties go to the later slot: the larger position
            weakest[at_or_below] = t
            np.minimum(weakest_conf, chosen, out=weakest_conf)
        later = np.greater.outer(np.arange(count), np.arange(count))[:, :, None, None]  # (e, e, 1, 1): j after i
        pair = np.zeros((patterns, count, count, sources, vocab_size))  # (P, e, e, N, V): B_j(i, v)
        for u in range(vocab_size):
            c_j = conf[:, :, None, :, None, u]  # (P, e, 1, N, 1): candidate j's confidence for token u
            c_i = conf[:, None, :, :, :]  # (P, 1, e, N, V): candidate i's confidence for token v
            pair += q[:, :, None, :, None, u] * ((c_j < c_i) | ((c_j == c_i) & later))
        inside = np.zeros((count, len(slots)), dtype=bool)  # candidate j is in subset s
        inside[slots.T, np.arange(len(slots))[None, :]] = True
        outside = np.ones((patterns, len(slots), k, sources, vocab_size))  # prod_{j not in S} B_j(w, v)
        for j in range(count):
            outside *= np.where(inside[j][None, :, None, None, None], 1.0, pair[:, j][:, slots])
        factor = np.zeros(prob.shape)
        for t in range(k):
            factor += np.where(weakest == t, outside[:, :, t][..., grid[:, t]], 0.0)
        prob *= factor
    return prob.transpose(0, 2, 1, 3).reshape(patterns, sources, -1)


@dataclasses.dataclass(frozen=True)
class TopKStep:
    """Draw x_i ~ q_i at every eligible masked position; reveal the ``count`` most confident."""

    eligible: tuple
    count: object
    temperature: float = 1.0
    confidence: str = "drawn"
    tempered_confidence: bool = False

    def _laws(self, probs):
        conf_probs = confidence_probs(probs, self.temperature, self.tempered_confidence)
        return temper(probs, self.temperature), confidences(conf_probs, self.confidence)

    def transition(self, ctx):
        return self.transitions([ctx])[0]

    def batch_key(self, ctx):
        """Mask patterns with equal keys go through :meth:`transitions` together."""
        return len(ctx.masked), sum(1 for j in ctx.masked if self.eligible[j])

    def transitions(self, ctxs):
        """:meth:`transition` of several mask patterns with the same :meth:`batch_key`, in one pass."""
        candidates = [[j for j in ctx.masked if self.eligible[j]] for ctx in ctxs]
        laws = [[self._laws(ctx.flat(ctx.mu(j), j)) for j in chosen] for ctx, chosen in zip(ctxs, candidates)]
        q = np.array([[law[0] for law in pattern] for pattern in laws])  # (P, e, N, V)
        conf = np.array([[law[1] for law in pattern] for pattern in laws])
        slots, grid = _subset_grid(len(candidates[0]), self.count(len(candidates[0])), ctxs[0].vocab_size)
        probs = _top_k_laws(q, conf, slots, grid)
        return [SparseOutcome(_outcome_index(ctx, chosen, slots, grid).ravel(), prob)
                for ctx, chosen, prob in zip(ctxs, candidates, probs)]

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        candidates = _eligible_masked(z, self.eligible, vocab_size)
        q, conf = self._laws(mu)
        drawn = sample_categorical(q, rng)
        drawn_conf = np.take_along_axis(conf, drawn[..., None], axis=-1)[..., 0]
        ranks = np.argsort(_rank_order(drawn_conf, candidates), axis=1)
        k = np.array([self.count(int(c)) for c in candidates.sum(axis=1)])
        return np.where((ranks < k[:, None]) & candidates, drawn, z)


@dataclasses.dataclass(frozen=True)
class ThresholdStep:
    """Fast-dLLM: reveal every eligible masked position whose drawn token has confidence >= ``threshold``,
    and always at least the most confident one."""

    eligible: tuple
    threshold: float
    temperature: float = 1.0

    def transition(self, ctx):
        candidates = [j for j in ctx.masked if self.eligible[j]]
        if not candidates:
            return ctx.mass
        vocab_size, tau = ctx.vocab_size, self.threshold
        q = np.stack([ctx.flat(temper(ctx.mu(j), self.temperature, axis=j), j) for j in candidates])  # (e, N, V)
        conf = np.stack([ctx.flat(ctx.mu(j), j) for j in candidates])
        reaches = conf >= tau
        # case A: the revealed set is {j : conf >= tau}, non-empty — a product over positions
        stay = np.eye(vocab_size + 1)[vocab_size]
        flat = np.ones((ctx.sources, 1))
        for j in ctx.masked:
            if j in candidates:
                e = candidates.index(j)
                factor = np.concatenate([q[e] * reaches[e], (q[e] * ~reaches[e]).sum(1, keepdims=True)], 1)
            else:
                factor = np.broadcast_to(stay, (ctx.sources, vocab_size + 1))
            flat = (flat[:, :, None] * factor[:, None, :]).reshape(ctx.sources, -1)
        flat[:, -1] = 0.0  # "nothing reaches tau" is case B
        # case B: nothing reaches tau; the single most confident drawn token is revealed
        columns, values = _top_k_outcomes(ctx, candidates, q * ~reaches, conf, 1)
        flat[:, columns] += values
        return ctx.mass * ctx.from_flat(flat)

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        candidates = _eligible_masked(z, self.eligible, vocab_size)
        drawn = sample_categorical(temper(mu, self.temperature), rng)
        drawn_conf = np.take_along_axis(mu, drawn[..., None], axis=-1)[..., 0]
        ranks = np.argsort(_rank_order(drawn_conf, candidates), axis=1)
        keep = candidates & ((ranks == 0) | (drawn_conf >= self.threshold))
        return np.where(keep, drawn, z)
