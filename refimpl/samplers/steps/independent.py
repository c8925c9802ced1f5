r"""Steps that reveal each eligible masked position independently (:class:`IndependentStep`: MDLM's ancestral
step, Dream's ``origin``, a fixed reveal set when the probabilities are 0/1) or the leftmost one
(:class:`LeftmostStep`)."""
import dataclasses

import numpy as np

from ...core.numerics import sample_categorical
from ...engine.protocol import ALWAYS
from ..kernels.tokens import temper, truncate
from .reveal import PerPatternReveal

SOURCES_FIRST_RATIO = 16  # IndependentStep forms (N, outcomes) when N < 16 x outcomes (docs/PERFORMANCE.md)


@dataclasses.dataclass(frozen=True)
class IndependentStep(PerPatternReveal):
    r"""Reveal each eligible masked position i independently with probability ``reveal[i]``; value ~ q_i."""

    eligible: tuple
    reveal: tuple
    temperature: float = 1.0
    top_p: object = None  # Dream's truncation of the drawing law (:func:`truncate`); None: none
    top_k: object = None
    calls: str = ALWAYS  # when the original calls the model for this step (CALL_RULES)
    categorical: object = None  # (token scale, mask weight, precision): MDLM's draw in that dtype, exactly

    def reveal_probs(self, masked):
        return np.where(np.asarray(self.eligible) & masked, self.reveal, 0.0)

    def token_probabilities(self, probs, axis=-1):
        """q: the tempered probabilities, truncated (:func:`truncate`)."""
        return truncate(temper(probs, self.temperature, axis), self.top_p, self.top_k, axis)

    def categorical_factor(self, rows):
        """(V+1, N): with ``categorical`` = (d, m, precision), the law of MDLM's ``_sample_categorical`` over
        q = (p_x0 d, m) for each source's row p_x0 (``rows`` (V, N)), every quantity held in ``precision``
        (:func:`refimpl.samplers.kernels.precision.categorical_law`); distinct rows computed once."""
        from ..kernels.precision import categorical_law, rounded

        scale, mask, precision = self.categorical
        out, seen = np.empty((len(rows) + 1, rows.shape[1])), {}
        for n in range(rows.shape[1]):
            key = rows[:, n].tobytes()
            if key not in seen:
                tokens = rounded(rounded(rows[:, n], precision) * rounded(scale, precision), precision)
                seen[key] = categorical_law(np.append(tokens, mask), precision)
            out[:, n] = seen[key]
        return out

    def outcome_dims(self, pattern, vocab_size):
        """Per masked position of ``pattern`` (in order): V+1 if it may be revealed or stay masked, V if it
        is revealed for sure, 1 if it stays masked — the outcome's axes (what the engine can reach)."""
        probs = self.reveal_probs(pattern)
        return [1 if probs[j] == 0.0 else vocab_size if probs[j] == 1.0 else vocab_size + 1
                for j in np.flatnonzero(pattern)]

    def transition(self, states):
        """Mass-weighted product over masked positions, as a block-layout view: axis j of the result has
        size V+1 (token or mask), V when position j is revealed for sure, 1 when it cannot be revealed.

        The product is never formed over the block layout's short axes (V+1 elements each: 8x slower
        per element in NumPy).  When the N sources outnumber the outcomes (few masked positions) it is
        formed as (outcomes of the masked positions so far, N), each factor's axis outermost; otherwise
        as (N, outcomes), each factor's axis prepended to the outcomes, walking the masked positions
        from the last, so that every multiply runs along the longer axis and the engine's add into the
        table walks the masked positions' full-width rows innermost (docs/PERFORMANCE.md).
        """
        probs = self.reveal_probs(states.pattern)
        vocab_size, sources = states.vocab_size, states.sources
        dims = self.outcome_dims(states.pattern, vocab_size)
        sources_first = sources < SOURCES_FIRST_RATIO * int(np.prod(dims))
        out = states.mass.reshape(sources, 1) if sources_first else states.mass.reshape(1, sources)
        grown_count = 0
        for j in (reversed(states.masked) if sources_first else states.masked):
            if probs[j] == 0.0:
                continue  # stays masked: an axis of size 1
            if self.categorical is not None:  # MDLM's own draw: the token or the mask, in its precision
                law = self.categorical_factor(states.rows(j))
                factor = law[:vocab_size] if probs[j] == 1.0 else law
            elif probs[j] == 1.0:
                factor = self.token_probabilities(states.rows(j), axis=0)  # (V, N)
            else:  # token drawn with probability probs[j] * q, else stays masked
                q = self.token_probabilities(states.rows(j), axis=0)  # (V, N)
                factor = states.buffer("factor", (vocab_size + 1, sources))
                np.multiply(q, probs[j], out=factor[:vocab_size])
                factor[vocab_size] = 1.0 - probs[j]
            if sources_first:
                grown = states.buffer(grown_count % 2, (sources, len(factor), out.shape[1]))
                out = np.multiply(out[:, None, :], factor.T[:, :, None], out=grown).reshape(sources, -1)
            else:
                grown = states.buffer(grown_count % 2, (len(out), len(factor), sources))
                out = np.multiply(out[:, None, :], factor[None], out=grown).reshape(-1, sources)
            grown_count += 1
        return [states.reveal(states.block_view(out, dims, sources_first))]

    def stay_probability(self, pattern):
        """Every candidate stays masked: the product of their stay probabilities."""
        return float(np.prod(1.0 - self.reveal_probs(pattern)))  # (reveal_probs is 0 outside the candidates)

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        masked = z == vocab_size
        patterns, which = np.unique(masked, axis=0, return_inverse=True)  # reveal_probs once per mask pattern
        probs = np.stack([self.reveal_probs(row) for row in patterns])[np.asarray(which).reshape(-1)]
        if self.categorical is not None:  # the token or the mask from MDLM's draw law, position by position
            flat = mu.reshape(-1, vocab_size)
            law = self.categorical_factor(flat.T).T  # (B L, V+1)
            drawn = sample_categorical(law, rng).reshape(z.shape)
            return np.where(masked & (probs > 0) & (drawn < vocab_size), drawn, z)
        reveal = rng.random(z.shape) < probs
        values = sample_categorical(self.token_probabilities(mu), rng)
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


class AnchorStep(IndependentStep):
    """An :class:`IndependentStep` that reads a pass the plan counts elsewhere (``passes`` 0): the anchor of a
    block-causal decoder, the argmax at a block's first position from the causal pass over the block before (or the
    prompt's prefill)."""

    passes = 0
