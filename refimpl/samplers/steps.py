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
        probs = self.reveal_probs(ctx.pattern)
        out = ctx.mass
        for j in ctx.masked:
            q = temper(ctx.mu(j), self.temperature, axis=j)  # value axis is axis j
            factor = np.concatenate([probs[j] * q, np.full(ctx.ones_shape(j), 1.0 - probs[j])], axis=j)
            out = out * factor
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


def _dense_outcome(ctx, columns):
    """Scatter per-(S, x_S) probabilities ``columns`` {flat outcome index: (N,)} into destination layout."""
    flat = np.zeros((ctx.sources, (ctx.vocab_size + 1) ** len(ctx.masked)))
    for column, values in columns:
        flat[:, column] += values
    return ctx.mass * ctx.from_flat(flat)


def _outcome_index(ctx, subset, values):
    """Flat outcome index (base V+1 over the masked positions) of revealing ``values`` at ``subset``."""
    vocab_size, masked = ctx.vocab_size, ctx.masked
    digits = np.full(values.shape[:-1] + (len(masked),), vocab_size)
    for slot, position in enumerate(subset):
        digits[..., masked.index(position)] = values[..., slot]
    return digits @ ((vocab_size + 1) ** np.arange(len(masked) - 1, -1, -1))


@dataclasses.dataclass(frozen=True)
class UniformKStep:
    """Reveal ``count(available)`` of the eligible masked positions, uniformly at random; values ~ q."""

    eligible: tuple
    count: object
    temperature: float = 1.0

    def transition(self, ctx):
        candidates = [j for j in ctx.masked if self.eligible[j]]
        k = self.count(len(candidates))
        q = {j: ctx.flat(temper(ctx.mu(j), self.temperature, axis=j), j) for j in candidates}  # (N, V)
        subsets = list(itertools.combinations(candidates, k))
        grid = value_grid(ctx.vocab_size, k)
        columns = []
        for subset in subsets:
            prob = np.ones((ctx.sources, len(grid)))
            for slot, j in enumerate(subset):
                prob *= q[j][:, grid[:, slot]]
            for col, index in enumerate(_outcome_index(ctx, subset, grid)):
                columns.append((index, prob[:, col] / len(subsets)))
        return _dense_outcome(ctx, columns)

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        candidates = _eligible_masked(z, self.eligible, vocab_size)
        order = _rank_order(rng.random(z.shape), candidates)  # uniform scores: a uniform random subset
        k = np.array([self.count(int(c)) for c in candidates.sum(axis=1)])
        ranks = np.argsort(order, axis=1)
        values = sample_categorical(temper(mu, self.temperature), rng)
        return np.where((ranks < k[:, None]) & candidates, values, z)


def _top_k_outcomes(ctx, candidates, q, conf, k):
    """Exact law of (S, x_S) when the k candidates with the highest (confidence, -position) are kept.

    P(S, x_S) = prod_{i in S} q_i(x_i) * prod_{j not in S} P(key_j < min key of S), with
    key = (confidence of the drawn token, -position).
    """
    grid = value_grid(ctx.vocab_size, k)
    if k == 0:  # nothing is revealed: every source stays where it is
        return [(int(_outcome_index(ctx, (), grid)[0]), np.ones(ctx.sources))]
    columns = []
    for subset in itertools.combinations(candidates, k):
        prob = np.ones((ctx.sources, len(grid)))
        chosen_conf = np.empty((ctx.sources, len(grid), k))
        for slot, i in enumerate(subset):
            prob *= q[i][:, grid[:, slot]]
            chosen_conf[:, :, slot] = conf[i][:, grid[:, slot]]
        lowest = chosen_conf.min(axis=-1)  # (N, G)
        at_lowest = chosen_conf == lowest[..., None]
        weakest = np.max(np.where(at_lowest, np.array(subset), -1), axis=-1)  # position of the min key
        for j in candidates:
            if j in subset:
                continue
            c = conf[j][:, None, :]  # (N, 1, V)
            below = (c < lowest[..., None]) | ((c == lowest[..., None]) & (j > weakest[..., None]))
            prob *= np.sum(q[j][:, None, :] * below, axis=-1)
        for col, index in enumerate(_outcome_index(ctx, subset, grid)):
            columns.append((index, prob[:, col]))
    return columns


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
        candidates = [j for j in ctx.masked if self.eligible[j]]
        q, conf = {}, {}
        for j in candidates:
            q_j, c_j = self._laws(ctx.flat(ctx.mu(j), j))
            q[j], conf[j] = q_j, c_j
        return _dense_outcome(ctx, _top_k_outcomes(ctx, candidates, q, conf, self.count(len(candidates))))

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
        q = {j: ctx.flat(temper(ctx.mu(j), self.temperature, axis=j), j) for j in candidates}
        conf = {j: ctx.flat(ctx.mu(j), j) for j in candidates}
        # case A: the revealed set is {j : conf >= tau}, non-empty — a product over positions
        factors = {j: np.concatenate([q[j] * (conf[j] >= tau), (q[j] * (conf[j] < tau)).sum(1, keepdims=True)], 1)
                   for j in candidates}
        flat = np.ones((ctx.sources, 1))
        for j in ctx.masked:
            f = factors.get(j, np.eye(vocab_size + 1)[vocab_size][None, :].repeat(ctx.sources, 0))
            flat = (flat[:, :, None] * f[:, None, :]).reshape(ctx.sources, -1)
        flat[:, -1] = 0.0  # "nothing reaches tau" is case B
        # case B: nothing reaches tau; the single most confident drawn token is revealed
        for column, values in _top_k_outcomes(ctx, candidates, {j: q[j] * (conf[j] < tau) for j in candidates},
                                              conf, 1):
            flat[:, column] += values
        return ctx.mass * ctx.from_flat(flat)

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        candidates = _eligible_masked(z, self.eligible, vocab_size)
        drawn = sample_categorical(temper(mu, self.temperature), rng)
        drawn_conf = np.take_along_axis(mu, drawn[..., None], axis=-1)[..., 0]
        ranks = np.argsort(_rank_order(drawn_conf, candidates), axis=1)
        keep = candidates & ((ranks == 0) | (drawn_conf >= self.threshold))
        return np.where(keep, drawn, z)
