r"""The engine's runner for :data:`refimpl.engine.protocol.PER_PATTERN` steps: one mask pattern at a time.

All partial sequences with the same masked set M share the positions a step can touch, so their
sources (the clean tokens, shape ``(V,)*(L-|M|)``) and their destinations form strided blocks of the
table; a step returns the mass-weighted law of the destinations as moves and the runner adds them in.
Work per step is :math:`\sum_M V^{L-|M|} (V+1)^{|M|} = (2V+1)^L` entries at most for a reveal step.
The patterns are dealt to :data:`GROUPS` groups that run in parallel, each into its own accumulator;
the table is then their sum.

Moves marked ``parked`` go to a second pair of tables instead (one per group), untouched by later steps
until :meth:`PerPattern.release` adds them back: the sequences whose original loop has stopped for now.
"""
import numpy as np

from ..core.numerics import parallel_for
from .layout import block, by_blocks, code_patterns, live_patterns, pattern_codes, sub_patterns, zero_blocks
from .states import PatternStates

GROUPS = 2  # mask patterns are dealt to two fixed groups (one per core); the sum is the same on any machine


def balanced_groups(patterns, work):
    """Deal patterns to GROUPS groups, largest first, each to the group with less work so far.

    The deal depends only on the patterns, so the summation order (and every bit of the result) is
    the same on every machine, however many cores run the groups.
    """
    groups, loads = [[] for _ in range(GROUPS)], [0] * GROUPS
    for k in sorted(range(len(patterns)), key=lambda k: (-work[k], k)):
        g = loads.index(min(loads))
        groups[g].append(patterns[k])
        loads[g] += work[k]
    return groups, loads


