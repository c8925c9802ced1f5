r"""One reverse step of a sampler, twice: its exact transition and a Monte Carlo draw.

Every sampler in refimpl is a plan — a list of steps — built from the step kinds here.  A step
looks at the masked positions it may fill (``eligible`` and masked), draws tokens from the
denoiser's (tempered) probabilities, and reveals a subset of them:

- :class:`IndependentStep`: each eligible masked position is revealed independently with its own
  probability (MDLM's ancestral step, Dream's ``origin``, a fixed reveal set when it is 0/1);
- :class:`LeftmostStep`: the leftmost eligible masked position;
- :class:`UniformKStep`: k positions uniformly at random (random-k, LLaDA ``random`` remasking);
- :class:`TopKStep`: the k most confident (LLaDA ``low_confidence``, Dream's confidence algorithms), or k
  drawn by confidence (Dream's ``alg_temp``); Dream's ``top_p``/``top_k`` truncate the token law
  (:func:`truncate`);
- :class:`ThresholdStep`: all with confidence >= tau, at least the most confident (Fast-dLLM);
- :class:`FactorStep`: the top r for the first rank r failing 1 - factor/(r+2) (Fast-dLLM's factor rule).

The exact side comes in one of two forms.  ``transition(ctx)`` returns the mass-weighted law of the
destinations of all sources of one mask pattern (see :class:`refimpl.law.PatternContext`);
``subset_law(mu, weight)`` — for steps that reveal a k-subset of the candidates — returns the law of
(subset, tokens) for many patterns at once, which the engine moves in bulk (:mod:`refimpl.bulk`).
``draw(z, mu, rng)`` advances a batch.  The exact and the Monte Carlo sides are written
independently, so agreement between samples and exact laws is a real check.
Ties in confidence are broken by the lowest position first; ties in an argmax by the lowest token.
Each step also says when the original's loop calls the model for it (``calls``: :data:`CALL_RULES`),
which :func:`refimpl.calls.expected_calls` turns into the expected number of model calls.
"""
import dataclasses

import numpy as np
from scipy.special import logsumexp, xlogy

from ..core.numerics import FRESH, sample_categorical
from .subsets import grid_product, grid_sum, plackett_luce_laws, subset_grid, top_k_laws

NEG_INF = -np.inf
SOURCES_FIRST_RATIO = 16  # IndependentStep forms (N, outcomes) when N < 16 x outcomes (measured at V=4, L=8)

# When the original's loop calls the model for a step (``calls``, counted by refimpl.calls.expected_calls):
ALWAYS = "always"  # every iteration, whether or not anything is left to reveal (LLaDA, Dream, MDLM's ddpm)
IF_MASKED = "if masked"  # only while the step's eligible positions hold a mask (Fast-dLLM's loop after a block's first call)
IF_CHANGED = "if changed"  # only when the previous step revealed something (MDLM's ddpm_cache reuses the answer)
CALL_RULES = (ALWAYS, IF_MASKED, IF_CHANGED)


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


def truncate(probs, top_p=None, top_k=None, axis=-1):
    r"""Dream's ``top_p_logits`` then ``top_k_logits`` (its ``sample_tokens``), on probabilities: renormalised
    to the tokens kept; ``None`` keeps every token (and returns ``probs`` itself).

    ``top_p``: in decreasing probability (lowest token first on ties), a token is kept when the
    probability of the tokens before it is at most ``top_p`` — the most probable always, the one that
    crosses ``top_p`` too.  ``top_k``: then every token at least as probable as the k-th most probable
    left (ties with it kept; removed tokens count as 0).  ``top_p >= 1`` truncates nothing (Dream
    skips the step then, so rounding in the cumulative sum never removes a token).
    """
    top_p = None if top_p is not None and top_p >= 1 else top_p  # Dream truncates only when top_p < 1
    if top_p is None and top_k is None:
        return probs
    probs = np.moveaxis(np.asarray(probs, dtype=np.float64), axis, -1)
    kept = probs.copy()
    if top_p is not None:
        order = np.argsort(-probs, axis=-1, kind="stable")
        ranked = np.take_along_axis(probs, order, axis=-1)
        removed = np.zeros(ranked.shape, dtype=bool)
        removed[..., 1:] = np.cumsum(ranked, axis=-1)[..., :-1] > top_p  # Dream's shift: the first stays
        np.put_along_axis(kept, order, np.where(removed, 0.0, ranked), axis=-1)
    if top_k is not None and top_k < probs.shape[-1]:
        kth = -np.sort(-kept, axis=-1)[..., top_k - 1:top_k]
        kept = np.where(kept < kth, 0.0, kept)
    kept /= kept.sum(axis=-1, keepdims=True)
    return np.moveaxis(kept, -1, axis)


