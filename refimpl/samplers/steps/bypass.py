r"""The steps around an Info-Gain iteration (rule R10 of SAMPLERS-2026.md): the high-confidence bypass
(:class:`BypassStep`) and the model calls of dllm's port that change nothing (:class:`CallStep`)."""
import dataclasses

import numpy as np

from ...core.numerics import sample_categorical, value_grid
from ...engine.layout import code_patterns, pattern_codes
from ...engine.moves import FlatMove
from ...engine.protocol import ALWAYS, IF_MASKED, PatternStep
from ...laws import space
from ..kernels.tokens import temper


def block_candidates(patterns, block):
    return np.asarray(patterns, dtype=bool) & np.asarray(block, dtype=bool)[None, :]


def unchanged(states):
    """The move that leaves every source of the pattern where it is."""
    return FlatMove(states.pattern, states.source_index()[None, :], states.mass.reshape(1, -1),
                    pattern_codes(states.pattern[None]))


@dataclasses.dataclass(frozen=True)
class BypassStep(PatternStep):
    """The high-confidence bypass: when every masked position of the ``block`` has a maximal probability >=
    ``threshold``, all of them take a token at once — the argmax, or at ``temperature`` > 0 a draw from the tempered
    law (the original's ``argmax(logits + T * Gumbel)``), independently — read from the logits the sampler holds: no
    call of its own; otherwise nothing changes."""

    block: tuple
    threshold: float
    calls: str = ALWAYS
    temperature: float = 0.0
    passes = 0

    def candidates(self, patterns):
        return block_candidates(patterns, self.block)

    def reach(self, patterns, vocab_size):
        out = [np.asarray(patterns, dtype=bool), np.asarray(patterns, dtype=bool) & ~np.asarray(self.block)[None, :]]
        return code_patterns(np.unique(np.concatenate([pattern_codes(p) for p in out])), len(self.block))

    def stay_probability(self, pattern):
        return float("nan")  # it depends on the tokens (no plan reads it: nothing calls only if changed)

    def transition(self, states):
        vocab_size, length = states.vocab_size, states.length
        index = states.source_index()
        weight = states.mass.reshape(-1)
        at = [j for j in states.masked if self.block[j]]
        if not at:
            return [unchanged(states)]
        rows = np.stack([states.rows(j).copy() for j in at])  # (m, V, N)
        bypass = (rows.max(axis=1) >= self.threshold).all(axis=0)  # (N,)
        strides = space.strides(vocab_size, length)
        if self.temperature == 0:  # one filling a source: the argmax
            filled = index[None, :] + ((np.argmax(rows, axis=1) - vocab_size) * strides[at][:, None]).sum(axis=0)
            chance = np.ones(filled.shape)
        else:  # every filling, each with its probability under the tempered law
            grid = value_grid(vocab_size, len(at))  # (G, m)
            chance = np.prod(temper(rows, self.temperature, axis=1)[np.arange(len(at)), grid], axis=1)  # (G, N)
            filled = index[None, :] + ((grid - vocab_size) @ strides[at])[:, None]  # (G, N)
        after = states.pattern.copy()
        after[at] = False
        codes = np.array([pattern_codes(states.pattern[None])[0]] + [pattern_codes(after[None])[0]] * len(filled))
        return [FlatMove(states.pattern, np.concatenate([index[None, :], filled]),
                         np.concatenate([(weight * ~bypass)[None, :], weight * bypass * chance]), codes[:, None])]

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        masked = (z == vocab_size) & np.asarray(self.block)[None, :]
        top = np.where(masked, mu.max(axis=-1), np.inf)
        bypass = (top >= self.threshold).all(axis=1) & masked.any(axis=1)
        tokens = np.argmax(mu, axis=-1) if self.temperature == 0 else sample_categorical(temper(mu, self.temperature),
                                                                                         rng)
        return np.where(masked & bypass[:, None], tokens, z)


@dataclasses.dataclass(frozen=True)
class CallStep(PatternStep):
    """A model call that changes nothing, made while the ``block`` holds at least ``least`` masked positions (dllm's
    Info-Gain port: the forward at the start of each iteration, ``least`` 1, and the batched lookahead, ``least`` 2 —
    with one position left it commits without looking ahead)."""

    block: tuple
    least: int = 1
    calls: str = IF_MASKED

    def candidates(self, patterns):
        inside = block_candidates(patterns, self.block)
        return inside & (inside.sum(axis=1) >= self.least)[:, None]

    def reach(self, patterns, vocab_size):
        return np.asarray(patterns, dtype=bool)

    def stay_probability(self, pattern):
        return 1.0

    def transition(self, states):
        return [unchanged(states)]

    def draw(self, z, mu, rng):
        return z
