r"""Block refinement with editing (:class:`RefineStep`): one iteration of diffusers' ``LLaDA2Pipeline`` loop with
its ``BlockRefinementScheduler.step`` — commit masked positions by confidence, replace committed tokens that
the model now predicts differently and confidently enough.  Not reveal-only: an edit moves a clean token to
another token, and the loop's state (has this block's loop stopped?) is carried by parking
(:mod:`refimpl.engine.protocol`)."""
import dataclasses

import numpy as np

from ...core import validate
from ...core.numerics import sample_categorical, value_grid
from ...engine.layout import pattern_codes, reach_by_dims
from ...engine.moves import FlatMove
from ...engine.protocol import IF_MASKED, PatternStep
from ..kernels.precision import PRECISIONS, operation, rounded
from ..kernels.subsets import LOWEST, grid_product, grid_sum, subset_grid, top_k_reveals
from ..kernels.ties import check_tie, rank_order
from ..kernels.tokens import temper
from .reveal import Ranked

MASK_PHASE, POST_PHASE = "mask", "post"


def drawn_confidence(probs, temperature, axis=-1, precision="float64"):
    """``(q, conf)``: the drawing law softmax(logits / T) and the confidence the scheduler gives a drawn token —
    its probability under q for T > 0 (``_sample_from_logits`` gathers from the tempered softmax), the
    model's own probability of the argmax at T = 0.

    ``precision`` below float64: ``_sample_from_logits`` as the code computes it with the model's logits in that
    dtype — the logits (log-probabilities) rounded, divided by T in the dtype (T > 0 and not 1), the softmax
    of their float32 values (``.float()``) rounded to float32, the draw from it normalised (``torch.multinomial``;
    the law measured for Dream's draws, docs/DESIGN.md), the argmax of the rounded logits at T = 0 (the
    first on equal values)."""
    if precision == "float64":
        q = temper(probs, temperature, axis)
        return q, (probs if temperature == 0 else q)
    with np.errstate(divide="ignore"):
        logits = rounded(np.log(np.asarray(probs, dtype=np.float64)), precision)
    if temperature not in (0.0, 1.0):
        logits = operation(logits / rounded(temperature, "float32"), precision)
    with np.errstate(invalid="ignore"):
        shifted = np.exp(logits - np.max(logits, axis=axis, keepdims=True))
    shaped = rounded(shifted / shifted.sum(axis=axis, keepdims=True), "float32")
    if temperature == 0:
        return np.moveaxis(np.eye(shaped.shape[axis])[np.argmax(logits, axis=axis)], -1, axis), shaped
    return shaped / shaped.sum(axis=axis, keepdims=True), shaped


def substitution_posterior(loo, seen, rate, axis=-1):
    r"""The prediction at a clean position of a model trained on uniform substitutions at ``rate`` r: the
    leave-one-out answer ``loo`` (tokens along ``axis``) times :math:`(1 - r)[v = \text{seen}] + r / V` for the token
    ``seen`` there (shaped as ``loo`` without ``axis``), renormalised.  r = 0 keeps the token seen (no edit is ever
    drawn); r = 1 ignores it (the leave-one-out answer)."""
    vocab_size = loo.shape[axis]
    tokens = np.arange(vocab_size).reshape([-1 if a == axis % loo.ndim else 1 for a in range(loo.ndim)])
    likelihood = (1.0 - rate) * (tokens == np.expand_dims(seen, axis)) + rate / vocab_size
    weighted = loo * likelihood
    return weighted / weighted.sum(axis=axis, keepdims=True)


def commit_law(q, conf, count, threshold, weight, tie=LOWEST):
    r"""``(V+1,)*m + (N,)``: the law of the commits among m masked positions, times ``weight`` (N,) — index V
    on an axis: that position stays masked.

    diffusers' rule: every position draws :math:`x_j \sim q_j`; with H the positions whose confidence is
    above ``threshold`` (strictly), H is committed when :math:`|H| \ge n` (``count``), else the n most
    confident (:math:`\min(n, m)`; ties: lowest position first, or ``tie``).  The first case is a product over positions
    (a token above the threshold, or a miss) kept where at least n are committed; the second is the top-n
    law (:func:`top_k_reveals`) kept where some chosen confidence is at or below the threshold — which
    tokens are chosen decides it, since the n most confident hold all of H.
    """
    m, vocab_size, sources = q.shape
    out = np.zeros((vocab_size + 1,) * m + (sources,))
    if count >= m:  # every position is committed
        slots = np.arange(m)[None, :]
        out[(slice(0, vocab_size),) * m] = grid_product(q, slots, weight)[0].reshape((vocab_size,) * m + (sources,))
        return out
    above = conf > threshold
    product = weight.reshape(1, sources)
    for j in range(m):
        factor = np.concatenate([q[j] * above[j], (q[j] * ~above[j]).sum(axis=0, keepdims=True)])  # (V+1, N)
        product = (product[:, None, :] * factor[None]).reshape(-1, sources)
    committed = (value_grid(vocab_size + 1, m) < vocab_size).sum(axis=1)  # (V+1)^m outcomes
    product[committed < count] = 0.0  # fewer than n above the threshold: the top-n rule decides
    out += product.reshape(out.shape)
    if count == 0:
        return out
    slots, _ = subset_grid(m, count, vocab_size)
    chosen = top_k_reveals(q, conf, slots, weight, tie=tie) * (grid_sum(above.astype(np.float64), slots) < count)
    for s, subset in enumerate(slots.tolist()):
        at = [vocab_size] * m
        for c in subset:
            at[c] = slice(0, vocab_size)
        out[tuple(at)] += chosen[s].reshape((vocab_size,) * count + (sources,))
    return out


