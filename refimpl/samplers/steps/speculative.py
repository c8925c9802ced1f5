r"""Self-speculative decoding (:class:`SpeculationStep`): one round of sglang's ``LinearSpec`` — a bidirectional
draft of the window, a causal verify pass over it, the agreeing prefix accepted (rule R6 of SAMPLERS-2026.md)."""
import dataclasses

import numpy as np

from ...engine.layout import code_patterns, pattern_codes
from ...engine.moves import FlatMove
from ...engine.protocol import IF_MASKED, PatternStep
from ...laws import space


def _window(pattern, block):
    """(start, size): the round's window — from the first masked position to the end of its block (blocks of
    ``block`` from position 0: sglang's request block holds the tokens accepted before, ``bs - n_masks`` of them)."""
    start = int(np.flatnonzero(pattern)[0])
    return start, min(len(pattern), (start // block + 1) * block) - start


@dataclasses.dataclass(frozen=True)
class SpeculationStep(PatternStep):
    r"""One round at the first masked position j, window W from j to the end of its ``block`` (blocks from position
    0), two model calls (``passes``):

    1. the seed s: the argmax of the causal row for j given everything before — the model's answer at j with j and
       every later position masked;
    2. the draft: :math:`d_i` (i = 1..W-1) the argmax of the model's answer at j+i given the sequence with s at j
       and every later position masked (one bidirectional pass);
    3. the verify: :math:`r_{i-1}` the argmax of the causal row that predicts j+i from s, d_1..d_{i-1};
    4. accepted: c, the number of leading i with :math:`d_i = r_{i-1}`; committed: s, r_0, ..., r_{c-1}.

    The prefix before j must be clean and everything from j masked (a left-to-right decoder).  Ties in an argmax:
    the lowest token.  No position is ranked, so no tie rule."""

    block: int
    calls: str = IF_MASKED
    passes: int = 2
    queries: bool = True

    def candidates(self, patterns):
        patterns = np.asarray(patterns, dtype=bool)
        out = np.zeros_like(patterns)
        for p, pattern in enumerate(patterns):
            if pattern.any():
                start, size = _window(pattern, self.block)
                out[p, start:start + size] = pattern[start:start + size]
        return out

    def reach(self, patterns, vocab_size):
        codes = []
        for pattern in np.asarray(patterns, dtype=bool):
            if not pattern.any():
                codes.append(pattern_codes(pattern[None]))
                continue
            start, size = _window(pattern, self.block)
            for count in range(1, size + 1):
                after = pattern.copy()
                after[start:start + count] = False
                codes.append(pattern_codes(after[None]))
        return code_patterns(np.unique(np.concatenate(codes)), patterns.shape[1])

    def stay_probability(self, pattern):
        return 0.0 if np.asarray(pattern).any() else 1.0

    def round(self, z, ask, vocab_size):
        """(tokens (N, W), accepted (N,)): the tokens a round commits from ``z`` (N, L), all of one mask pattern —
        the first ``accepted`` + 1 of each row — given ``ask(z, at)`` -> (N, e, V), the model's answers at masked
        positions ``at`` (N, e)."""
        start, size = _window(z[0] == vocab_size, self.block)
        rows = np.arange(len(z))
        seeded = z.copy()
        seeded[:, start] = np.argmax(ask(z, np.full((len(z), 1), start))[:, 0], axis=-1)
        tokens = np.empty((len(z), size), dtype=np.int64)
        tokens[:, 0] = seeded[:, start]
        if size == 1:
            return tokens, np.zeros(len(z), dtype=np.int64)
        draft = np.argmax(ask(seeded, np.tile(np.arange(start + 1, start + size), (len(z), 1))), axis=-1)  # (N, W-1)
        drafted = seeded.copy()
        agree = np.ones(len(z), dtype=bool)
        accepted = np.zeros(len(z), dtype=np.int64)
        for i in range(1, size):
            verified = np.argmax(ask(drafted, np.full((len(z), 1), start + i))[:, 0], axis=-1)  # r_{i-1}
            tokens[:, i] = verified
            agree &= draft[:, i - 1] == verified
            accepted += agree
            drafted[rows, start + i] = draft[:, i - 1]  # the causal pass reads the draft, not the verified token
        return tokens, accepted

    def transition(self, states):
        """Each source's round (:meth:`round`, the model read through ``states.query``) as a point mass: option k
        reveals j..j+k, taken by the sources that accept k."""
        vocab_size, length = states.vocab_size, states.length
        index = states.source_index()
        z = space.decode(index, vocab_size, length, partial=True)
        tokens, accepted = self.round(z, states.query, vocab_size)
        start, size = _window(states.pattern, self.block)
        strides = space.strides(vocab_size, length)
        weight = states.mass.reshape(-1)
        offsets = np.cumsum((tokens - vocab_size) * strides[start:start + size][None, :], axis=1)  # (N, W)
        destination = index[None, :] + offsets.T  # (W, N)
        probability = weight[None, :] * (np.arange(size)[:, None] == accepted[None, :])
        after = []
        for count in range(1, size + 1):
            pattern = states.pattern.copy()
            pattern[start:start + count] = False
            after.append(pattern_codes(pattern[None])[0])
        return [FlatMove(states.pattern, destination, probability, np.array(after)[:, None])]

    def draw(self, z, mu, rng, model=None):
        vocab_size = mu.shape[-1]
        ask = lambda x, at: np.take_along_axis(model(x), at[..., None], axis=1)  # noqa: E731
        out = z.copy()
        first = np.argmax(z == vocab_size, axis=1)  # rows of one pattern share their first masked position
        for start in np.unique(first).tolist():
            group = np.flatnonzero(first == start)
            tokens, accepted = self.round(z[group], ask, vocab_size)
            for row, count, drawn in zip(group.tolist(), accepted.tolist(), tokens):
                out[row, start:start + count + 1] = drawn[:count + 1]
        return out
