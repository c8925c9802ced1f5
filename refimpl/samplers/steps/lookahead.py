r"""Lookahead steps (rule R10 of SAMPLERS-2026.md): the Info-Gain sampler's bypass (:class:`BypassStep`) and its
candidate actions scored by a one-token lookahead (:class:`InfoGainStep`), as yks23/Information-Gain-Sampler
``src/samplers/info_gain.py`` (0ae2da8) runs them, at token temperature 0 (its default) or above."""
import dataclasses

import numpy as np
from scipy.special import entr

from ...core.numerics import per_count, sample_categorical
from ...engine.layout import code_patterns, pattern_codes
from ...engine.moves import FlatMove
from ...engine.protocol import IF_MASKED, PatternStep
from ...laws import space
from ..kernels.candidates import committed_law, drawn_candidate_law, expected_distinct, first_candidate_law
from ..kernels.subsets import EXCLUDE, HIGHEST, LOWEST, RANDOM
from ..kernels.tokens import temper
from .bypass import block_candidates
from .reveal import Ranked

VARIANTS = ("info_gain", "lookum")


@dataclasses.dataclass(frozen=True)
class InfoGainStep(Ranked, PatternStep):
    r"""One Info-Gain iteration at token temperature 0 in the ``block`` (one model call: the lookahead batch of the
    candidates, or after the trivial choice the next forward).  Each masked position i of the block has its argmax
    token and confidence :math:`c_i = \max_v \mu_i(v)`; with one position, ``candidates`` <= 1 or
    ``position_temperature`` <= 0 it commits the most confident (``tie``).  Otherwise candidate 0 is the most confident
    position, candidates 1..N-1 are drawn i.i.d. from softmax(c / ``position_temperature``) (Gumbel-top-1), repeats
    dropped; each is scored by a lookahead — the mean entropy of the model's answers at every position still masked
    once it is revealed, :math:`H_{next}` — as :math:`J = -H(\mu_i) - H_{next}` (``"info_gain"``) or
    :math:`-H_{next}` (``"lookum"``), and the highest J is committed (the earliest candidate on ties).  Its law in
    closed form: with :math:`S_a` the positions scoring above a and :math:`T_a` those scoring the same, a (not
    candidate 0) is chosen with probability :math:`[(1-\pi(S_a))^{N-1} - (1-\pi(S_a)-\pi(T_a))^{N-1}]\,\pi(a)/\pi(T_a)`
    when candidate 0 scores below a, candidate 0 with :math:`(1 - \pi(S_0))^{N-1}`.

    At ``temperature`` T > 0 each candidate draws every token from the tempered law and reads the (untempered)
    probability of its own draws as confidences; candidate 0's position is the most confident, the others' a draw
    from softmax(c / tau), so a candidate is a (position, token) pair and the law of the committed one is
    :func:`refimpl.samplers.kernels.candidates.committed_law`."""

    block: tuple
    candidates_per_step: int = 8
    position_temperature: float = 0.2
    variant: str = "info_gain"
    tie: str = LOWEST
    passes: int = 1  # 0 where the plan counts its calls in CallSteps (dllm's port)
    calls: str = IF_MASKED
    queries: bool = True
    temperature: float = 0.0
    rows: object = dataclasses.field(default=None, compare=False, repr=False)  # a list: the lookahead rows (runs)

    def candidates(self, patterns):
        return block_candidates(patterns, self.block)

    def reach(self, patterns, vocab_size):
        codes = []
        for pattern in np.asarray(patterns, dtype=bool):
            at = np.flatnonzero(pattern & np.asarray(self.block))
            codes.append(pattern_codes(pattern[None]))
            for j in at:
                after = pattern.copy()
                after[j] = False
                codes.append(pattern_codes(after[None]))
        return code_patterns(np.unique(np.concatenate(codes)), len(self.block))

    def stay_probability(self, pattern):
        return 0.0 if (np.asarray(pattern) & np.asarray(self.block)).any() else 1.0

    def _trivial(self, count):
        return count <= 1 or self.candidates_per_step <= 1 or self.position_temperature <= 0

    def scores(self, z, at, ask, vocab_size, token=None):
        """(N, m) J of revealing each of the positions ``at`` (m,) with its argmax, or with ``token`` (an int), for
        the sources ``z`` (N, L); ``ask(z, positions)`` -> (N, e, V) the model's answers."""
        mu = ask(z, np.tile(at, (len(z), 1)))  # (N, m, V)
        own = entr(mu).sum(axis=-1)  # (N, m): the entropy at the action's position
        out = np.empty(own.shape)
        for e, j in enumerate(at):
            ahead = z.copy()
            ahead[:, j] = np.argmax(mu[:, e], axis=-1) if token is None else token
            left = np.flatnonzero(ahead[0] == vocab_size)  # the same for every source of the pattern
            if left.size:
                nxt = entr(ask(ahead, np.tile(left, (len(z), 1)))).sum(axis=-1)  # (N, r)
                h_next = nxt.sum(axis=1) / (left.size + 1e-10)
            else:
                h_next = np.zeros(len(z))
            out[:, e] = -h_next - (own[:, e] if self.variant == "info_gain" else 0.0)
        return out

    def choice_law(self, conf, score, first):
        """(N, m): the probability that each position is committed given the confidences ``conf`` (N, m), the scores
        ``score`` (N, m) and candidate 0's position ``first`` (N,) (the closed form of the class docstring)."""
        pi = self._position_law(conf)
        draws = self.candidates_per_step - 1
        rows = np.arange(len(conf))
        s0 = score[rows, first]
        out = np.zeros(conf.shape)
        for a in range(conf.shape[1]):
            above = (score > score[:, a:a + 1]).astype(float)
            same = (score == score[:, a:a + 1]).astype(float)
            p_above, p_same = (pi * above).sum(axis=1), (pi * same).sum(axis=1)
            other = ((1 - p_above) ** draws - (1 - p_above - p_same) ** draws) * pi[:, a] / p_same
            out[:, a] = np.where(first == a, (1 - p_above) ** draws, np.where(s0 < score[:, a], other, 0.0))
        return out

    def _firsts(self, conf):
        """[(weight (N,), first (N,))]: candidate 0's position under the tie rule (RANDOM: each tied one)."""
        top = conf == conf.max(axis=1, keepdims=True)
        count = top.sum(axis=1)
        if self.tie in (LOWEST, EXCLUDE):
            return [(np.where(count > 1, 0.0, 1.0) if self.tie == EXCLUDE else np.ones(len(conf)),
                     np.argmax(top, axis=1))]
        if self.tie == HIGHEST:
            return [(np.ones(len(conf)), conf.shape[1] - 1 - np.argmax(top[:, ::-1], axis=1))]
        return [(top[:, a] / count, np.full(len(conf), a)) for a in range(conf.shape[1])]

    def transition(self, states):
        if self.temperature > 0:
            return self._tempered(states)
        vocab_size, length = states.vocab_size, states.length
        index = states.source_index()
        z = space.decode(index, vocab_size, length, partial=True)
        at = np.array([j for j in states.masked if self.block[j]])
        rows = np.stack([states.rows(j).copy() for j in at])  # (m, V, N)
        conf, tokens = rows.max(axis=1).T, np.argmax(rows, axis=1).T  # (N, m)
        law = np.zeros(conf.shape)
        if self._trivial(len(at)):
            for weight, first in self._firsts(conf):
                law[np.arange(len(conf)), first] += weight
        else:
            score = self.scores(z, at, states.query, vocab_size)
            for weight, first in self._firsts(conf):
                law += weight[:, None] * self.choice_law(conf, score, first)
            if self.rows is not None:
                firsts = sum(weight[:, None] * (np.arange(len(at))[None, :] == first[:, None])
                             for weight, first in self._firsts(conf))
                self._count_rows(states, firsts, self._position_law(conf))
        strides = space.strides(vocab_size, length)
        destination = index[None, :] + ((tokens - vocab_size) * strides[at][None, :]).T  # (m, N)
        after = []
        for j in at:
            pattern = states.pattern.copy()
            pattern[j] = False
            after.append(pattern_codes(pattern[None])[0])
        probability = law.T * states.mass.reshape(-1)[None, :]
        return [FlatMove(states.pattern, destination, probability, np.array(after)[:, None])]

    def _tempered(self, states):
        """The transition at token temperature > 0: every (position, token) action with its probability."""
        vocab_size, length = states.vocab_size, states.length
        index = states.source_index()
        z = space.decode(index, vocab_size, length, partial=True)
        at = np.array([j for j in states.masked if self.block[j]])
        mu = np.stack([states.rows(j).copy() for j in at]).transpose(2, 0, 1)  # (N, m, V)
        q = temper(mu, self.temperature)
        law = first_candidate_law(mu, q, self.tie)
        if not self._trivial(len(at)):
            score = np.stack([self.scores(z, at, states.query, vocab_size, v) for v in range(vocab_size)], axis=2)
            drawn = drawn_candidate_law(mu, q, self.position_temperature)
            if self.rows is not None:
                self._count_rows(states, law.sum(axis=2), drawn.sum(axis=2))
            law = committed_law(law, drawn, score, self.candidates_per_step)
        strides = space.strides(vocab_size, length)
        shift = (np.arange(vocab_size)[None, :] - vocab_size) * strides[at][:, None]  # (m, V)
        destination = index[None, :] + shift.reshape(-1, 1)  # (m V, N)
        after = []
        for j in at:
            pattern = states.pattern.copy()
            pattern[j] = False
            after += [pattern_codes(pattern[None])[0]] * vocab_size
        probability = law.reshape(len(index), -1).T * states.mass.reshape(-1)[None, :]
        return [FlatMove(states.pattern, destination, probability, np.array(after)[:, None])]

    def _position_law(self, conf):
        """(N, m): softmax(conf / tau), the position law of candidates 1..N-1 at temperature 0."""
        weights = np.exp((conf - conf.max(axis=1, keepdims=True)) / self.position_temperature)
        return weights / weights.sum(axis=1, keepdims=True)

    def _count_rows(self, states, first, drawn):
        """Add the expected rows of this lookahead batch, weighted by the sources' mass, to ``rows`` (a list)."""
        distinct = expected_distinct(first, drawn, self.candidates_per_step)
        self.rows.append(float(np.dot(states.mass.reshape(-1), distinct)))

    def draw(self, z, mu, rng, model=None):
        """The sampler's own procedure, for a batch at once: candidate 0 by confidence (the tie rule), the others by
        Gumbel-top-1 of c / tau (rng), each with its own tokens at a temperature > 0, repeats dropped, every row's
        distinct candidates looked ahead in one batch through ``model``, the first highest J."""
        vocab_size = mu.shape[-1]
        rows = np.arange(len(z))
        valid = (z == vocab_size) & np.asarray(self.block)[None, :]  # (B, L)
        tokens = self._tokens(mu, rng)  # (B, L)
        conf = np.where(valid, np.take_along_axis(mu, tokens[..., None], axis=-1)[..., 0], -np.inf)
        positions = np.broadcast_to(np.arange(z.shape[1]), z.shape)
        second = rng.random(z.shape) if self.tie == RANDOM else -positions if self.tie == HIGHEST else positions
        first = np.lexsort((second, -conf), axis=1)[:, 0]  # (B,)
        out = z.copy()
        acting = valid.any(axis=1)
        trivial = acting & per_count(self._trivial, valid.sum(axis=1)).astype(bool)
        out[rows[trivial], first[trivial]] = tokens[rows[trivial], first[trivial]]
        ahead = np.flatnonzero(acting & ~trivial)
        if not ahead.size:
            return out
        draws = self.candidates_per_step - 1
        if self.temperature > 0:  # each candidate's own tokens and their confidences
            own = self._tokens(np.repeat(mu[ahead], draws, axis=0), rng).reshape(ahead.size, draws, -1)  # (A, N-1, L)
            seen = np.where(valid[ahead, None, :], np.take_along_axis(mu[ahead, None], own[..., None], axis=-1)[..., 0],
                            -np.inf)
        else:  # the argmax for every candidate
            own, seen = np.broadcast_to(tokens[ahead, None, :], (ahead.size, draws, z.shape[1])), conf[ahead, None, :]
        gumbel = -np.log(-np.log(rng.random((ahead.size, draws, z.shape[1]))))
        drawn = np.argmax(seen / self.position_temperature + gumbel, axis=-1)  # (A, N-1)
        chosen = np.concatenate([first[ahead, None], drawn], axis=1)  # (A, N)
        token = np.concatenate([tokens[ahead, first[ahead], None],
                                np.take_along_axis(own, drawn[..., None], axis=-1)[..., 0]], axis=1)  # (A, N)
        repeat = (chosen[:, :, None] == chosen[:, None, :]) & np.tril(np.ones((draws + 1,) * 2, dtype=bool), -1)
        fresh = ~repeat.any(axis=2)  # (A, N): the first occurrence of each position
        which, slot = np.nonzero(fresh)
        row, where = ahead[which], chosen[which, slot]
        batch = z[row].copy()
        batch[np.arange(len(row)), where] = token[which, slot]
        left = batch == vocab_size
        h_next = np.where(left, entr(model(batch)).sum(axis=-1), 0.0).sum(axis=1) / (left.sum(axis=1) + 1e-10)
        cost = entr(mu[row, where]).sum(axis=-1) if self.variant == "info_gain" else 0.0
        score = np.full(chosen.shape, -np.inf)
        score[which, slot] = -cost - h_next
        best = np.argmax(score, axis=1)
        out[ahead, chosen[np.arange(ahead.size), best]] = token[np.arange(ahead.size), best]
        return out

    def _tokens(self, mu, rng):
        """Every position's token: the argmax at temperature 0 (no draw), else one draw from the tempered law."""
        return np.argmax(mu, axis=-1) if self.temperature == 0 else sample_categorical(temper(mu, self.temperature), rng)