def confidences(probs, kind, axis=-1):
    r"""Confidence of each candidate token, shape of ``probs`` (tokens on ``axis``).

    ``drawn``: the probability of the token itself; ``margin``: top-1 minus top-2 probability (the same
    for every token); ``neg_entropy``: :math:`\sum_v p_v \log p_v` (the same for every token; Dream adds
    1e-10 inside the log, refimpl uses the exact entropy).
    """
    if kind == "drawn":
        return probs
    if kind == "margin":
        top2 = np.sort(probs, axis=axis).take([-1, -2], axis=axis)
        first, second = np.split(top2, 2, axis=axis)
        return np.broadcast_to(first - second, probs.shape)
    if kind == "neg_entropy":
        return np.broadcast_to(xlogy(probs, probs).sum(axis=axis, keepdims=True), probs.shape)
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
    top_p: object = None  # Dream's truncation of the drawing law (:func:`truncate`); None: none
    top_k: object = None
    calls: str = ALWAYS  # when the original calls the model for this step (CALL_RULES)

    def reveal_probs(self, masked):
        return np.where(np.asarray(self.eligible) & masked, self.reveal, 0.0)

    def drawing_law(self, probs, axis=-1):
        """q: the tempered probabilities, truncated (:func:`truncate`)."""
        return truncate(temper(probs, self.temperature, axis), self.top_p, self.top_k, axis)

    def outcome_dims(self, pattern, vocab_size):
        """Per masked position of ``pattern`` (in order): V+1 if it may be revealed or stay masked, V if it
        is revealed for sure, 1 if it stays masked — the outcome's axes (what the engine can reach)."""
        probs = self.reveal_probs(pattern)
        return [1 if probs[j] == 0.0 else vocab_size if probs[j] == 1.0 else vocab_size + 1
                for j in np.flatnonzero(pattern)]

    def transition(self, ctx):
        """Mass-weighted product over masked positions, as a block-layout view: axis j of the result has
        size V+1 (token or mask), V when position j is revealed for sure, 1 when it cannot be revealed.

        The product is never formed over the block layout's short axes (V+1 elements each: 8x slower
        per element in NumPy).  When the N sources outnumber the outcomes (few masked positions) it is
        formed as (outcomes of the masked positions so far, N), each factor's axis outermost; otherwise
        as (N, outcomes), each factor's axis prepended to the outcomes, walking the masked positions
        from the last, so that every multiply runs along the longer axis and the engine's add into the
        table walks the masked positions' full-width rows innermost (measured at V=4, L=8 per full
        step: products and adds 150 ms -> 98 ms).
        """
        probs = self.reveal_probs(ctx.pattern)
        vocab_size, sources = ctx.vocab_size, ctx.sources
        dims = self.outcome_dims(ctx.pattern, vocab_size)
        sources_first = sources < SOURCES_FIRST_RATIO * int(np.prod(dims))
        out = ctx.mass.reshape(sources, 1) if sources_first else ctx.mass.reshape(1, sources)
        grown_count = 0
        for j in (reversed(ctx.masked) if sources_first else ctx.masked):
            if probs[j] == 0.0:
                continue  # stays masked: an axis of size 1
            q = self.drawing_law(ctx.rows(j), axis=0)  # (V, N)
            if probs[j] == 1.0:
                factor = q
            else:  # token drawn with probability probs[j] * q, else stays masked
                factor = ctx.buffer("factor", (vocab_size + 1, sources))
                np.multiply(q, probs[j], out=factor[:vocab_size])
                factor[vocab_size] = 1.0 - probs[j]
            if sources_first:
                grown = ctx.buffer(grown_count % 2, (sources, len(factor), out.shape[1]))
                out = np.multiply(out[:, None, :], factor.T[:, :, None], out=grown).reshape(sources, -1)
            else:
                grown = ctx.buffer(grown_count % 2, (len(out), len(factor), sources))
                out = np.multiply(out[:, None, :], factor[None], out=grown).reshape(-1, sources)
            grown_count += 1
        return ctx.block_view(out, dims, sources_first)

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        masked = z == vocab_size
        probs = np.stack([self.reveal_probs(row) for row in masked]) if masked.any() else np.zeros(z.shape)
        reveal = rng.random(z.shape) < probs
        values = sample_categorical(self.drawing_law(mu), rng)
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
class UniformKStep:
    """Reveal ``count(available)`` of the eligible masked positions, uniformly at random; values ~ q."""

    eligible: tuple
    count: object
    temperature: float = 1.0
    calls: str = ALWAYS

    def subset_law(self, mu, weight, work=FRESH):
        """Mass-weighted law of (revealed subset, tokens) for S sources (of any mask patterns with e
        candidates): ``mu`` (e, V, S) at the candidates, ``weight`` (S,) the sources' mass -> ``slots``
        (n_sub, k) and the law (n_sub, V**k, S), which may live in the workspace ``work``."""
        slots, _ = subset_grid(mu.shape[0], self.count(mu.shape[0]), mu.shape[1])
        return slots, grid_product(temper(mu, self.temperature, axis=1), slots, weight / len(slots), work)

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        candidates = _eligible_masked(z, self.eligible, vocab_size)
        order = _rank_order(rng.random(z.shape), candidates)  # uniform scores: a uniform random subset
        k = np.array([self.count(int(c)) for c in candidates.sum(axis=1)])
        ranks = np.argsort(order, axis=1)
        values = sample_categorical(temper(mu, self.temperature), rng)
        return np.where((ranks < k[:, None]) & candidates, values, z)