@dataclasses.dataclass(frozen=True)
class RefineStep(Ranked, PatternStep):
    r"""One iteration of ``LLaDA2Pipeline``'s loop in the current ``block`` (diffusers, with
    ``BlockRefinementScheduler.step``): a model call, a token drawn at every block position, then

    - ``phase="mask"`` (the block still holds a mask; ``count`` = the scheduler's ``num_to_transfer`` for this
      step index): commit by :func:`commit_law`, and — when ``editing`` is a threshold — edit;
    - ``phase="post"`` (the block is done): edit only.

    An edit replaces the token at an ``editable`` clean position (in the block, not the prompt) when the drawn
    token differs from it and its confidence is above ``editing`` (strictly).  The model's prediction at a
    clean position is the denoiser's answer there with that position masked
    (:meth:`refimpl.engine.states.PatternStates.clean_rows`).  A step acts only on sequences in its phase (a
    mask step on those whose block holds a mask, a post step on those whose block does not).

    The loop's stop is parking: ``stop`` parks every sequence the step acts on (the last scheduled step, and the
    last post step the loop allows); a post step also parks the sequences it leaves unchanged (the pipeline
    stops when an iteration edits nothing).  ``releases``: the first step of a block releases the sequences
    parked in the block before.

    ``substitution_rate`` r: the prediction at a clean position j is instead the posterior of a model trained to
    treat every visible token as a uniform substitution with probability r (LLaDA2.1's token-to-token stream, the
    "E-train" oracle of SAMPLERS-2026.md section 1): the leave-one-out answer times the likelihood of the token
    seen there, :math:`(1 - r)\,[v = z_j] + r / V`, renormalised (:func:`substitution_posterior`).
    """

    block: tuple
    editable: tuple
    count: "int | None"
    threshold: float
    editing: "float | None"
    temperature: float
    phase: str = MASK_PHASE
    stop: bool = False
    releases: bool = False
    calls: str = IF_MASKED
    tie: str = LOWEST  # among equal confidences in the top-n commit (refimpl.samplers.kernels.ties)
    precision: str = "float64"  # the model's logits' dtype, the scheduler's float32 softmax (drawn_confidence)
    substitution_rate: "float | None" = None  # the clean predictions of a model trained on substitutions (below)

    def __post_init__(self):
        check_tie(self.tie, "RefineStep")
        validate.choice(self.precision, PRECISIONS, "RefineStep precision")

    @property
    def parks(self):
        return self.stop or self.phase == POST_PHASE

    def _in_phase(self, patterns):
        has_mask = (patterns & np.asarray(self.block)[None, :]).any(axis=1)
        return has_mask if self.phase == MASK_PHASE else ~has_mask

    def candidates(self, patterns):
        """Mask phase: the block's masked positions, and its editable clean ones when this step edits; post
        phase: the editable clean positions.  None for a sequence in the other phase."""
        patterns = np.asarray(patterns, dtype=bool)
        block, editable = np.asarray(self.block)[None, :], np.asarray(self.editable)[None, :]
        edits = editable & ~patterns if self.editing is not None or self.phase == POST_PHASE else False
        out = (patterns & block if self.phase == MASK_PHASE else False) | edits
        return np.asarray(out, dtype=bool) & self._in_phase(patterns)[:, None]

    def outcome_dims(self, pattern, vocab_size):
        """Each masked position of the block may be committed or stay masked (V+1); the others stay (1)."""
        return [vocab_size + 1 if self.block[j] and self.phase == MASK_PHASE else 1 for j in np.flatnonzero(pattern)]

    def reach(self, patterns, vocab_size):
        return reach_by_dims(self.outcome_dims, patterns, vocab_size)

    def outcomes(self, candidates, vocab_size):
        return (vocab_size + 1) ** candidates

    def stay_probability(self, pattern):
        """Not defined: whether an edit happens depends on the tokens (no step of a plan that parks reads it:
        none calls the model only if something changed)."""
        return float("nan")

    def transition(self, states):
        r"""The commits (:func:`commit_law`) times, at each editable clean position j, its edit law given the
        source: stay with :math:`s_j = 1 - \sum_{v \ne z_j} e_j(v)`, or move to v with
        :math:`e_j(v) = q_j(v)\,[\mathrm{conf}_j(v) > \text{editing}]` — independent across positions given the
        source, so the outcome is a product; with the options each source has at j listed (its own token first,
        then the tokens it can move to), the destinations are flat indices (:class:`FlatMove`).
        """
        vocab_size, sources = states.vocab_size, states.sources
        weight = states.mass.reshape(-1)
        committing = [j for j in states.masked if self.block[j]] if self.phase == MASK_PHASE else []
        if committing:
            rows = np.stack([states.rows(j).copy() for j in committing])  # (m, V, N)
            q, conf = drawn_confidence(rows, self.temperature, axis=1, precision=self.precision)
            commits = commit_law(q, conf, self.count, self.threshold, weight, self.tie).reshape(-1, sources)
        else:
            commits = weight.reshape(1, sources)
        editing = [j for j in states.clean if self.editable[j]] if self.editing is not None else []
        if not editing:
            dims = self.outcome_dims(states.pattern, vocab_size)
            return [states.reveal(states.block_view(commits, dims), parked=self.parks)]
        strides = (vocab_size + 1) ** np.arange(states.length - 1, -1, -1, dtype=np.int64)
        grid = value_grid(vocab_size + 1, len(committing))  # (outcomes, m): a token, or V (stays masked)
        offset = (grid - vocab_size) @ strides[committing]  # (outcomes,)
        bits = (np.int64(1) << (states.length - 1 - np.array(committing, dtype=np.int64)))
        after = pattern_codes(states.pattern[None])[0] - (grid < vocab_size) @ bits  # (outcomes,)
        destination = states.source_index()[None, :] + offset[:, None]  # (outcomes, N)
        probability = commits
        tokens = value_grid(vocab_size, len(states.clean)).T  # (clean, N): each source's tokens
        for j in editing:
            own = tokens[states.clean.index(j)]  # (N,)
            g = states.clean_rows(j)  # (V, N)
            if self.substitution_rate is not None:
                g = substitution_posterior(g, own, self.substitution_rate, axis=0)
            q, conf = drawn_confidence(g, self.temperature, axis=0, precision=self.precision)
            moves = q * (conf > self.editing)
            moves[own, np.arange(sources)] = 0.0  # drawing its own token is no edit
            options = 1 + int((moves > 0).sum(axis=0).max())
            order = np.argsort(-moves, axis=0, kind="stable")[:options - 1]  # (options - 1, N)
            target = np.concatenate([own[None], order])  # (options, N)
            chance = np.concatenate([1.0 - moves.sum(axis=0, keepdims=True),
                                     np.take_along_axis(moves, order, axis=0)])
            probability = (probability[..., None, :] * chance).reshape(probability.shape[:-1] + (options, sources))
            step = (target - own) * strides[j]
            destination = (destination[..., None, :] + step).reshape(destination.shape[:-1] + (options, sources))
        after = after.reshape((-1,) + (1,) * (probability.ndim - 1))
        if self.phase == POST_PHASE and not self.stop:  # nothing edited: the loop stops for this sequence
            unchanged = (slice(None),) + (0,) * len(editing)
            kept = probability[unchanged].copy()
            moved = probability.copy()
            moved[unchanged] = 0.0
            return [FlatMove(states.pattern, destination[unchanged], kept, after[unchanged], parked=True),
                    FlatMove(states.pattern, destination, moved, after)]
        return [FlatMove(states.pattern, destination, probability, after, parked=self.parks)]

    def predicts(self, z, vocab_size):
        """(B, L) bool: the clean positions whose prediction the step reads (its editable ones, when it edits)."""
        return np.asarray(self.editable)[None, :] & (z != vocab_size) & (self.editing is not None)

    def draw(self, z, mu, rng):
        """The scheduler's step on a batch (``mu`` holds the clean predictions at the editable positions)."""
        vocab_size = mu.shape[-1]
        if self.substitution_rate is not None and self.editing is not None:
            seen = self.predicts(z, vocab_size)
            posterior = substitution_posterior(mu, np.where(seen, z, 0), self.substitution_rate)
            mu = np.where(seen[..., None], posterior, mu)
        q, conf_all = drawn_confidence(mu, self.temperature, precision=self.precision)
        drawn = sample_categorical(q, rng)
        conf = np.take_along_axis(conf_all, drawn[..., None], axis=-1)[..., 0]
        masked = (z == vocab_size) & np.asarray(self.block)[None, :]
        out = z.copy()
        if self.phase == MASK_PHASE:
            high = masked & (conf > self.threshold)
            k = np.minimum(self.count, masked.sum(axis=1))
            ranks = np.argsort(rank_order(conf, masked, self.tie, rng), axis=1)
            top = masked & (ranks < k[:, None])
            commit = np.where((high.sum(axis=1) >= self.count)[:, None], high, top)
            out = np.where(commit, drawn, out)
        if self.editing is not None:
            edit = np.asarray(self.editable)[None, :] & (z != vocab_size) & (drawn != z) & (conf > self.editing)
            out = np.where(edit, drawn, out)
        return out

    def park(self, before, after):
        """(B,) bool: the rows whose loop stops after this step."""
        if self.stop:
            return np.ones(len(before), dtype=bool)
        if self.phase == POST_PHASE:
            return (after == before).all(axis=1)
        return np.zeros(len(before), dtype=bool)