class PerPattern:
    """Applies per-pattern steps to the ``mass`` table: the patterns are the sub-patterns of ``prompt_masked``
    and any other pattern a step makes live."""

    def __init__(self, prompt_masked, reader, vocab_size, work):
        self.reader, self.vocab_size = reader, vocab_size
        patterns = list(sub_patterns(prompt_masked))
        self.groups, self.loads = balanced_groups(patterns, [self._size(p) for p in patterns])
        self.known = {pattern.tobytes() for pattern in patterns}
        shape = (vocab_size + 1,) * len(prompt_masked)
        self.accumulators = [work.scratch(f"accumulator {g}", shape) for g in range(GROUPS)]  # zeroed per step
        self.spaces = [work.child(f"group {g}") for g in range(GROUPS)]  # one per thread
        self.work, self.shape = work, shape
        self.parked = None  # the parked tables, one per group (every block valid), made on the first parking

    def _parked_tables(self):
        if self.parked is None:
            self.parked = [self.work.scratch(f"parked {g}", self.shape) for g in range(GROUPS)]
            for table in self.parked:
                table.fill(0.0)
        return self.parked

    def release(self, mass, live):
        """Add the parked mass back into ``mass`` (whose valid blocks are those of ``live``; None: all) and
        clear it; returns the new ``live``.  Nothing parked: ``live`` unchanged."""
        if self.parked is None:
            return live
        first, second = self.parked
        np.add(first, second, out=first)
        held = live_patterns(first, self.vocab_size)
        if live is None:
            np.add(mass, first, out=mass)
        else:
            known = {pattern.tobytes() for pattern in live}
            for pattern in held:
                index = block(pattern, self.vocab_size)
                if pattern.tobytes() in known:
                    mass[index] += first[index]
                else:
                    mass[index] = first[index]
            live = code_patterns(np.union1d(pattern_codes(live), pattern_codes(held)), len(self.shape))
        first.fill(0.0)
        second.fill(0.0)
        return live

    def parked_probability(self):
        """The probability held parked (0.0 when nothing is)."""
        return 0.0 if self.parked is None else float(self.parked[0].sum() + self.parked[1].sum())

    def _size(self, pattern):
        return self.vocab_size ** int(np.sum(~pattern)) * (self.vocab_size + 1) ** int(np.sum(pattern))

    def _admit(self, live):
        """Deal live patterns outside the prompt's masked set (a step re-masked a prompt position) to the
        groups, in C order, each to the group with less work so far — the same on every machine."""
        for pattern in live:
            if pattern.tobytes() not in self.known:
                g = self.loads.index(min(self.loads))
                self.groups[g].append(pattern)
                self.loads[g] += self._size(pattern)
                self.known.add(pattern.tobytes())

    def apply(self, step, mass, stats, flows, live=None):
        """Apply ``step`` to ``mass`` in place; add to ``stats`` and (if not None) append to
        ``flows`` one list of :meth:`refimpl.engine.moves.BlockMove.flows` per group.  Only
        the blocks of the ``live`` patterns (P, L) are read (default: a scan for those holding mass).
        Returns the patterns the step can reach — the next step's ``live`` — or None if not listed.

        When that is cheaper (:func:`refimpl.engine.layout.by_blocks`: few, small blocks), only the reached
        patterns' blocks of the accumulators are cleared and summed; else the whole tables."""
        counts = [[0, 0] for _ in range(GROUPS)]  # patterns, entries
        seen = [None if flows is None else [] for _ in range(GROUPS)]
        live = live_patterns(mass, self.vocab_size) if live is None else live
        self._admit(live)
        acting = step.candidates(live).any(axis=1)
        keys = {pattern.tobytes(): bool(acts) for pattern, acts in zip(live, acting)}
        reached = step.reach(live, self.vocab_size)
        blocks = reached if reached is not None and by_blocks(reached, self.vocab_size, mass.size) else None
        groups = self._groups_for(step)
        if step.parks:
            self._parked_tables()
        parallel_for(lambda g: self._run_group(groups[g], g, step, mass, counts[g], seen[g], keys, blocks),
                     range(GROUPS), elements=mass.size)
        if blocks is None:
            np.add(self.accumulators[0], self.accumulators[1], out=mass)
        else:
            for pattern in blocks:
                index = block(pattern, self.vocab_size)
                np.add(self.accumulators[0][index], self.accumulators[1][index], out=mass[index])
        for g in range(GROUPS):
            stats.patterns += counts[g][0]
            stats.entries += counts[g][1]
            if flows is not None:
                flows.append(seen[g])  # each group's flows summed on their own first (a fixed order)
        return reached

    def _groups_for(self, step):
        """The deal of the patterns for this step: the runner's own, or — for a step that says what a pattern
        costs it (``step.work(pattern, vocab_size)``, e.g. one that re-masks, whose cost does not follow the
        reveal-step estimate) — a deal by that cost, the patterns in C order: the same on every machine."""
        patterns = sorted((p for group in self.groups for p in group), key=lambda p: p.tobytes())
        work = [step.work(p, self.vocab_size) for p in patterns[:1]]
        if not work or work[0] is None:
            return self.groups
        return balanced_groups(patterns, work + [step.work(p, self.vocab_size) for p in patterns[1:]])[0]

    def _run_group(self, patterns, g, step, mass, counts, flows, keys, blocks):
        vocab_size = self.vocab_size
        acc = self.accumulators[g]
        if blocks is None:
            acc.fill(0.0)
        else:  # only these blocks are written, and read back
            zero_blocks(acc, blocks, vocab_size)
        for pattern in patterns:
            acts = keys.get(pattern.tobytes())
            if acts is None:
                continue  # holds no mass (its block of the table is not read)
            index = block(pattern, vocab_size)
            source = mass[index]
            if not source.any():
                continue
            counts[0] += 1
            if not acts:
                acc[index] += source  # nothing this step may change: the mass stays
                counts[1] += source.size
                if flows is not None:
                    flows.append((pattern, pattern, float(source.sum())))
                continue
            for move in step.transition(PatternStates(pattern, source, self.reader, vocab_size, self.spaces[g])):
                counts[1] += move.size
                move.add_to(self.parked[g] if move.parked else acc)
                if flows is not None:
                    flows.extend(move.flows())