@dataclasses.dataclass(frozen=True)
class TopKStep:
    """Draw x_i ~ q_i at every eligible masked position; reveal the ``count`` most confident — or, with
    ``position_temperature`` tau > 0, ``count`` of them drawn without replacement with probabilities
    proportional to exp(confidence / tau)."""

    eligible: tuple
    count: object
    temperature: float = 1.0
    confidence: str = "drawn"
    tempered_confidence: bool = False
    top_p: object = None  # Dream's truncation (:func:`truncate`); None: none
    top_k: object = None
    position_temperature: float = 0.0  # Dream's alg_temp: > 0 draws the k positions (plackett_luce_laws)
    calls: str = ALWAYS

    def _laws(self, probs, axis=-1):
        """(q, confidences).  Dream's ``sample_tokens`` forms probabilities from logits / T (T > 0) or the
        logits (T = 0), truncated; it draws from them (argmax at T = 0) and, with ``tempered_confidence``,
        takes confidences from them too.  LLaDA takes them from the untempered probabilities."""
        shaped = truncate(temper(probs, self.temperature, axis) if self.temperature > 0 else probs,
                          self.top_p, self.top_k, axis)
        q = shaped if self.temperature > 0 else temper(probs, 0.0, axis)
        return q, confidences(shaped if self.tempered_confidence else probs, self.confidence, axis)

    def subset_law(self, mu, weight, work=FRESH):
        """As :meth:`UniformKStep.subset_law`, for the ``count`` most confident (:func:`top_k_laws`), or
        ``count`` drawn by confidence (:func:`plackett_luce_laws`) when ``position_temperature`` > 0."""
        q, conf = self._laws(mu, axis=1)
        slots, _ = subset_grid(mu.shape[0], self.count(mu.shape[0]), mu.shape[1])
        if self.position_temperature > 0:
            return slots, plackett_luce_laws(q, conf, slots, self.position_temperature, weight)
        return slots, top_k_laws(q, conf, slots, weight, work)

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        candidates = _eligible_masked(z, self.eligible, vocab_size)
        q, conf = self._laws(mu)
        drawn = sample_categorical(q, rng)
        drawn_conf = np.take_along_axis(conf, drawn[..., None], axis=-1)[..., 0]
        if self.position_temperature > 0:  # Gumbel-top-k of conf / tau: k draws without replacement
            drawn_conf = drawn_conf / self.position_temperature - np.log(-np.log(rng.random(z.shape)))
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
    calls: str = ALWAYS

    def transition(self, ctx):
        r"""Mass-weighted law of the destinations as a block-layout view (see
        :meth:`IndependentStep.transition`): each candidate j either reaches the threshold with its
        drawn token, :math:`q_j(v)\,[\mathrm{conf}_j(v) \ge \tau]`, or does not, with probability
        :math:`\sum_u q_j(u)\,[\mathrm{conf}_j(u) < \tau]` — a product over candidates, formed with the
        sources last — except that when none reaches it, the most confident of the drawn tokens (all
        below tau) is revealed instead (:func:`top_k_laws` with k = 1 on q restricted to them).
        Other masked positions stay masked (axes of size 1).
        """
        candidates = [j for j in ctx.masked if self.eligible[j]]
        if not candidates:
            return ctx.mass  # (the engine adds it back in place, without calling this)
        vocab_size, sources, tau = ctx.vocab_size, ctx.sources, self.threshold
        conf = np.empty((len(candidates), vocab_size, sources))  # (e, V, N): the untempered confidence
        for e, j in enumerate(candidates):
            conf[e] = ctx.rows(j)  # (a workspace array, overwritten by the next call)
        q = temper(conf, self.temperature, axis=1)
        below = q * (conf < tau)  # (e, V, N): drawn and under the threshold
        out = ctx.mass.reshape(1, sources)  # (outcomes of the candidates so far, N)
        for e in range(len(candidates)):
            factor = ctx.buffer("factor", (vocab_size + 1, sources))
            np.subtract(q[e], below[e], out=factor[:vocab_size])  # q where conf >= tau (exactly: q - 0)
            np.sum(below[e], axis=0, out=factor[vocab_size])  # does not reach tau: stays masked here
            grown = ctx.buffer(e % 2, (len(out), vocab_size + 1, sources))
            out = np.multiply(out[:, None, :], factor[None], out=grown).reshape(-1, sources)
        blocked = out.reshape((vocab_size + 1,) * len(candidates) + (sources,))
        blocked[(vocab_size,) * len(candidates)] = 0.0  # nobody reaches tau: replaced by the top-1 below
        slots = np.arange(len(candidates))[:, None]  # every single candidate
        top = top_k_laws(below, conf, slots, ctx.mass.reshape(-1))  # (e, V, N)
        for e in range(len(candidates)):
            at = [vocab_size] * len(candidates)
            at[e] = slice(0, vocab_size)
            blocked[tuple(at)] += top[e]
        return ctx.block_view(blocked, self.outcome_dims(ctx.pattern, vocab_size))

    def outcome_dims(self, pattern, vocab_size):
        """As :meth:`IndependentStep.outcome_dims`: every candidate may be revealed or stay masked."""
        return [vocab_size + 1 if self.eligible[j] else 1 for j in np.flatnonzero(pattern)]

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        candidates = _eligible_masked(z, self.eligible, vocab_size)
        drawn = sample_categorical(temper(mu, self.temperature), rng)
        drawn_conf = np.take_along_axis(mu, drawn[..., None], axis=-1)[..., 0]
        ranks = np.argsort(_rank_order(drawn_conf, candidates), axis=1)
        keep = candidates & ((ranks == 0) | (drawn_conf >= self.threshold))
        return np.where(keep, drawn, z)


