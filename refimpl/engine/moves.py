r"""Moves: what a step's exact transition returns — destinations in the ``(V+1,)*L`` table and the mass
that reaches them.  The engine adds each move into the next table (``add_to``) and, when asked for the
reveal statistics, reads where the mass went (``flows``).

- :class:`BlockMove`: a strided block of destinations (``table[index]``) and an outcome array of its
  shape — the form of :data:`refimpl.engine.protocol.PER_PATTERN` steps.
- :class:`ScatterMove`: destinations by flat index, added with ``np.add.at`` (several sources may reach
  one destination) — the form of :data:`refimpl.engine.protocol.BY_COUNTS` steps.
- :class:`FlatMove`: destinations by flat index from one mask pattern, each with the pattern it lands in —
  a step that replaces clean tokens (an edit moves token to token, which no strided block holds).

A move with ``parked`` set stops its sequences' loop: the engine keeps that mass aside, untouched by the
steps that follow, until a step that ``releases`` it (:mod:`refimpl.engine.protocol`).
"""
import dataclasses

import numpy as np

from .layout import code_patterns


def add_block(view, outcome):
    """``view += outcome``, iterating in the outcome's memory order: a product step's outcome is a
    transposed view (sources innermost), and NumPy walks a strided add faster along the operand it
    reads contiguously than along the table's short rows (docs/PERFORMANCE.md)."""
    if outcome.flags.c_contiguous:  # already walked in position order, as the table is
        np.add(view, outcome, out=view)
        return
    order = np.argsort([-stride for stride in outcome.strides], kind="stable")
    target = view.transpose(order)
    np.add(target, outcome.transpose(order), out=target)


@dataclasses.dataclass(frozen=True)
class BlockMove:
    r"""``table[index] += outcome``.  ``pattern`` (L,) bool is the source pattern; ``index`` a slice per axis
    of the table: ``slice(0, V)`` a token after the step, ``slice(V, V + 1)`` the mask, ``slice(None)``
    either (the outcome axis then has V+1 entries, the last the mask)."""

    pattern: np.ndarray
    index: tuple
    outcome: np.ndarray
    vocab_size: int
    parked: bool = False

    @property
    def size(self):
        return self.outcome.size

    def add_to(self, table):
        add_block(table[self.index], self.outcome)

    def flows(self):
        """[(pattern before, pattern after, probability)] for every pattern after the step with mass."""
        vocab_size, clean, mask = self.vocab_size, slice(0, self.vocab_size), slice(self.vocab_size, self.vocab_size + 1)
        kept = tuple(a for a, (masked, where) in enumerate(zip(self.pattern, self.index))
                     if not masked and where == clean)
        folded = self.outcome.sum(axis=kept)  # positions clean before and after: summed out first
        axes = [a for a in range(len(self.pattern)) if a not in kept]
        for a, position in enumerate(axes):  # each other axis folded to (clean after, masked after)
            where, size = self.index[position], folded.shape[a]
            revealed = folded.take(range(vocab_size), axis=a).sum(axis=a, keepdims=True) if where != mask else None
            stayed = folded.take([size - 1], axis=a) if where != clean else None
            zero = np.zeros_like(folded.take([0], axis=a))
            folded = np.concatenate([zero if revealed is None else revealed, zero if stayed is None else stayed],
                                    axis=a)
        out = []
        for state in np.ndindex(folded.shape):
            if folded[state]:
                after = np.zeros(len(self.pattern), dtype=bool)
                after[[position for position, masked in zip(axes, state) if masked]] = True
                out.append((self.pattern, after, float(folded[state])))
        return out


class _AddAtFlatIndices:
    """``table.flat[destination] += probability`` with ``np.add.at`` (several sources may reach one destination),
    for the moves that hold flat destinations."""

    @property
    def size(self):
        return self.probability.size

    def add_to(self, table):
        np.add.at(table.reshape(-1), self.destination.reshape(-1), self.probability.reshape(-1))


@dataclasses.dataclass(frozen=True)
class ScatterMove(_AddAtFlatIndices):
    r"""``table.flat[destination] += probability`` (``np.add.at``), both (n, G, P, N): n outcome classes (say,
    revealed subsets) of G outcomes each, for the N sources of P patterns ``before`` (P, L); outcome class
    s of pattern p lands in the pattern ``after()[s, p]`` (``after`` returns (n, P, L) bool; it is called
    only for the reveal statistics)."""

    before: np.ndarray
    after: object  # () -> (n, P, L) bool
    destination: np.ndarray
    probability: np.ndarray
    parked: bool = False

    def flows(self):
        totals, after = self.probability.sum(axis=(1, 3)), self.after()  # (n, P), (n, P, L)
        return [(pattern, after[s, p], float(totals[s, p]))
                for p, pattern in enumerate(self.before) for s in range(len(totals))]


@dataclasses.dataclass(frozen=True)
class FlatMove(_AddAtFlatIndices):
    r"""``table.flat[destination] += probability`` (``np.add.at``; several sources may reach one destination)
    for sources of one mask ``pattern`` (L,) bool; ``after`` (int64, broadcast with ``probability``) is the code
    of the pattern each destination lands in (:func:`refimpl.engine.layout.pattern_codes`), read only for the
    reveal statistics."""

    pattern: np.ndarray
    destination: np.ndarray
    probability: np.ndarray
    after: np.ndarray
    parked: bool = False

    def flows(self):
        codes = np.broadcast_to(self.after, self.probability.shape).reshape(-1)
        found, where = np.unique(codes, return_inverse=True)
        totals = np.bincount(where, weights=self.probability.reshape(-1), minlength=len(found))
        length = len(self.pattern)
        return [(self.pattern, code_patterns(np.array([code]), length)[0], float(total))
                for code, total in zip(found.tolist(), totals.tolist()) if total]