@dataclasses.dataclass(frozen=True)
class FactorStep:
    r"""Fast-dLLM's factor rule (``get_transfer_index_dynamic``): tokens are drawn at the n eligible masked
    positions and their (untempered) confidences sorted down, :math:`c_{(0)} \ge c_{(1)} \ge \dots`; the
    top r are revealed for the first rank r >= 1 with :math:`c_{(r)} < t_r = 1 - \mathrm{factor}/(r+2)`,
    and all n when no rank fails.  As in Fast-dLLM, all n are revealed also when the first rank to fail
    is the last one (its ``top_i == len(threshs) - 1`` case), so n - 1 is never the count: two masked
    positions are always revealed together.  Ties in ranking: lowest position first.
    """

    eligible: tuple
    factor: float
    temperature: float = 1.0
    calls: str = ALWAYS

    def thresholds(self, count):
        """:math:`t_r = 1 - \\mathrm{factor}/(r + 2)` for the ranks r = 0 .. count - 1 (rank 0 is never tested)."""
        return 1.0 - self.factor / (np.arange(count) + 2.0)

    @staticmethod
    def counts(count):
        """How many of ``count`` candidates the rule can reveal: 1 .. count - 2, or all."""
        return list(range(1, count - 1)) + [count] if count > 2 else [count]

    def transition(self, ctx):
        r"""Mass-weighted law of the destinations as a block-layout view (see :meth:`ThresholdStep.transition`).

        Revealing the set S of k candidates with tokens :math:`x_S` (k <= n - 2) has probability
        :math:`\prod_{i \in S} q_i(x_i)\,[c_{(r)}(x_S) \ge t_r,\ r = 1..k-1] \prod_{j \notin S} \sum_u q_j(u)
        [\mathrm{key}_j(u) < w][\mathrm{conf}_j(u) < t_k]`, w the weakest key in S: the ranks inside S pass
        and every candidate left out draws a lower key whose confidence fails :math:`t_k` — the top-k law
        of :func:`top_k_laws` with the left-out candidates held to the tokens under :math:`t_k`.  Revealing
        all n needs only ranks 1 .. n - 2 to pass.
        """
        candidates = [j for j in ctx.masked if self.eligible[j]]
        if not candidates:
            return ctx.mass  # (the engine adds it back in place, without calling this)
        vocab_size, sources, count = ctx.vocab_size, ctx.sources, len(candidates)
        conf = np.empty((count, vocab_size, sources))  # (e, V, N): the untempered confidence
        for a, j in enumerate(candidates):
            conf[a] = ctx.rows(j)  # (a workspace array, overwritten by the next call)
        q = temper(conf, self.temperature, axis=1)
        limits = self.thresholds(count)
        weight = ctx.mass.reshape(-1)
        blocked = ctx.buffer("factor outcomes", (vocab_size + 1,) * count + (sources,))
        blocked.fill(0.0)
        for k in self.counts(count):
            slots, _ = subset_grid(count, k, vocab_size)
            if k == count:
                law = grid_product(q, slots, weight)
            else:
                law = top_k_laws(q, conf, slots, weight, left_out_law=q * (conf < limits[k]))
            tested = k - 1 if k < count else count - 2  # ranks 1 .. tested must pass
            for rank in range(1, tested + 1):  # c_(r) >= t_r: at least r + 1 of S's confidences reach t_r
                law *= grid_sum((conf >= limits[rank]).astype(np.float64), slots) >= rank + 1
            for s, chosen in enumerate(slots):
                at = [vocab_size] * count
                for c in chosen:
                    at[c] = slice(0, vocab_size)
                blocked[tuple(at)] += law[s].reshape((vocab_size,) * k + (sources,))
        return ctx.block_view(blocked, self.outcome_dims(ctx.pattern, vocab_size))

    outcome_dims = ThresholdStep.outcome_dims  # every candidate may be revealed or stay masked

    def draw(self, z, mu, rng):
        vocab_size, length = mu.shape[-1], z.shape[1]
        candidates = _eligible_masked(z, self.eligible, vocab_size)
        drawn = sample_categorical(temper(mu, self.temperature), rng)
        drawn_conf = np.take_along_axis(mu, drawn[..., None], axis=-1)[..., 0]
        order = _rank_order(drawn_conf, candidates)  # positions by key, strongest first
        ranked = np.take_along_axis(np.where(candidates, drawn_conf, NEG_INF), order, axis=1)
        n = candidates.sum(axis=1)
        rank = np.arange(length)
        fails = (ranked < self.thresholds(length)) & (rank >= 1) & (rank < n[:, None])
        first = np.where(fails.any(axis=1), fails.argmax(axis=1), n)  # the first rank to fail, or n
        k = np.where(first >= n - 1, n, first)  # failing first at the last rank reveals all (Fast-dLLM)
        keep = candidates & (np.argsort(order, axis=1) < k[:, None])
        return np.where(keep, drawn, z)
